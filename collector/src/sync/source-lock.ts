import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { InterruptedError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { SourceAccount } from './source.ts';
import { ensureSource } from './store.ts';

/**
 * One PostgreSQL advisory lock per account, keyed by its row in `sources`,
 * so that two `serve` processes, or `serve` and a manual `sync`, never walk
 * the same account's windows at once; two accounts sync side by side.
 * The lock is session-level on a connection held for the whole sync: if the
 * process dies, PostgreSQL ends the session and the lock goes with it.
 */

/** First key of the two-key advisory locks: marks them as incident-lens sync locks. */
export const SYNC_LOCK_CLASS = 0x1e1c_5c00;

/** What to do when another process holds the lock: wait for it (manual sync) or skip (scheduled sync). */
export type WhenBusy = 'wait' | 'skip';

export interface SourceLockOptions {
  whenBusy: WhenBusy;
  logger: Logger;
  /** Stops waiting for the lock (SIGINT/SIGTERM). */
  signal?: AbortSignal;
  /** How often a waiting process asks again; default 1 s. */
  pollMs?: number;
  /** How often the holder checks that its session (and so the lock) is still there; default 1 s. */
  lockCheckMs?: number;
}

/** A check of the lock's session that takes longer than this counts as a lost connection. */
const LOCK_CHECK_TIMEOUT_MS = 10_000;

/** The session holding a source's lock ended while its sync ran. */
export class LockLostError extends Error {
  override readonly name = 'LockLostError';
  constructor(source: string) {
    super(
      `the database connection holding the ${source} sync lock was lost; the sync stopped rather than run unlocked (the next one resumes from the last checkpoint)`
    );
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export type LockedRun<T> = { acquired: true; value: T } | { acquired: false; holderPid: number | null };

/**
 * Runs `work` while holding the source's lock; `lockLost` fires (and the
 * run fails with LockLostError) if the session holding it ends. With `skip`, returns
 * `{ acquired: false }` at once when another session holds it; with `wait`,
 * asks again every `pollMs` until it is free or the signal fires.
 */
export async function withSourceLock<T>(
  db: Kysely<Database>,
  account: SourceAccount,
  options: SourceLockOptions,
  work: (lockLost: AbortSignal) => Promise<T>
): Promise<LockedRun<T>> {
  const key = await ensureSource(db, account);
  const source = account.name;
  return db.connection().execute(async (connection) => {
    const tryLock = async () => {
      const result = await sql<{
        locked: boolean;
      }>`SELECT pg_try_advisory_lock(${SYNC_LOCK_CLASS}, ${key}) AS locked`.execute(connection);
      return result.rows[0]?.locked === true;
    };

    let acquired = await tryLock();
    if (!acquired) {
      const holderPid = await lockHolderPid(db, key);
      if (options.whenBusy === 'skip') {
        options.logger.info(
          { source, holderPid },
          'another process is syncing this source (it holds the sync lock); skipping this run'
        );
        return { acquired: false, holderPid };
      }
      options.logger.info(
        { source, holderPid },
        'another process is syncing this source (it holds the sync lock); waiting for it'
      );
      while (!acquired) {
        try {
          await sleep(options.pollMs ?? 1000, undefined, { signal: options.signal });
        } catch {
          throw new InterruptedError();
        }
        acquired = await tryLock();
      }
    }

    options.logger.debug({ source }, 'sync lock acquired');
    // The lock lives as long as this session: if the connection drops, the work must stop, not go on unlocked.
    const lockLost = new AbortController();
    const watch = setInterval(() => {
      void withTimeout(sql`SELECT 1`.execute(connection), LOCK_CHECK_TIMEOUT_MS).catch((error: unknown) => {
        if (lockLost.signal.aborted) {
          return;
        }
        options.logger.error(
          { source, err: error },
          'the connection holding the sync lock is gone; stopping this sync'
        );
        lockLost.abort(new LockLostError(source));
      });
    }, options.lockCheckMs ?? 1000);
    try {
      const value = await work(lockLost.signal);
      if (lockLost.signal.aborted) {
        throw lockLost.signal.reason;
      }
      return { acquired: true, value };
    } catch (error) {
      throw lockLost.signal.aborted ? lockLost.signal.reason : error;
    } finally {
      clearInterval(watch);
      // Logged before the unlock, so that a log line never claims the lock after another process got it.
      options.logger.debug({ source }, 'sync lock releasing');
      try {
        await sql`SELECT pg_advisory_unlock(${SYNC_LOCK_CLASS}, ${key})`.execute(connection);
      } catch (error) {
        // A broken connection has already lost its session, and the lock with it.
        options.logger.warn(
          { source, err: error },
          'could not release the sync lock; the session is gone, and so is the lock'
        );
      }
    }
  });
}

/** The server process id of the session holding an account's lock (pg_stat_activity.pid), if any. */
export async function lockHolderPid(db: Kysely<Database>, sourceId: number): Promise<number | null> {
  // Two-key advisory locks show in pg_locks as classid, objid with objsubid = 2.
  const result = await sql<{ pid: number }>`
    SELECT pid FROM pg_locks
    WHERE locktype = 'advisory' AND granted
      AND classid = ${SYNC_LOCK_CLASS}::bigint::oid AND objid = ${sourceId}::bigint::oid AND objsubid = 2
    LIMIT 1`.execute(db);
  return result.rows[0]?.pid ?? null;
}
