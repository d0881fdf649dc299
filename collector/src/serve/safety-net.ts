import { errorMessage } from '../errors.ts';
import type { Logger } from '../logger.ts';

export interface SafetyNetOptions {
  logger: Logger;
  /**
   * Called once when errors keep escaping (the process is in a state it does
   * not understand): it should release what outlives the process (the
   * embedded PostgreSQL) before the process exits with status 1.
   */
  onFatal: () => Promise<void>;
  /** Escaped errors tolerated within `windowMs` before the state counts as fatal; default 20 in 60 s. */
  maxEscapes?: number;
  windowMs?: number;
  /** How long `onFatal` may take before the process exits anyway; default 8 s. */
  fatalDeadlineMs?: number;
}

/**
 * The last line of defence of a long-running process: an error that escapes
 * every handler (a throw in a callback, a promise nobody awaited) is logged
 * and the process keeps serving, because one bad request or one odd answer
 * must not take down the probes and webhooks of everyone else. Many escapes
 * in a short time mean something is broken for good: the process then stops
 * cleanly instead of limping on. Returns the function that removes the net.
 */
export function installSafetyNet(options: SafetyNetOptions): () => void {
  const { logger } = options;
  const maxEscapes = options.maxEscapes ?? 20;
  const windowMs = options.windowMs ?? 60_000;
  let escapes: number[] = [];
  let fatal = false;

  const escaped = (kind: 'uncaughtException' | 'unhandledRejection', error: unknown) => {
    logger.error({ err: error, kind }, `an error escaped every handler; still serving: ${errorMessage(error)}`);
    const now = performance.now();
    escapes = escapes.filter((at) => at > now - windowMs);
    escapes.push(now);
    if (escapes.length < maxEscapes || fatal) {
      return;
    }
    fatal = true;
    logger.error({ escapes: escapes.length, windowMs }, 'errors keep escaping; stopping the process');
    const deadline = setTimeout(() => process.exit(1), options.fatalDeadlineMs ?? 8000);
    deadline.unref();
    options
      .onFatal()
      .catch((stopError: unknown) =>
        logger.error({ err: stopError }, `stopping after a fatal state failed: ${errorMessage(stopError)}`)
      )
      .finally(() => process.exit(1));
  };
  const onException = (error: Error) => escaped('uncaughtException', error);
  const onRejection = (reason: unknown) => escaped('unhandledRejection', reason);
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}
