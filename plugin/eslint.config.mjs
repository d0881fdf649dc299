import { defineConfig } from 'eslint/config';
import baseConfig from './.config/eslint.config.mjs';

// The scaffold's rules (.config/), then the project's: the browser harness is
// type-checked like src/, and the deliberate hook-dependency exceptions say why inline.
export default defineConfig([
  {
    ignores: ['harness/dist/'],
  },
  ...baseConfig,
  {
    files: ['harness/**/*.{ts,tsx}'],
    languageOptions: {
      parserOptions: {
        project: './tsconfig.json',
      },
    },
  },
]);
