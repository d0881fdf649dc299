import { describe, expect, it } from 'vitest';
import { IncidentRefreshQueue, type IncidentRefreshQueueOptions, type QueuedEvent } from './incident-refresh-queue.ts';
import { captureLogger } from '../../../../tests/support/serve.ts';

/** A refresh that finishes only when the test says so. */
function gate() {
  let open: () => void = () => undefined;
  let fail: (error: Error) => void = () => undefined;
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

const event = (eventId: string, occurredAt: Date | null = new Date()): QueuedEvent => ({
  eventId,
  receivedAt: new Date(),
  occurredAt,
});
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

function recordingQueue(overrides: Partial<IncidentRefreshQueueOptions> = {}) {
  const single: Array<{ incidentId: string; events: string[]; gate: ReturnType<typeof gate> }> = [];
  const capture = captureLogger();
  const queue = new IncidentRefreshQueue({
    concurrency: 2,
    logger: capture.logger,
    refresh: (incidentId, events) => {
      const entry = { incidentId, events: events.map((queued) => queued.eventId), gate: gate() };
      single.push(entry);
      return entry.gate.promise;
    },
    ...overrides,
  });
  return { queue, single, capture };
}

describe('IncidentRefreshQueue', () => {
  it('serves the events of one incident that wait together with one fetch, and fetches again for an event that came during the fetch', async () => {
    const { queue, single } = recordingQueue({ concurrency: 1 });
    queue.enqueue('Q1', event('e1'));
    queue.enqueue('Q2', event('e2'));
    queue.enqueue('Q2', event('e3'));
    expect(single.map((call) => call.incidentId)).toEqual(['Q1']);

    queue.enqueue('Q1', event('e4')); // while Q1 is being fetched
    single[0]!.gate.open();
    await settle();
    expect(single.map((call) => [call.incidentId, call.events])).toEqual([
      ['Q1', ['e1']],
      ['Q2', ['e2', 'e3']],
    ]);
    single[1]!.gate.open();
    await settle();
    expect(single.map((call) => [call.incidentId, call.events]).at(-1)).toEqual(['Q1', ['e4']]);
    single[2]!.gate.open();
    await queue.idle();
    expect(queue.backlog).toBe(0);
  });

  it('holds bounded memory: events of one incident coalesce, and incidents past the limit are left to the scheduled sync', async () => {
    const { queue, single, capture } = recordingQueue({ concurrency: 1, maxIncidents: 3, maxEventsPerIncident: 4 });
    expect(queue.enqueue('Q0', event('busy'))).toBe(true);
    for (let n = 0; n < 1000; n += 1) {
      expect(queue.enqueue('Q1', event(`q1-${n}`))).toBe(true);
    }
    expect(queue.enqueue('Q2', event('q2'))).toBe(true);
    expect(queue.enqueue('Q3', event('q3'))).toBe(true);
    // Q1, Q2, Q3 wait (Q0 is being fetched): a fourth incident is refused, one already waiting is not.
    expect(queue.enqueue('Q4', event('q4'))).toBe(false);
    expect(queue.enqueue('Q2', event('q2-again'))).toBe(true);
    expect(capture.text()).toContain('webhook queue full; the event is left to the scheduled sync');
    single[0]!.gate.open();
    await settle();
    // The oldest events are kept (they set how far back a batch reads); the newest stands for those in between.
    expect(single[1]).toMatchObject({ incidentId: 'Q1', events: ['q1-0', 'q1-1', 'q1-2', 'q1-999'] });
    for (const entry of single.slice(1)) {
      entry.gate.open();
    }
    await settle();
    for (const entry of single.slice(2)) {
      entry.gate.open();
    }
    await settle();
    for (const entry of single) {
      entry.gate.open();
    }
    await queue.idle();
    expect(single.map((entry) => entry.incidentId)).toEqual(['Q0', 'Q1', 'Q2', 'Q3']);
  });

  it('never runs more refreshes at once than its concurrency, nor two of one incident', async () => {
    const { queue, single } = recordingQueue({ concurrency: 2 });
    for (const incidentId of ['Q1', 'Q2', 'Q3']) {
      queue.enqueue(incidentId, event(`${incidentId}-a`));
    }
    queue.enqueue('Q1', event('Q1-b'));
    expect(single.map((call) => call.incidentId)).toEqual(['Q1', 'Q2']);
    single[0]!.gate.open();
    await settle();
    // Q3 waited longest among those not being fetched; Q1's second event waits behind it.
    expect(single.map((call) => call.incidentId)).toEqual(['Q1', 'Q2', 'Q3']);
    single[1]!.gate.open();
    await settle();
    expect(single.map((call) => call.incidentId)).toEqual(['Q1', 'Q2', 'Q3', 'Q1']);
  });

  it('logs a failed refresh and goes on with the next', async () => {
    const { queue, single, capture } = recordingQueue({ concurrency: 1 });
    queue.enqueue('Q1', event('e1'));
    queue.enqueue('Q2', event('e2'));
    single[0]!.gate.fail(new Error('PagerDuty answered HTTP 500'));
    await settle();
    expect(single.map((call) => call.incidentId)).toEqual(['Q1', 'Q2']);
    expect(capture.entries()).toContainEqual(
      expect.objectContaining({ level: 'warn', incidentId: 'Q1', msg: expect.stringContaining('HTTP 500') })
    );
    single[1]!.gate.open();
    await queue.idle();
  });

  it('reads recent changes once for a storm; incidents the read did not serve get a fetch of their own', async () => {
    const batches: Array<{ incidents: string[]; gate: ReturnType<typeof gate> }> = [];
    const { queue, single } = recordingQueue({
      concurrency: 1,
      batchFrom: 3,
      refreshMany: async (waiting) => {
        const entry = { incidents: [...waiting.keys()], gate: gate() };
        batches.push(entry);
        await entry.gate.promise;
        return new Set(['Q2', 'Q3', 'Q4']);
      },
    });
    queue.enqueue('Q1', event('e1')); // starts a fetch of its own at once
    for (const incidentId of ['Q2', 'Q3', 'Q4', 'Q5']) {
      queue.enqueue(incidentId, event(`${incidentId}-a`));
    }
    expect(batches).toHaveLength(0);
    single[0]!.gate.open();
    await settle();
    expect(batches.map((batch) => batch.incidents)).toEqual([['Q2', 'Q3', 'Q4', 'Q5']]);

    queue.enqueue('Q3', event('Q3-b')); // during the read: it may have missed this change
    batches[0]!.gate.open();
    await settle();
    // Q5 was not served: it goes first, on its own; then Q3's new event.
    expect(single.map((call) => [call.incidentId, call.events]).slice(1)).toEqual([['Q5', ['Q5-a']]]);
    single[1]!.gate.open();
    await settle();
    expect(single.map((call) => [call.incidentId, call.events]).slice(2)).toEqual([['Q3', ['Q3-b']]]);
    single[2]!.gate.open();
    await queue.idle();
  });

  it('does not read recent changes for events older than the storm window', async () => {
    const batched: string[][] = [];
    const { queue, single } = recordingQueue({
      concurrency: 1,
      batchFrom: 2,
      batchWindowMs: 60_000,
      refreshMany: async (waiting) => {
        batched.push([...waiting.keys()]);
        return new Set(waiting.keys());
      },
    });
    const longAgo = new Date(Date.now() - 10 * 60_000);
    queue.enqueue('Q0', event('e0'));
    queue.enqueue('Q1', event('e1', longAgo));
    queue.enqueue('Q2', event('e2', longAgo));
    single[0]!.gate.open();
    await settle();
    expect(batched).toEqual([]);
    expect(single.map((call) => call.incidentId)).toEqual(['Q0', 'Q1']);
    single[1]!.gate.open();
    await settle();
    single[2]!.gate.open();
    await queue.idle();
  });

  it('stops taking work on stop, lets the refreshes under way end, and leaves the rest', async () => {
    const { queue, single } = recordingQueue({ concurrency: 1 });
    queue.enqueue('Q1', event('e1'));
    queue.enqueue('Q2', event('e2'));
    const stopped = queue.stop();
    queue.enqueue('Q3', event('e3'));
    single[0]!.gate.open();
    await stopped;
    expect(single.map((call) => call.incidentId)).toEqual(['Q1']);
    expect(queue.backlog).toBe(0);
  });
});
