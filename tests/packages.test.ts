import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// Tests of pure modules sit beside their code (collector/src/**/*.test.ts,
// common/*.test.ts); what a workspace package carries must leave them out.

const run = promisify(execFile);
const REPO = path.resolve(import.meta.dirname, '..');

describe('the packages npm packs', () => {
  it('carry their modules and no test file', async () => {
    const { stdout } = await run(
      'npm',
      ['pack', '--dry-run', '--json', '--ignore-scripts', '-w', 'collector', '-w', 'common', '-w', 'simulators'],
      { cwd: REPO, maxBuffer: 16 * 1024 * 1024 }
    );
    const packs = JSON.parse(stdout) as Array<{ name: string; files: Array<{ path: string }> }>;
    const files = Object.fromEntries(packs.map((pack) => [pack.name, pack.files.map((file) => file.path)]));
    expect(files['@incident-lens/collector']).toEqual(expect.arrayContaining(['src/config.ts', 'src/severity.ts']));
    expect(files['@incident-lens/common']).toEqual(expect.arrayContaining(['format.ts']));
    expect(files['@incident-lens/simulators']).toEqual(expect.arrayContaining(['src/index.ts']));
    for (const [name, paths] of Object.entries(files)) {
      expect(
        paths.filter((file) => /\.test\.tsx?$/.test(file)),
        name
      ).toEqual([]);
    }
  });
});
