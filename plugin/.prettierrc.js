import scaffold from './.config/.prettierrc.js';

// Prettier configuration provided by Grafana scaffolding; the project adds nothing.
export default {
  ...scaffold,
};
