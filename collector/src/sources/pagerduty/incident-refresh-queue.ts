import { errorMessage } from '../../errors.ts';
import type { Logger } from '../../logger.ts';

/** A webhook event waiting for its incident to be fetched. */
export interface QueuedEvent {
  eventId: string;
  receivedAt: Date;
  /** When PagerDuty says the change happened, if the event said. */
  occurredAt: Date | null;
}

/** Incidents waiting at most; a storm past it is left to the scheduled sync. */
const DEFAULT_MAX_INCIDENTS = 10_000;
/** Events kept per waiting incident; one fetch serves any number of them. */
const DEFAULT_MAX_EVENTS_PER_INCIDENT = 20;

export interface IncidentRefreshQueueOptions {
  /** Incidents that may wait at once; default 10,000. */
  maxIncidents?: number;
  /** Events kept in memory per waiting incident; default 20. */
  maxEventsPerIncident?: number;
  /** Fetches one incident and its timeline and marks its events done. */
  refresh(incidentId: string, events: readonly QueuedEvent[]): Promise<void>;
  /**
   * Fetches many incidents at once (the account's recent changes, a few
   * requests for all of them), marks the events of those it brought up to
   * date done, and returns their ids; the others get a refresh of their own.
   */
  refreshMany?(waiting: ReadonlyMap<string, readonly QueuedEvent[]>): Promise<Set<string>>;
  /** How many incidents must wait before they are fetched together; default 4. */
  batchFrom?: number;
  /** Only events that happened this recently are fetched together (the window read grows with it); default 60 s. */
  batchWindowMs?: number;
  /** Refreshes running at once; the API client keeps requests serial, so this overlaps writes with requests. */
  concurrency: number;
  logger: Logger;
  /** Told the number of incidents waiting or being refreshed, whenever it changes. */
  onBacklog?: (incidents: number) => void;
}

/**
 * Incidents to refresh after webhooks, off the request path. Events of one
 * incident that wait together are served by one fetch; an event that comes
 * while its incident is being fetched waits for a later fetch, because the
 * one under way may have read the incident before the change it announces.
 * When several incidents wait (a storm), one read of the account's recent
 * changes serves them all, which keeps a storm within the API's rate limit.
 */
export class IncidentRefreshQueue {
  private readonly waiting = new Map<string, QueuedEvent[]>();
  private readonly fetching = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  /** Incidents a batch did not bring up to date: they get a refresh of their own. */
  private readonly ownRefresh = new Set<string>();
  private batchRunning = false;
  private idleWaiters: Array<() => void> = [];
  private stopped = false;

  constructor(private readonly options: IncidentRefreshQueueOptions) {}

  /**
   * Queues an event. Memory stays bounded: past `maxEventsPerIncident` the
   * newest event stands for the later ones (one fetch serves them all), and
   * past `maxIncidents` waiting, an event for another incident is not queued
   * (false): it stays unprocessed in webhook_events, and the scheduled sync
   * reads the same change.
   */
  enqueue(incidentId: string, event: QueuedEvent): boolean {
    // After stop the event stays unprocessed in webhook_events; the next start takes it up.
    if (this.stopped) {
      return false;
    }
    const events = this.waiting.get(incidentId);
    if (events) {
      if (events.length < (this.options.maxEventsPerIncident ?? DEFAULT_MAX_EVENTS_PER_INCIDENT)) {
        events.push(event);
      } else {
        events[events.length - 1] = event;
      }
    } else {
      if (this.waiting.size >= (this.options.maxIncidents ?? DEFAULT_MAX_INCIDENTS)) {
        this.options.logger.warn(
          { incidentId, eventId: event.eventId, waiting: this.waiting.size },
          'webhook queue full; the event is left to the scheduled sync'
        );
        return false;
      }
      this.waiting.set(incidentId, [event]);
    }
    this.pump();
    return true;
  }

  /** Incidents waiting or being fetched. */
  get backlog(): number {
    return new Set([...this.waiting.keys(), ...this.fetching]).size;
  }

