import { errorMessage } from '../errors.ts';
import type { Logger } from '../logger.ts';

/** A webhook event waiting for its incident to be fetched. */
export interface QueuedEvent {
  eventId: string;
  receivedAt: Date;
}

export interface IncidentRefreshQueueOptions {
  /** Fetches the incident and its timeline and marks the events done. */
  refresh(incidentId: string, events: readonly QueuedEvent[]): Promise<void>;
  /** Refreshes running at once; the API client keeps requests serial, so this overlaps writes with requests. */
  concurrency: number;
  logger: Logger;
  /** Told the number of incidents waiting or being refreshed, whenever it changes. */
  onBacklog?: (incidents: number) => void;
}

/**
 * Incidents to refresh after webhooks, off the request path. Events of one
 * incident that wait together are served by one fetch; an event that comes
 * while its incident is being fetched waits for a second fetch, because the
 * first may have read the incident before the change the event announces.
 */
export class IncidentRefreshQueue {
  private readonly waiting = new Map<string, QueuedEvent[]>();
  private readonly fetching = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  private idleWaiters: (() => void)[] = [];
  private stopped = false;

  constructor(private readonly options: IncidentRefreshQueueOptions) {}

  enqueue(incidentId: string, eventId: string, receivedAt: Date): void {
    // After stop the event stays unprocessed in webhook_events; the next start takes it up.
    if (this.stopped) return;
    const events = this.waiting.get(incidentId);
    if (events) events.push({ eventId, receivedAt });
    else this.waiting.set(incidentId, [{ eventId, receivedAt }]);
    this.pump();
  }

  /** Incidents waiting or being fetched. */
  get backlog(): number {
    return this.waiting.size + this.fetching.size;
  }

  /** Resolves when nothing waits and nothing runs (tests, benchmarks). */
  idle(): Promise<void> {
    if (this.backlog === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Takes no more work and waits for the refreshes under way; waiting events stay for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.running]);
    const left = this.waiting.size;
    this.waiting.clear();
    if (left > 0) this.options.logger.info({ incidents: left }, 'incident refreshes left for the next start');
    this.signalIdle();
  }

  private pump(): void {
    while (!this.stopped && this.fetching.size < this.options.concurrency) {
      const next = this.nextIncident();
      if (next === undefined) break;
      const events = this.waiting.get(next)!;
      this.waiting.delete(next);
      this.fetching.add(next);
      const task = this.refresh(next, events).finally(() => {
        this.fetching.delete(next);
        this.running.delete(task);
        this.pump();
      });
      this.running.add(task);
    }
    this.options.onBacklog?.(this.backlog);
    if (this.backlog === 0) this.signalIdle();
  }

  /** The incident waiting longest whose fetch is not under way. */
  private nextIncident(): string | undefined {
    for (const incidentId of this.waiting.keys()) if (!this.fetching.has(incidentId)) return incidentId;
    return undefined;
  }

  private async refresh(incidentId: string, events: QueuedEvent[]): Promise<void> {
    try {
      await this.options.refresh(incidentId, events);
    } catch (error) {
      // The scheduled sync is the safety net: it reads the same changes from the log entries.
      this.options.logger.warn(
        { incidentId, events: events.map((event) => event.eventId), err: error },
        `incident refresh after a webhook failed; the next scheduled sync will catch up: ${errorMessage(error)}`,
      );
    }
  }

  private signalIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
