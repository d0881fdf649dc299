import { defineConfig, globalIgnores } from 'eslint/config';
import grafanaConfig from '@grafana/eslint-config';

// The collector and the tests follow the rules create-plugin sets up for the
// plugin (plugin/.config/eslint.config.mjs); plugin/ is linted by its own
// config, from its folder (npm run lint runs both).
export default defineConfig([
  globalIgnores(['**/node_modules/', '**/dist/', 'plugin/', 'tests/.artifacts/', '.incident-lens/', 'coverage/']),
  ...grafanaConfig,
  {
    files: ['**/*.{js,mjs,ts,tsx}'],
    rules: {
      'react/prop-types': 'off',
    },
  },
]);
