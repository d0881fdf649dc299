/**
 * Generation of a seeded, realistic incident history: creation times busier
 * in working hours, priorities and urgencies in realistic shares, and each
 * incident's lifecycle (notifications, escalations, acknowledgements that
 * lapse, merges, notes, resolutions) drawn from log-normal delays. Pure: no
 * I/O, no clock, no Math.random.
 */
import { buildCatalog, NOTES, onCallUser, TITLE_TEMPLATES } from './catalog.ts';
import {
  ACKNOWLEDGE,
  ANNOTATE,
  ASSIGN,
  CH_API,
  CH_AUTO,
  CH_NOTE,
  CH_NOTIFICATION,
  CH_TIMEOUT,
  CH_WEB_TRIGGER,
  CH_WEBSITE,
  ESCALATE,
  NOTIFY,
  RESOLVE,
  TRIGGER,
  UNACKNOWLEDGE,
  integrationAgent,
  serviceAgent,
  userAgent,
} from './codes.ts';
import { hash32 } from './id-cipher.ts';
import { PagerDutyHistory } from './history.ts';
import { PagerDutyStore } from './store.ts';
import { DAY_MS, HOUR_MS, iso, MINUTE_MS, wholeSeconds } from './values.ts';
import { mulberry32 } from '../random.ts';

export interface PagerDutyHistoryOptions {
  /** Same seed => identical history. */
  seed: number;
  /** Incidents are created in [start, end). Events after `end` have not happened yet. */
  start: Date;
  end: Date;
  /** How many incidents. */
  incidents: number;
  /** Default 6. */
  services?: number;
  /** Default 3; service n belongs to team n mod teams. */
  teams?: number;
  /** html_url host part, default 'acme'. */
  subdomain?: string;
}

/** Share of incidents per priority P1..P5; the remaining 10% have none. */
const PRIORITY_SHARES = [0.03, 0.12, 0.25, 0.28, 0.22];
/** Median seconds to first ack per priority P1..P5, then "no priority". */
const ACK_MEDIAN_SECONDS = [75, 150, 240, 420, 600, 300];
/** Median seconds to resolve per priority P1..P5, then "no priority". */
const RESOLVE_MEDIAN_SECONDS = [50 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 16 * 3600, 6 * 3600];
/** Share of high urgency per priority P1..P5, then "no priority". */
const HIGH_URGENCY_SHARE = [0.97, 0.9, 0.6, 0.25, 0.1, 0.5];
/** Escalation policies move to level 2 after this long without an ack. */
const ESCALATION_DELAY_MS = 30 * MINUTE_MS;
const MAX_RESOLVE_MS = 14 * DAY_MS;
const LOW_URGENCY_BACKLOG_SHARE = 0.2;
const BACKLOG_MEDIAN_MS = 16 * HOUR_MS;
const MAX_BACKLOG_MS = 10 * DAY_MS;

/** Share of a flapping service's incidents that clear on their own within 300 seconds. */
const FLAP_SHARE = 0.6;
const NOISE_SALT = 0x6e6f6973;

/** The simulated lifecycle's events of one incident, before they are time-ordered. */
class EventBuffer {
  count = 0;
  readonly at = new Float64Array(64);
  readonly type = new Uint8Array(64);
  readonly agent = new Int32Array(64);
  readonly channel = new Uint8Array(64);
  readonly detail = new Int32Array(64);
  readonly order = new Int32Array(64);

  push(at: number, type: number, agent: number, channel: number, detail: number): void {
    const n = this.count++;
    this.at[n] = Math.floor(at / 1000) * 1000;
    this.type[n] = type;
    this.agent[n] = agent;
    this.channel[n] = channel;
    this.detail[n] = detail;
  }

  /** Whether a resolve happens at or before `at`. */
  resolvedBy(at: number): boolean {
    for (let i = 0; i < this.count; i++) {
      if (this.type[i] === RESOLVE && this.at[i]! <= at) {
        return true;
      }
    }
    return false;
  }

