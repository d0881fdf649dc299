import type { Logger } from './logger.ts';
import type { ProgressSink } from './sync/source.ts';

/**
 * Progress of long runs: one line redrawn in place on a terminal, plain log
 * lines (at most one every few seconds) otherwise, so that CI logs and
 * journald stay readable.
 */
export function createProgress(
  logger: Logger,
  stream: NodeJS.WriteStream = process.stderr
): ProgressSink & { done(): void } {
  const interactive = stream.isTTY === true;
  let lastDraw = -Infinity;
  let lastStage = '';
  let drawn = false;
  return {
    update(stage, done, total) {
      const now = performance.now();
      const stageChanged = stage !== lastStage;
      if (!stageChanged && now - lastDraw < (interactive ? 100 : 5000)) {
        return;
      }
      lastDraw = now;
      lastStage = stage;
      const of = total ? `/${total} (${Math.min(100, Math.round((done / total) * 100))}%)` : '';
      if (interactive) {
        stream.write(`\r\x1b[K${stage}: ${done}${of}`);
        drawn = true;
      } else {
        logger.info({ stage, done, total }, 'progress');
      }
    },
    done() {
      if (drawn) {
        stream.write('\r\x1b[K');
      }
      drawn = false;
    },
  };
}