  /** Resolves when nothing waits and nothing runs (tests, benchmarks). */
  idle(): Promise<void> {
    if (this.backlog === 0) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Takes no more work and waits for the refreshes under way; waiting events stay for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.running]);
    const left = this.waiting.size;
    this.waiting.clear();
    if (left > 0) {
      this.options.logger.info({ incidents: left }, 'incident refreshes left for the next start');
    }
    this.signalIdle();
  }

  private pump(): void {
    // While a batch reads the account's changes, refreshes of single incidents would only compete with it.
    while (!this.stopped && !this.batchRunning && this.fetching.size < this.options.concurrency) {
      const batch = this.batchable();
      if (batch.length >= (this.options.batchFrom ?? 4)) {
        // The single refreshes under way finish first; then one read serves everyone waiting.
        if (this.fetching.size > 0) {
          break;
        }
        this.batchRunning = true;
        this.start(batch, (events) => this.refreshBatch(events));
        continue;
      }
      const next = this.nextIncident();
      if (next === undefined) {
        break;
      }
      this.start([next], (events) => this.refreshOne(next, events.get(next)!));
    }
    this.options.onBacklog?.(this.backlog);
    if (this.backlog === 0) {
      this.signalIdle();
    }
  }

  private start(incidentIds: string[], work: (events: Map<string, QueuedEvent[]>) => Promise<void>): void {
    const events = new Map<string, QueuedEvent[]>();
    for (const incidentId of incidentIds) {
      events.set(incidentId, this.waiting.get(incidentId)!);
      this.waiting.delete(incidentId);
      this.fetching.add(incidentId);
    }
    const task = work(events).finally(() => {
      for (const incidentId of incidentIds) {
        this.fetching.delete(incidentId);
      }
      this.running.delete(task);
      this.pump();
    });
    this.running.add(task);
  }

  /** The incident waiting longest whose fetch is not under way. */
  private nextIncident(): string | undefined {
    for (const incidentId of this.waiting.keys()) {
      if (!this.fetching.has(incidentId)) {
        return incidentId;
      }
    }
    return undefined;
  }

  /** Waiting incidents a batch may serve: recent events, not already passed over by a batch. */
  private batchable(): string[] {
    if (!this.options.refreshMany) {
      return [];
    }
    const oldestAllowed = Date.now() - (this.options.batchWindowMs ?? 60_000);
    const batch: string[] = [];
    for (const [incidentId, events] of this.waiting) {
      if (this.fetching.has(incidentId) || this.ownRefresh.has(incidentId)) {
        continue;
      }
      if (events.every((event) => (event.occurredAt ?? event.receivedAt).getTime() >= oldestAllowed)) {
        batch.push(incidentId);
      }
    }
    return batch;
  }

  private async refreshOne(incidentId: string, events: QueuedEvent[]): Promise<void> {
    this.ownRefresh.delete(incidentId);
    try {
      await this.options.refresh(incidentId, events);
    } catch (error) {
      // The scheduled sync is the safety net: it reads the same changes from the log entries.
      this.options.logger.warn(
        { incidentId, events: events.map((event) => event.eventId), err: error },
        `incident refresh after a webhook failed; the next scheduled sync will catch up: ${errorMessage(error)}`
      );
    }
  }

  private async refreshBatch(events: Map<string, QueuedEvent[]>): Promise<void> {
    let done = new Set<string>();
    try {
      done = await this.options.refreshMany!(events);
    } catch (error) {
      this.options.logger.warn(
        { incidents: events.size, err: error },
        `reading the recent changes after webhooks failed; the incidents are fetched one by one: ${errorMessage(error)}`
      );
    } finally {
      this.batchRunning = false;
    }
    // The incidents the batch did not serve wait again, ahead of newer ones, for a fetch of their own.
    const passedOver = [...events.keys()].filter((incidentId) => !done.has(incidentId));
    if (passedOver.length > 0) {
      const newer = [...this.waiting];
      this.waiting.clear();
      for (const incidentId of passedOver) {
        this.ownRefresh.add(incidentId);
        this.waiting.set(incidentId, [...events.get(incidentId)!]);
      }
      for (const [incidentId, later] of newer) {
        const earlier = this.waiting.get(incidentId);
        this.waiting.set(incidentId, earlier ? [...earlier, ...later] : later);
      }
    }
  }

  private signalIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) {
      resolve();
    }
  }
}
