import cron, { type ScheduledTask } from 'node-cron';
import { UsageError, errorMessage } from '../errors.ts';
import type { Logger } from '../logger.ts';

/** A piece of recurring work: the configuration key it comes from names it. */
export interface ScheduledJob {
  /** `sync`, `dailyReport`...: the key under `schedule` in the configuration. */
  name: string;
  /** A node-cron expression (five fields, or six with seconds first). */
  expression: string;
  run(): Promise<void>;
}

export type JobStart = 'started' | 'skipped';

export interface JobSchedulerOptions {
  /** IANA zone in which the expressions are read. */
  timezone: string;
  logger: Logger;
  /** Told about every run that did not start because the previous one was still going. */
  onSkipped?: (job: string) => void;
}

/**
 * Drives jobs on their cron expressions. A job still running when its next
 * tick comes is skipped and logged, never stacked: a sync that outlasts its
 * interval must not start a second sync behind it.
 */
export class JobScheduler {
  private readonly running = new Map<string, { startedAt: Date; done: Promise<void> }>();
  private readonly tasks: ScheduledTask[] = [];
  private stopped = false;

  constructor(
    private readonly jobs: readonly ScheduledJob[],
    private readonly options: JobSchedulerOptions
  ) {
    for (const job of jobs) {
      assertCronExpression(`schedule.${job.name}`, job.expression);
    }
  }

  /** Arms every job's timer; nothing runs before the first matching tick. */
  start(): void {
    for (const job of this.jobs) {
      const task = cron.createTask(job.expression, () => void this.trigger(job.name), {
        name: job.name,
        timezone: this.options.timezone,
        logger: cronLogger(this.options.logger),
      });
      this.tasks.push(task);
      void task.start();
    }
    this.options.logger.info(
      { timezone: this.options.timezone, jobs: Object.fromEntries(this.jobs.map((job) => [job.name, job.expression])) },
      'scheduler started'
    );
  }

  /**
   * Starts a job now, outside its schedule (the first sync at start-up),
   * under the same rule: not if it is already running.
   */
  trigger(name: string): JobStart {
    const job = this.jobs.find((candidate) => candidate.name === name);
    if (!job) {
      throw new Error(`no scheduled job named '${name}'`);
    }
    if (this.stopped) {
      return 'skipped';
    }
    const current = this.running.get(name);
    if (current) {
      this.options.logger.warn(
        { job: name, runningSince: current.startedAt.toISOString() },
        'job still running at its next tick; this run is skipped'
      );
      this.options.onSkipped?.(name);
      return 'skipped';
    }
    const startedAt = new Date();
    const done = job
      .run()
      .catch((error: unknown) => {
        // Jobs report their own failures; this is the last line before an unhandled rejection.
        this.options.logger.error({ job: name, err: error }, `job failed: ${errorMessage(error)}`);
      })
      .finally(() => this.running.delete(name));
    this.running.set(name, { startedAt, done });
    return 'started';
  }

  isRunning(name: string): boolean {
    return this.running.has(name);
  }

  /** Resolves when the job's current run (if any) has ended. */
  async idle(name: string): Promise<void> {
    await this.running.get(name)?.done;
  }

  /** The longest gap between the next runs of a job: the schedule's interval for freshness checks. */
  intervalMs(name: string, runs = 12): number {
    const task = this.tasks.find((candidate) => candidate.name === name);
    if (!task) {
      throw new Error(`no started job named '${name}'`);
    }
    const times = task.getNextRuns(runs).map((date) => date.getTime());
    let longest = 0;
    for (let index = 1; index < times.length; index++) {
      longest = Math.max(longest, times[index]! - times[index - 1]!);
    }
    return longest;
  }

  /** Stops the timers (no new runs), then waits for the runs under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const task of this.tasks.splice(0)) {
      await task.destroy();
    }
    await Promise.all([...this.running.values()].map((run) => run.done));
  }
}

/**
 * The latest instant at or before `before`, and after `before - horizonMs`,
 * at which `expression` fires in `timezone`; null if none. It walks back
 * minute by minute but asks node-cron only about minutes whose local minute
 * is in the expression's minute list, so a month costs a few hundred checks.
 */
export function lastTickBefore(expression: string, timezone: string, before: Date, horizonMs: number): Date | null {
  const minutes = new Set(cron.parse(expression).minute);
  const task = cron.createTask(expression, () => undefined, { timezone });
  try {
    const offsets = new ZoneOffsets(timezone);
    const latest = Math.floor(before.getTime() / MINUTE_MS) * MINUTE_MS;
    for (let instant = latest; instant > before.getTime() - horizonMs; instant -= MINUTE_MS) {
      const localMinute = ((((instant + offsets.at(instant)) / MINUTE_MS) % 60) + 60) % 60;
      if (minutes.has(localMinute) && task.match(new Date(instant))) {
        return new Date(instant);
      }
    }
    return null;
  } finally {
    void task.destroy();
  }
}

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

/** A zone's UTC offset in ms, asked of Intl once per UTC hour (zones change offset on hour or half-hour boundaries of UTC). */
class ZoneOffsets {
  private readonly format: Intl.DateTimeFormat;
  private readonly cache = new Map<number, number>();

  constructor(timezone: string) {
    this.format = new Intl.DateTimeFormat('en-US', { timeZone: timezone, timeZoneName: 'longOffset' });
  }

  at(instant: number): number {
    const key = Math.floor(instant / (HOUR_MS / 2));
    let offset = this.cache.get(key);
    if (offset === undefined) {
      const name = this.format.formatToParts(instant).find((part) => part.type === 'timeZoneName')?.value ?? 'GMT';
      const match = /^GMT(?:([+-])(\d{2}):(\d{2}))?$/.exec(name);
      offset = match?.[1]
        ? (match[1] === '-' ? -1 : 1) * (Number(match[2]) * HOUR_MS + Number(match[3]) * MINUTE_MS)
        : 0;
      this.cache.set(key, offset);
    }
    return offset;
  }
}

/** Rejects an expression node-cron cannot read, naming the configuration key. */
export function assertCronExpression(key: string, expression: string): void {
  const validation = cron.validateDetailed(expression);
  if (validation.valid) {
    return;
  }
  const reasons = validation.errors.map((error) => `${error.field}: ${error.message}`).join('; ');
  throw new UsageError(`${key} is not a valid cron expression: '${expression}' (${reasons})`);
}

/** node-cron's own warnings (a missed tick under heavy load) as JSON log lines. */
function cronLogger(logger: Logger) {
  return {
    info: (message: string) => logger.info({ component: 'node-cron' }, message),
    warn: (message: string) => logger.warn({ component: 'node-cron' }, message),
    error: (message: string | Error, err?: Error) =>
      logger.error(
        { component: 'node-cron', err: err ?? message },
        typeof message === 'string' ? message : message.message
      ),
    debug: (message: string | Error) => logger.debug({ component: 'node-cron' }, String(message)),
  };
}
