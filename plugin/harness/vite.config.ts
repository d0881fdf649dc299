import { createRequire } from 'node:module';
import path from 'node:path';
import { defineConfig } from 'vite';

const require = createRequire(import.meta.url);
const runtimeEsm = path.join(path.dirname(require.resolve('@grafana/runtime/package.json')), 'dist/esm');

/**
 * The browser harness: a page that mounts the real app pages and panel with
 * the real @grafana/ui theme. Built, not served by the dev server, so that
 * the aliased runtime module below is the same instance the runtime uses.
 */
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  logLevel: 'warn',
  resolve: {
    alias: { 'harness-plugin-page': path.join(runtimeEsm, 'components/PluginPage.mjs') },
    dedupe: ['react', 'react-dom', '@grafana/data', '@grafana/ui', '@grafana/runtime'],
  },
  build: {
    outDir: path.join(import.meta.dirname, 'dist'),
    emptyOutDir: true,
    chunkSizeWarningLimit: 50_000,
    reportCompressedSize: false,
    rollupOptions: {
      // react-calendar's 'use client' directives mean nothing outside server components.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') {
          warn(warning);
        }
      },
    },
  },
});
