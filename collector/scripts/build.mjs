// Compiles the collector to JavaScript under collector/dist/js (run by the
// root `prepare` script, so `npm ci` leaves a runnable `incident-lens`).
// The workspace packages it imports (common, simulators) are bundled in, and
// so are BUNDLED below; every other dependency stays an import resolved from
// node_modules. Each command's dynamic import becomes its own chunk, so a
// command loads only what it uses. The chunks sit two levels below
// collector/, like the sources in collector/src/<dir>/, so paths relative to
// a module (the SQL directory) hold in both.
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';

const collectorDir = path.resolve(import.meta.dirname, '..');
const outdir = path.join(collectorDir, 'dist/js');
const manifest = JSON.parse(await readFile(path.join(collectorDir, 'package.json'), 'utf8'));
// Pure ES module packages of hundreds of files each: loading them file by
// file took about 0.2 s of CPU apiece, read from one chunk far less.
const BUNDLED = new Set(['kysely', 'zod']);
const external = Object.keys(manifest.dependencies).filter(
  (name) => !name.startsWith('@incident-lens/') && !BUNDLED.has(name)
);

await rm(path.join(collectorDir, 'dist'), { recursive: true, force: true });
await build({
  entryPoints: [path.join(collectorDir, 'src/cli.ts')],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  external,
  sourcemap: 'linked',
  logLevel: 'warning',
});