  /** Forgets the events after `at`, keeping the others in the order they were pushed. */
  dropAfter(at: number): void {
    let kept = 0;
    for (let i = 0; i < this.count; i++) {
      if (this.at[i]! > at) {
        continue;
      }
      this.at[kept] = this.at[i]!;
      this.type[kept] = this.type[i]!;
      this.agent[kept] = this.agent[i]!;
      this.channel[kept] = this.channel[i]!;
      this.detail[kept] = this.detail[i]!;
      kept++;
    }
    this.count = kept;
  }

  /** Stable insertion sort by time: events at the same second keep causal order. */
  sorted(): Int32Array {
    const order = this.order;
    for (let i = 0; i < this.count; i++) {
      let j = i;
      while (j > 0 && this.at[order[j - 1]!]! > this.at[i]!) {
        order[j] = order[j - 1]!;
        j--;
      }
      order[j] = i;
    }
    return order.subarray(0, this.count);
  }
}

export function generatePagerDutyHistory(options: PagerDutyHistoryOptions): PagerDutyHistory {
  const start = wholeSeconds(options.start, 'start');
  const end = wholeSeconds(options.end, 'end');
  if (!(end > start)) {
    throw new RangeError(`end (${iso(end)}) must be after start (${iso(start)})`);
  }
  const count = options.incidents;
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(`incidents must be a whole number >= 0, got ${count}`);
  }
  const serviceCount = options.services ?? 6;
  const teamCount = options.teams ?? 3;
  if (!Number.isInteger(serviceCount) || serviceCount < 1 || serviceCount > 1000) {
    throw new RangeError(`services must be 1..1000, got ${serviceCount}`);
  }
  if (!Number.isInteger(teamCount) || teamCount < 1 || teamCount > serviceCount) {
    throw new RangeError(`teams must be 1..services (${serviceCount}), got ${teamCount}`);
  }
  const rng = mulberry32(options.seed);
  const catalog = buildCatalog(rng, serviceCount, teamCount, options.subdomain ?? 'acme');
  const store = new PagerDutyStore(catalog, count);

  const createdTimes = drawCreationTimes(rng, count, start, end);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const logNormal = (median: number, sigma: number) => median * Math.exp(sigma * gaussian());
  const pick = (n: number) => Math.floor(rng() * n);
  const events = new EventBuffer();
  const noiseKey = hash32(options.seed >>> 0, NOISE_SALT);
  // Busier services page more often.
  const serviceWeights = Array.from({ length: serviceCount }, (_, s) => 1 / (1 + s * 0.35));
  const weightTotal = serviceWeights.reduce((sum, w) => sum + w, 0);
  const drawService = () => {
    let r = rng() * weightTotal;
    for (let s = 0; s < serviceCount; s++) {
      r -= serviceWeights[s]!;
      if (r < 0) {
        return s;
      }
    }
    return serviceCount - 1;
  };

  for (let n = 0; n < count; n++) {
    const created = createdTimes[n]!;
    let priority = -1;
    let r = rng();
    for (let p = 0; p < PRIORITY_SHARES.length; p++) {
      r -= PRIORITY_SHARES[p]!;
      if (r < 0) {
        priority = p;
        break;
      }
    }
    const profile = priority >= 0 ? priority : PRIORITY_SHARES.length;
    const urgency = rng() < HIGH_URGENCY_SHARE[profile]! ? 0 : 1;
    const highUrgency = urgency === 0;
    const service = drawService();
    const titleKind = pick(TITLE_TEMPLATES.length);
    const alerts = rng() < 0.3 ? 2 + pick(4) : 1;
    const row = store.createIncidentRow(created, priority, urgency, service, titleKind, alerts, 1 + pick(24));
    const entry = catalog.services[service]!;
    // PagerDuty itself (assignments, escalations, timeouts) acts as the service;
    // the monitoring tool triggers and resolves as its integration on some services.
    const pagerduty = serviceAgent(service);
    const monitor = entry.resolvesAsIntegration ? integrationAgent(service) : pagerduty;
    const firstResponder = onCallUser(catalog, service, created, 0);
    const secondResponder = onCallUser(catalog, service, created, 1);
    const ackTimeoutMs = (catalog.services[service]!.acknowledgementTimeout ?? 0) * 1000;
    const notify = (at: number, u: number) => {
      // Low-urgency pages reach people by email first, high-urgency ones by push.
      events.push(at + 5_000, NOTIFY, userAgent(u), CH_NOTIFICATION, u * 4 + (highUrgency ? 0 : 3));
      if (rng() < 0.35) {
        events.push(at + 60_000, NOTIFY, userAgent(u), CH_NOTIFICATION, u * 4 + 1);
      }
      if (highUrgency && rng() < 0.15) {
        events.push(at + 180_000, NOTIFY, userAgent(u), CH_NOTIFICATION, u * 4 + 2);
      }
    };
    const escalateByTimeout = () => {
      events.push(created + ESCALATION_DELAY_MS, ESCALATE, pagerduty, CH_TIMEOUT, secondResponder);
      notify(created + ESCALATION_DELAY_MS, secondResponder);
    };

    events.count = 0;
    const manual = rng() < 0.08;
    events.push(
      created,
      TRIGGER,
      manual ? userAgent(firstResponder) : monitor,
      manual ? CH_WEB_TRIGGER : CH_API,
      firstResponder
    );
    events.push(created, ASSIGN, pagerduty, CH_AUTO, firstResponder);
    notify(created, firstResponder);

    const outcome = rng();
    if (outcome < 0.03 && n > 0) {
      // A duplicate page: the responder merges it into the incident just before it.
      const mergedAt = created + Math.min(2 * HOUR_MS, 60_000 + logNormal(8 * MINUTE_MS, 0.8));
      if (rng() < 0.4) {
        events.push(created + (mergedAt - created) * rng(), ACKNOWLEDGE, userAgent(firstResponder), CH_WEBSITE, 0);
      }
      // A resolve's detail is 1 + the row it was merged into.
      events.push(mergedAt, RESOLVE, userAgent(firstResponder), CH_WEBSITE, row - 1 + 1);
    } else if (outcome < 0.07) {
      // Never acknowledged: mostly a flapping alert that recovered on its own.
      if (rng() < 0.7) {
        events.push(created + 30_000 + logNormal(6 * MINUTE_MS, 0.9), RESOLVE, monitor, CH_API, 0);
      } else {
        const resolvedAt = created + 60_000 + logNormal(40 * MINUTE_MS, 0.8);
        if (resolvedAt > created + ESCALATION_DELAY_MS) {
          escalateByTimeout();
        }
        events.push(resolvedAt, RESOLVE, userAgent(firstResponder), CH_WEBSITE, 0);
      }
    } else {
      // Low-urgency pages often wait in a backlog until someone triages them;
      // they do not escalate. The rest are answered within minutes.
      const backlog = !highUrgency && rng() < LOW_URGENCY_BACKLOG_SHARE;
      const ackDelay = backlog
        ? Math.min(MAX_BACKLOG_MS, HOUR_MS + logNormal(BACKLOG_MEDIAN_MS, 1))
        : Math.min(12 * HOUR_MS, 10_000 + logNormal(ACK_MEDIAN_SECONDS[profile]! * 1000 * (highUrgency ? 1 : 1.8), 1));
      let acker = firstResponder;
      if (!backlog && ackDelay > ESCALATION_DELAY_MS) {
        escalateByTimeout();
        acker = secondResponder;
      } else if (!backlog && rng() < 0.03) {
        // The first responder pulls in help by escalating by hand.
        const at = created + ackDelay * 0.5;
        events.push(at, ESCALATE, userAgent(firstResponder), CH_WEBSITE, secondResponder);
        notify(at, secondResponder);
        acker = secondResponder;
      }
      const ackAt = created + ackDelay;
      events.push(ackAt, ACKNOWLEDGE, userAgent(acker), CH_WEBSITE, 0);
      let resolveAt = created + Math.min(MAX_RESOLVE_MS, logNormal(RESOLVE_MEDIAN_SECONDS[profile]! * 1000, 1.1));
      let lastAck = ackAt;
      // Where the service lets acknowledgements lapse, long incidents are
      // unacknowledged by timeout, re-paged and re-acknowledged.
      for (let lapse = 0; ackTimeoutMs > 0 && lapse < 3 && lastAck + ackTimeoutMs < resolveAt; lapse++) {
        const unackAt = lastAck + ackTimeoutMs;
        events.push(unackAt, UNACKNOWLEDGE, pagerduty, CH_TIMEOUT, 0);
        notify(unackAt, acker);
        lastAck = unackAt + 30_000 + logNormal(4 * MINUTE_MS, 0.7);
        events.push(lastAck, ACKNOWLEDGE, userAgent(acker), CH_WEBSITE, 0);
      }
      resolveAt = Math.max(resolveAt, lastAck + MINUTE_MS + rng() * 10 * MINUTE_MS);
      const notes = rng() < 0.3 ? (rng() < 0.3 ? 2 : 1) : 0;
      for (let k = 0; k < notes; k++) {
        events.push(ackAt + (resolveAt - ackAt) * rng(), ANNOTATE, userAgent(acker), CH_NOTE, pick(NOTES.length));
      }
      const byIntegration = rng() < 0.35;
      events.push(
        resolveAt,
        RESOLVE,
        byIntegration ? monitor : userAgent(acker),
        byIntegration ? CH_API : CH_WEBSITE,
        0
      );
    }

    // Decided by hashes rather than `rng`, so every other incident is drawn as before.
    if (entry.flapping && hash32(n, noiseKey) < FLAP_SHARE * 2 ** 32) {
      // The alert clears on its own within minutes, before anyone acknowledges.
      events.count = 0;
      events.push(created, TRIGGER, monitor, CH_API, firstResponder);
      events.push(created, ASSIGN, pagerduty, CH_AUTO, firstResponder);
      events.push(created + 5_000, NOTIFY, userAgent(firstResponder), CH_NOTIFICATION, firstResponder * 4 + 0);
      events.push(created + (20 + (hash32(n, noiseKey + 1) % 270)) * 1000, RESOLVE, monitor, CH_API, 0);
    } else if (entry.autoResolveTimeout !== null) {
      // PagerDuty resolves what is still open when the service's auto-resolve timeout fires.
      const timeoutAt = created + entry.autoResolveTimeout * 1000;
      if (!events.resolvedBy(timeoutAt)) {
        events.dropAfter(timeoutAt);
        events.push(timeoutAt, RESOLVE, pagerduty, CH_TIMEOUT, 0);
      }
    }

    // Anything at or after `end` has not happened yet: such incidents stay open.
    for (const k of events.sorted()) {
      const at = events.at[k]!;
      if (at >= end) {
        continue;
      }
      store.record(row, events.type[k]!, at, events.agent[k]!, events.channel[k]!, events.detail[k]!, false);
    }
  }
  store.buildOrders();
  return new PagerDutyHistory(store);
}

/** Creation times in [start, end), busier in working hours (UTC), sorted. */
function drawCreationTimes(rng: () => number, count: number, start: number, end: number): Float64Array {
  const times = new Float64Array(count);
  const span = end - start;
  for (let n = 0; n < count;) {
    const at = start + Math.floor((rng() * span) / 1000) * 1000;
    const hour = new Date(at).getUTCHours();
    const weight = hour >= 8 && hour < 19 ? 1 : 0.45;
    if (rng() < weight) {
      times[n++] = at;
    }
  }
  return times.sort();
}
