import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: files run two at a time against the one shared server.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'collector',
          // Integration tests in tests/; tests of pure modules beside their code.
          include: [
            'tests/**/*.test.ts',
            'collector/src/**/*.test.ts',
            'common/**/*.test.ts',
            'simulators/src/**/*.test.ts',
          ],
          globalSetup: ['tests/support/global-setup.ts'],
        },
      },
      // The Grafana plugin's unit tests, in a simulated DOM (plugin/vitest.config.ts).
      'plugin/vitest.config.ts',
    ],
  },
});
