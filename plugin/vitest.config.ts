import { defineProject } from 'vitest/config';

// Unit tests of the plugin's components, pages and pure logic in a simulated DOM.
// The browser test against real Chromium and PostgreSQL lives in tests/ at the root.
export default defineProject({
  test: {
    name: 'plugin',
    root: import.meta.dirname,
    environment: 'happy-dom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['./vitest.setup.ts'],
    // @grafana/ui imports CSS files; Node cannot load them, so Vite transforms the Grafana packages.
    server: { deps: { inline: [/@grafana\//] } },
  },
});
