// One style for the whole repository: the plugin's, as create-plugin scaffolds it.
export { default } from './plugin/.prettierrc.js';
