import { spawn } from 'node:child_process';
import { existsSync, watch } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli as runCommand } from './support/cli.ts';
import { startEmbeddedPostgres } from '../collector/src/db/embedded.ts';
import { captureLogger, eventually } from './support/serve.ts';

/**
 * The embedded PostgreSQL a user gets without DATABASE_URL: a private data
 * directory, a random password only its owner can read, and a server that
 * heals after its owning process is killed with -9.
 */

const LEGACY_PASSWORD = 'incident_lens';
const isRoot = process.getuid?.() === 0;

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'incident-lens-embedded-'));
  // mkdtemp makes it 0700; as root the server runs as `postgres`, which must pass through it.
  await chmod(root, 0o711);
});
afterAll(async () => {
  if (root) {
    await rm(root, { recursive: true, force: true });
  }
});

function portOf(url: string): number {
  return Number(new URL(url).port);
}

async function login(port: number, password: string): Promise<'ok' | string> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'incident_lens', password, database: 'postgres' });
  try {
    await client.connect();
    await client.end();
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function postmasterPid(dataDir: string): Promise<number> {
  return Number((await readFile(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0]);
}

/** The command line with warnings only, unless the test asks for more. */
function runCli(args: string[], env: NodeJS.ProcessEnv) {
  return runCommand(args, { LOG_LEVEL: 'warn', ...env });
}

describe('the embedded PostgreSQL', () => {
  it('gets a random password in a file only its owner reads, in private directories; an old cluster with the fixed password is moved to it', async () => {
    const dataDir = path.join(root, 'fresh');
    const capture = captureLogger('debug');
    const server = await startEmbeddedPostgres(dataDir, capture.logger);
    const passwordFile = path.join(dataDir, 'pg-password');
    let password: string;
    try {
      password = (await readFile(passwordFile, 'utf8')).trim();
      expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect((await stat(passwordFile)).mode & 0o777).toBe(0o600);
      expect((await stat(passwordFile)).uid).toBe(process.getuid!());
      // The cluster itself: PostgreSQL's own 0700, owned by the user the server runs as.
      const cluster = await stat(path.join(dataDir, 'pg'));
      expect(cluster.mode & 0o777).toBe(0o700);
      if (isRoot) {
        expect(cluster.uid).not.toBe(0);
      } else {
        expect(cluster.uid).toBe(process.getuid!());
      }
      // The directory around it lists nothing to others; as root `postgres` may only pass through.
      expect((await stat(dataDir)).mode & 0o777).toBe(isRoot ? 0o711 : 0o700);

      const port = portOf(server.url('postgres'));
      expect(server.url('postgres')).toContain(password);
      expect(await login(port, password)).toBe('ok');
      expect(await login(port, LEGACY_PASSWORD)).toBe('28P01');
      expect(capture.text()).not.toContain(password);

      // What an earlier version left: the fixed password, and no password file.
      const admin = new pg.Client({ connectionString: server.url('postgres') });
      await admin.connect();
      await admin.query(`ALTER ROLE incident_lens PASSWORD '${LEGACY_PASSWORD}'`);
      await admin.end();
    } finally {
      await server.stop();
    }
    await rm(passwordFile);

    const upgraded = await startEmbeddedPostgres(dataDir, capture.logger);
    try {
      const fresh = (await readFile(passwordFile, 'utf8')).trim();
      expect(fresh).not.toBe(password);
      expect(fresh).not.toBe(LEGACY_PASSWORD);
      const port = portOf(upgraded.url('postgres'));
      expect(await login(port, fresh)).toBe('ok');
      expect(await login(port, LEGACY_PASSWORD)).toBe('28P01');
      expect(capture.text()).toContain('it now has the random one kept in the password file');
      expect(capture.text()).not.toContain(fresh);
    } finally {
      await upgraded.stop();
    }
    // A clean stop leaves no owner behind.
    expect(existsSync(path.join(dataDir, 'pg-owner'))).toBe(false);
  }, 120_000);

  it("keeps initdb's password file out of the shared temp directory, and leaves nothing behind", async () => {
    const dataDir = path.join(root, 'first-run');
    // The command's own temp directory, watched: other processes' files do not show here.
    const tmp = await mkdtemp(path.join(root, 'tmp-'));
    const seenInTmp: string[] = [];
    const watcher = watch(tmp, (_event, name) => name?.startsWith('pg-password-') && seenInTmp.push(name));
    let result: Awaited<ReturnType<typeof runCli>>;
    try {
      result = await runCli(['migrate'], { INCIDENT_LENS_DATA_DIR: dataDir, LOG_LEVEL: 'info', TMPDIR: tmp });
    } finally {
      watcher.close();
    }
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('initialising the embedded PostgreSQL cluster');
    expect(seenInTmp).toEqual([]);
    expect((await readdir(dataDir)).filter((name) => name.startsWith('.initdb-'))).toEqual([]);
  }, 120_000);

  it.runIf(isRoot)(
    'as root, says which directory the postgres user cannot pass through, and starts nothing',
    async () => {
      const closed = path.join(root, 'closed');
      await mkdir(closed, { mode: 0o700 });
      await chmod(closed, 0o700);
      await expect(startEmbeddedPostgres(path.join(closed, 'data'), captureLogger().logger)).rejects.toThrow(
        `the user postgres, which cannot pass through ${closed} (mode 700)`
      );
      expect(existsSync(path.join(closed, 'data', 'pg'))).toBe(false);
    }
  );

  it.each([
    ['with its owner file', true],
    ['without an owner file, as an earlier version left it', false],
  ])(
    'after kill -9 of serve, the next command stops the orphaned server and runs; one whose owner lives is refused (%s)',
    async (_case, ownerFile) => {
      const dataDir = path.join(root, ownerFile ? 'orphan' : 'orphan-legacy');
      const env = {
        INCIDENT_LENS_DATA_DIR: dataDir,
        // Nothing listens there: serve keeps running with its syncs failing, which is all this needs.
        PAGERDUTY_TOKEN: 'orphan-test-token',
        PAGERDUTY_API_URL: 'http://127.0.0.1:9',
      };
      const serve = spawn(process.execPath, [CLI, 'serve', '--port', '0'], {
        env: { PATH: process.env.PATH, LOG_LEVEL: 'info', ...env },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      serve.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      const exited = new Promise((resolve) => serve.once('exit', resolve));
      try {
        await eventually(
          async () => (stderr.includes('"msg":"serve started"') ? true : undefined),
          60_000,
          'serve to start'
        );
      } catch (error) {
        serve.kill('SIGKILL');
        throw new Error(`${(error as Error).message}\n${stderr}`);
      }
      const orphan = await postmasterPid(dataDir);

      if (!ownerFile) {
        await rm(path.join(dataDir, 'pg-owner'));
      }
      // While serve lives, a second command is refused: the database is in use.
      const refused = await runCli(['migrate'], env);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(
        ownerFile
          ? `in use by another process (pid ${serve.pid})`
          : `in use by another process (PostgreSQL pid ${orphan})`
      );

      serve.kill('SIGKILL');
      await exited;
      expect(alive(orphan)).toBe(true);

      const next = await runCli(['migrate'], { ...env, LOG_LEVEL: 'info' });
      expect(next.stderr).not.toContain('in use by another process');
      expect(next.stderr).toContain('the embedded PostgreSQL of a process that died is still running; stopping it');
      expect(next.code, next.stderr).toBe(0);
      expect(next.stdout).toContain('schema is current');
      expect(alive(orphan)).toBe(false);
      // The command stopped its own server too: nothing is left running.
      expect(existsSync(path.join(dataDir, 'pg', 'postmaster.pid'))).toBe(false);
    },
    120_000
  );

  it('the serve safety net logs escaped errors and keeps going; when they keep escaping it stops the database, then exits 1', async () => {
    const dataDir = path.join(root, 'safety-net');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.resolve(import.meta.dirname, 'support/safety-net-child.ts'), dataDir],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      }
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(stdout, stderr).toContain('still serving after 3 escaped errors');
    expect(code, stderr).toBe(1);
    const escaped = stderr.split('\n').filter((line) => line.includes('an error escaped every handler; still serving'));
    expect(escaped.length).toBeGreaterThanOrEqual(10);
    expect(stderr).toContain('thrown in a timer 0');
    expect(stderr).toContain('rejected and never awaited 1');
    expect(stderr).toContain('errors keep escaping; stopping the process');
    // Stopped cleanly before the exit: PostgreSQL removes its pid file on shutdown.
    expect(existsSync(path.join(dataDir, 'pg', 'postmaster.pid'))).toBe(false);
    expect(existsSync(path.join(dataDir, 'pg-owner'))).toBe(false);
  }, 120_000);
});
