import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const PLUGIN_DIR = path.join(REPO, 'plugin');
export const PLUGIN_DIST = path.join(PLUGIN_DIR, 'dist');
const CACHE = path.join(REPO, 'node_modules/.cache/incident-lens');
const STAMP = path.join(CACHE, 'plugin-dist.stamp');
const LOCK = path.join(CACHE, 'plugin-dist.lock');

// Everything `npm run build` in plugin/ reads.
const INPUTS = [
  'plugin/src',
  'plugin/.config',
  'plugin/webpack.config.ts',
  'plugin/package.json',
  'plugin/CHANGELOG.md',
  'plugin/LICENSE',
  'provisioning/dashboards',
];

function filesUnder(relative: string): string[] {
  const absolute = path.join(REPO, relative);
  if (!existsSync(absolute)) {
    return [];
  }
  if (!statSync(absolute).isDirectory()) {
    return [relative];
  }
  return readdirSync(absolute, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => filesUnder(path.join(relative, entry.name)));
}

function inputsHash(): string {
  const hash = createHash('sha256');
  for (const file of INPUTS.flatMap(filesUnder)) {
    hash
      .update(file)
      .update('\0')
      .update(readFileSync(path.join(REPO, file)))
      .update('\0');
  }
  return hash.digest('hex');
}

async function withLock<T>(work: () => Promise<T>): Promise<T> {
  await mkdir(CACHE, { recursive: true });
  for (;;) {
    try {
      await mkdir(LOCK);
      break;
    } catch {
      // A build that died holding the lock leaves it behind; no build takes ten minutes.
      const age =
        Date.now() -
        (await stat(LOCK).then(
          (info) => info.mtimeMs,
          () => Date.now()
        ));
      if (age > 600_000) {
        await rm(LOCK, { recursive: true, force: true });
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  try {
    return await work();
  } finally {
    await rm(LOCK, { recursive: true, force: true });
  }
}

/**
 * `npm run build` in plugin/, unless dist/ was built from the same sources:
 * several test files read dist/ and may run at once, so one builds while the
 * others wait for it, and none rebuilds what is already current.
 */
export async function buildPluginDist(): Promise<void> {
  await withLock(async () => {
    const hash = inputsHash();
    const built =
      existsSync(path.join(PLUGIN_DIST, 'module.js')) && (await readFile(STAMP, 'utf8').catch(() => '')) === hash;
    if (built) {
      return;
    }
    await promisify(execFile)('npm', ['run', 'build', '--silent'], { cwd: PLUGIN_DIR, timeout: 300_000 });
    await writeFile(STAMP, hash);
  });
}
