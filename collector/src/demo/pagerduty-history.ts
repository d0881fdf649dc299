/**
 * A seeded, realistic PagerDuty incident history for the fake PagerDuty
 * server, the demo and the benchmark. Pure: no I/O, no clock, no Math.random.
 *
 * The benchmark holds 100,000 incidents with about six log entries each, so
 * records live in typed-array columns and are rendered as API JSON only when
 * a request asks for them. Every change goes through one place (`record`),
 * whether it comes from generation or from a test's mutation, so the served
 * incidents, their log entries and `expectedFacts()` cannot disagree.
 *
 * Conventions of this fake, where PagerDuty leaves room:
 * - Times are whole seconds, rendered in UTC like `2026-03-01T10:04:05Z`;
 *   mutation times are truncated to the second.
 * - Ids: incidents `Q` + 6 base-36 characters, log entries `R` + 13, and
 *   services, teams, users, policies, priorities `P` + 6. Ids are a seeded
 *   permutation of the row number, so they look random, are unique and can
 *   be decoded without a lookup table.
 * - Incidents are listed by (created_at, id) ascending; log entries newest
 *   first, by (created_at, id) descending, as PagerDuty lists them.
 * - Raw records (`addRawIncident`, `addRawLogEntry`) are served verbatim.
 *   One whose `created_at` is a parseable date is filtered by windows like
 *   any other; one without a usable `created_at` cannot be filtered out and
 *   is served in every window, first. They have no ground truth, so they are
 *   not in `incidentCount`, `logEntryCount` or `expectedFacts()`.
 */

const API_BASE = 'https://api.pagerduty.com';
const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

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

/** Ground truth from generation (and later mutations), for tests. */
export interface ExpectedIncidentFacts {
  id: string;
  createdAt: string;
  firstAckAt: string | null;
  resolvedAt: string | null;
  status: 'triggered' | 'acknowledged' | 'resolved';
  merged: boolean;
  escalated: boolean;
  unackCount: number;
  priority: string | null;
  urgency: 'high' | 'low';
  serviceId: string;
  teamId: string;
}

export interface NewIncident {
  createdAt: Date;
  /** A priority name ('P1'..'P5') or null for an incident without priority. */
  priority: string | null;
  urgency: 'high' | 'low';
  serviceIndex: number;
}

export interface CatalogEntry {
  id: string;
  name: string;
}

export interface ServiceEntry extends CatalogEntry {
  teamId: string;
  escalationPolicyId: string;
  /** Seconds an acknowledgement lasts before PagerDuty unacknowledges, or null. */
  acknowledgementTimeout: number | null;
}

export type IncidentSortField = 'incident_number' | 'created_at' | 'resolved_at' | 'urgency';

export interface IncidentSort {
  field: IncidentSortField;
  descending: boolean;
}

/** Filters of GET /incidents; times in epoch milliseconds, [since, until). */
export interface IncidentQuery {
  since?: number;
  until?: number;
  statuses?: ReadonlySet<string>;
  urgencies?: ReadonlySet<string>;
  serviceIds?: ReadonlySet<string>;
  teamIds?: ReadonlySet<string>;
  sortBy?: readonly IncidentSort[];
}

/** Filters of GET /log_entries and GET /incidents/{id}/log_entries. */
export interface LogEntryQuery {
  since?: number;
  until?: number;
  /** Only the entries of this incident (a reference from `findIncident`). */
  incident?: number;
  teamIds?: ReadonlySet<string>;
  /** PagerDuty's is_overview: leave out notifications. */
  overview?: boolean;
}

/**
 * An ordered result: references to generated records (>= 0) or raw ones
 * (< 0), rendered with `renderIncident` / `renderLogEntry`.
 */
export interface RecordList {
  readonly length: number;
  at(position: number): number;
}

const STATUSES = ['triggered', 'acknowledged', 'resolved'] as const;
const TRIGGERED = 0;
const ACKNOWLEDGED = 1;
const RESOLVED = 2;

const URGENCIES = ['high', 'low'] as const;
const PRIORITY_NAMES = ['P1', 'P2', 'P3', 'P4', 'P5'] as const;
const PRIORITY_COLORS = ['a8171c', 'eb6016', 'f9b406', '75bd39', '4f9fd6'];
const PRIORITY_DESCRIPTIONS = [
  'Critical: customer-facing outage',
  'High: major degradation',
  'Moderate: partial degradation',
  'Low: minor issue',
  'Informational',
];

// Log entry types, by code. priority_change_log_entry is what PagerDuty sends
// when a priority changes, although the published description does not list it.
const LOG_ENTRY_TYPES = [
  'trigger_log_entry',
  'assign_log_entry',
  'notify_log_entry',
  'acknowledge_log_entry',
  'unacknowledge_log_entry',
  'escalate_log_entry',
  'annotate_log_entry',
  'resolve_log_entry',
  'priority_change_log_entry',
] as const;
const TRIGGER = 0;
const ASSIGN = 1;
const NOTIFY = 2;
const ACKNOWLEDGE = 3;
const UNACKNOWLEDGE = 4;
const ESCALATE = 5;
const ANNOTATE = 6;
const RESOLVE = 7;
const PRIORITY_CHANGE = 8;

// Channels, by code; the rendered object depends on the entry type too.
const CHANNEL_TYPES = ['api', 'auto', 'timeout', 'website', 'web_trigger', 'note', 'notification'] as const;
const CH_API = 0;
const CH_AUTO = 1;
const CH_TIMEOUT = 2;
const CH_WEBSITE = 3;
const CH_WEB_TRIGGER = 4;
const CH_NOTE = 5;
const CH_NOTIFICATION = 6;

const NOTIFICATION_TYPES = ['push_notification', 'sms_notification', 'phone_notification', 'email_notification'];
const NOTIFICATION_WORDS = ['push notification', 'SMS', 'phone', 'email'];

// An agent is packed as kind * 2^20 + index into that kind's catalog.
const AGENT_SERVICE = 0;
const AGENT_USER = 1;
const AGENT_KIND_SPAN = 1 << 20;

const SERVICE_NAMES = [
  'checkout-api', 'payments-gateway', 'search', 'auth-service', 'inventory-db', 'notifications',
  'orders-worker', 'mobile-bff', 'catalog', 'shipping-rates', 'ledger', 'edge-proxy',
];
const TEAM_NAMES = ['Platform', 'Payments', 'Storefront', 'Data', 'Mobile', 'Identity', 'Fulfilment', 'Edge'];
const FIRST_NAMES = ['Ana', 'Ben', 'Chloe', 'Dev', 'Elif', 'Farid', 'Grace', 'Hugo', 'Ines', 'Jonas', 'Kaito', 'Lena', 'Marta', 'Nils', 'Olu', 'Priya'];
const LAST_NAMES = ['Okafor', 'Lindqvist', 'Moreau', 'Tanaka', 'Silva', 'Novak', 'Haddad', 'Brennan', 'Kowalski', 'Ruiz', 'Schmidt', 'Chen'];
const TITLE_TEMPLATES = [
  'High error rate on {service}',
  '{service}: p99 latency above 2s',
  'Disk usage above 90% on {service}-{host}',
  '{service} health check failing',
  'CPU saturation on {service}-{host}',
  'Elevated 5xx responses from {service}',
  '{service} queue backlog growing',
  'Memory pressure on {service}-{host}',
  'TLS certificate for {service} expires in 7 days',
  '{service} replication lag above threshold',
];
const NOTES = [
  'Rolling back the last deploy.',
  'Looks like an upstream provider issue, monitoring.',
  'Scaled out to 12 replicas, error rate dropping.',
  'Root cause: connection pool exhaustion after config change.',
  'Customer impact confirmed, status page updated.',
  'Failing over to the secondary region.',
];
const USERS_PER_TEAM = 6;

/** Seeded PRNG (mulberry32): small, fast, good enough for simulated data. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const MASK31 = 0x7fffffff;
const MIX_A = 0x2c1b3c6d;
const MIX_B = 0x297a2d39;

function inverseOdd(a: number): number {
  let inverse = a;
  for (let i = 0; i < 5; i++) inverse = Math.imul(inverse, 2 - Math.imul(a, inverse));
  return inverse;
}
const MIX_A_INVERSE = inverseOdd(MIX_A | 1);
const MIX_B_INVERSE = inverseOdd(MIX_B | 1);

/** A keyed bijection on [0, 2^31): row numbers become random-looking ids. */
function permute(value: number, key: number): number {
  let x = (value ^ key) & MASK31;
  x = Math.imul(x, MIX_A | 1) & MASK31;
  x ^= x >>> 16;
  x = Math.imul(x, MIX_B | 1) & MASK31;
  x ^= x >>> 16;
  return x;
}

function unpermute(value: number, key: number): number {
  let x = value & MASK31;
  x ^= x >>> 16;
  x = Math.imul(x, MIX_B_INVERSE) & MASK31;
  x ^= x >>> 16;
  x = Math.imul(x, MIX_A_INVERSE) & MASK31;
  return (x ^ key) & MASK31;
}

function base36(value: number, width: number): string {
  return value.toString(36).toUpperCase().padStart(width, '0');
}

function hash32(value: number, key: number): number {
  let h = Math.imul(value ^ key, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca77);
  h ^= h >>> 13;
  return h >>> 0;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19) + 'Z';
}

function wholeSeconds(date: Date, what: string): number {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new RangeError(`${what} is not a valid date`);
  return Math.floor(ms / 1000) * 1000;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function parsedTime(value: unknown): number {
  return typeof value === 'string' ? Date.parse(value) : Number.NaN;
}

type TypedArray = Float64Array | Int32Array | Uint16Array | Uint8Array | Int8Array;

function resized<T extends TypedArray>(array: T, capacity: number): T {
  const next = new (array.constructor as new (length: number) => T)(capacity);
  next.set(array as never);
  return next;
}

/** The fixed things incidents refer to: services, teams, users, priorities. */
interface Catalog {
  subdomain: string;
  incidentKey: number;
  logEntryKey: number;
  teams: CatalogEntry[];
  services: ServiceEntry[];
  serviceTeam: number[];
  users: CatalogEntry[];
  /** users of team t: indexes t * USERS_PER_TEAM .. + USERS_PER_TEAM - 1 */
  policies: CatalogEntry[];
  priorities: CatalogEntry[];
}

function buildCatalog(rng: () => number, serviceCount: number, teamCount: number, subdomain: string): Catalog {
  const key = () => Math.floor(rng() * 2 ** 31);
  const catalogKey = key();
  let serial = 0;
  const nextId = () => 'P' + base36(permute(serial++, catalogKey), 6);
  const numbered = (names: readonly string[], index: number) => {
    const name = names[index % names.length]!;
    return index < names.length ? name : `${name}-${Math.floor(index / names.length) + 1}`;
  };
  const teams = Array.from({ length: teamCount }, (_, t) => ({ id: nextId(), name: numbered(TEAM_NAMES, t) }));
  const users: CatalogEntry[] = [];
  for (let u = 0; u < teamCount * USERS_PER_TEAM; u++) {
    const first = FIRST_NAMES[Math.floor(rng() * FIRST_NAMES.length)]!;
    const last = LAST_NAMES[Math.floor(rng() * LAST_NAMES.length)]!;
    users.push({ id: nextId(), name: `${first} ${last}` });
  }
  const policies: CatalogEntry[] = [];
  const services: ServiceEntry[] = [];
  const serviceTeam: number[] = [];
  for (let s = 0; s < serviceCount; s++) {
    const name = numbered(SERVICE_NAMES, s);
    const policy = { id: nextId(), name: `${name} escalation` };
    policies.push(policy);
    serviceTeam.push(s % teamCount);
    services.push({
      id: nextId(),
      name,
      teamId: teams[s % teamCount]!.id,
      escalationPolicyId: policy.id,
      // Most services keep acknowledgements until resolved; one lets them lapse.
      acknowledgementTimeout: s === 3 ? 12 * 3600 : null,
    });
  }
  const priorities = PRIORITY_NAMES.map((name) => ({ id: nextId(), name }));
  return {
    subdomain,
    incidentKey: key(),
    logEntryKey: key(),
    teams,
    services,
    serviceTeam,
    users,
    policies,
    priorities,
  };
}

interface RawRecord {
  value: unknown;
  id: string | undefined;
  createdAt: number;
}

/** Incident rows, one typed-array column per field. */
class IncidentRows {
  count = 0;
  capacity: number;
  createdAt: Float64Array;
  updatedAt: Float64Array;
  statusChangedAt: Float64Array;
  statusChangedBy: Int32Array;
  resolvedAt: Float64Array;
  firstAckAt: Float64Array;
  ackAt: Float64Array;
  ackBy: Int32Array;
  assignee: Int32Array;
  assignedAt: Float64Array;
  status: Uint8Array;
  priority: Int8Array;
  urgency: Uint8Array;
  service: Uint16Array;
  titleKind: Uint8Array;
  titleHost: Uint8Array;
  alerts: Uint8Array;
  mergedInto: Int32Array;
  unackCount: Uint16Array;
  escalated: Uint8Array;
  idKey: Int32Array;
  firstEntry: Int32Array;
  lastEntry: Int32Array;

  constructor(capacity: number) {
    this.capacity = Math.max(16, capacity);
    const c = this.capacity;
    this.createdAt = new Float64Array(c);
    this.updatedAt = new Float64Array(c);
    this.statusChangedAt = new Float64Array(c);
    this.statusChangedBy = new Int32Array(c);
    this.resolvedAt = new Float64Array(c);
    this.firstAckAt = new Float64Array(c);
    this.ackAt = new Float64Array(c);
    this.ackBy = new Int32Array(c);
    this.assignee = new Int32Array(c);
    this.assignedAt = new Float64Array(c);
    this.status = new Uint8Array(c);
    this.priority = new Int8Array(c);
    this.urgency = new Uint8Array(c);
    this.service = new Uint16Array(c);
    this.titleKind = new Uint8Array(c);
    this.titleHost = new Uint8Array(c);
    this.alerts = new Uint8Array(c);
    this.mergedInto = new Int32Array(c);
    this.unackCount = new Uint16Array(c);
    this.escalated = new Uint8Array(c);
    this.idKey = new Int32Array(c);
    this.firstEntry = new Int32Array(c);
    this.lastEntry = new Int32Array(c);
  }

  grow(): void {
    const c = this.capacity * 2;
    this.capacity = c;
    this.createdAt = resized(this.createdAt, c);
    this.updatedAt = resized(this.updatedAt, c);
    this.statusChangedAt = resized(this.statusChangedAt, c);
    this.statusChangedBy = resized(this.statusChangedBy, c);
    this.resolvedAt = resized(this.resolvedAt, c);
    this.firstAckAt = resized(this.firstAckAt, c);
    this.ackAt = resized(this.ackAt, c);
    this.ackBy = resized(this.ackBy, c);
    this.assignee = resized(this.assignee, c);
    this.assignedAt = resized(this.assignedAt, c);
    this.status = resized(this.status, c);
    this.priority = resized(this.priority, c);
    this.urgency = resized(this.urgency, c);
    this.service = resized(this.service, c);
    this.titleKind = resized(this.titleKind, c);
    this.titleHost = resized(this.titleHost, c);
    this.alerts = resized(this.alerts, c);
    this.mergedInto = resized(this.mergedInto, c);
    this.unackCount = resized(this.unackCount, c);
    this.escalated = resized(this.escalated, c);
    this.idKey = resized(this.idKey, c);
    this.firstEntry = resized(this.firstEntry, c);
    this.lastEntry = resized(this.lastEntry, c);
  }
}

/** Log entry rows; an incident's entries form a linked list through `next`. */
class LogEntryRows {
  count = 0;
  capacity: number;
  incident: Int32Array;
  type: Uint8Array;
  createdAt: Float64Array;
  agent: Int32Array;
  channel: Uint8Array;
  /** Type-specific: a user, a note, a priority change, a merge target... */
  detail: Int32Array;
  next: Int32Array;
  idKey: Int32Array;

  constructor(capacity: number) {
    this.capacity = Math.max(64, capacity);
    const c = this.capacity;
    this.incident = new Int32Array(c);
    this.type = new Uint8Array(c);
    this.createdAt = new Float64Array(c);
    this.agent = new Int32Array(c);
    this.channel = new Uint8Array(c);
    this.detail = new Int32Array(c);
    this.next = new Int32Array(c);
    this.idKey = new Int32Array(c);
  }

  grow(): void {
    const c = this.capacity * 2;
    this.capacity = c;
    this.incident = resized(this.incident, c);
    this.type = resized(this.type, c);
    this.createdAt = resized(this.createdAt, c);
    this.agent = resized(this.agent, c);
    this.channel = resized(this.channel, c);
    this.detail = resized(this.detail, c);
    this.next = resized(this.next, c);
    this.idKey = resized(this.idKey, c);
  }
}

/** A sorted list of row numbers that grows by insertion. */
class SortedRows {
  rows: Int32Array;
  count = 0;

  constructor(capacity: number) {
    this.rows = new Int32Array(Math.max(16, capacity));
  }

  insert(row: number, compare: (a: number, b: number) => number): void {
    if (this.count === this.rows.length) this.rows = resized(this.rows, this.rows.length * 2);
    let low = 0;
    let high = this.count;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compare(this.rows[middle]!, row) <= 0) low = middle + 1;
      else high = middle;
    }
    this.rows.copyWithin(low + 1, low, this.count);
    this.rows[low] = row;
    this.count++;
  }

  /** First position whose time is >= ms. */
  lowerBound(times: Float64Array, ms: number): number {
    let low = 0;
    let high = this.count;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (times[this.rows[middle]!]! < ms) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

function arrayList(refs: Int32Array | number[]): RecordList {
  return { length: refs.length, at: (position) => refs[position]! };
}

/**
 * The mutable store behind the fake PagerDuty: incidents and log entries in
 * compact form, queries the server pages through, renderers producing API
 * objects, and the mutations tests of incremental sync use.
 */
export class PagerDutyHistory {
  private readonly incidents: IncidentRows;
  private readonly entries: LogEntryRows;
  private readonly incidentOrder: SortedRows;
  private readonly entryOrder: SortedRows;
  private readonly rawIncidents: RawRecord[] = [];
  private readonly rawLogEntries: RawRecord[] = [];
  private changeCount = 0;

  /** Builds an empty history; `generatePagerDutyHistory` is the usual way to get one. */
  constructor(
    private readonly catalog: Catalog,
    expectedIncidents = 0,
  ) {
    this.incidents = new IncidentRows(expectedIncidents + 64);
    this.entries = new LogEntryRows(expectedIncidents * 7 + 256);
    this.incidentOrder = new SortedRows(expectedIncidents + 64);
    this.entryOrder = new SortedRows(expectedIncidents * 7 + 256);
  }

  /** Incidents with ground truth (generated or added), not counting raw ones. */
  get incidentCount(): number {
    return this.incidents.count;
  }

  /** Log entries with ground truth, not counting raw ones. */
  get logEntryCount(): number {
    return this.entries.count;
  }

  get rawIncidentCount(): number {
    return this.rawIncidents.length;
  }

  get rawLogEntryCount(): number {
    return this.rawLogEntries.length;
  }

  /** Grows with every change; caches of rendered pages key on it. */
  get version(): number {
    return this.changeCount;
  }

  get services(): readonly ServiceEntry[] {
    return this.catalog.services;
  }

  get teams(): readonly CatalogEntry[] {
    return this.catalog.teams;
  }

  get subdomain(): string {
    return this.catalog.subdomain;
  }

  incidentId(row: number): string {
    return 'Q' + base36(this.incidents.idKey[row]!, 6);
  }

  logEntryId(row: number): string {
    return 'R' + base36(this.entries.idKey[row]!, 6) + base36(hash32(row, this.catalog.logEntryKey), 7);
  }

  /** Ground truth per incident, in creation order, reflecting mutations. */
  expectedFacts(): ExpectedIncidentFacts[] {
    const rows = this.incidents;
    const facts: ExpectedIncidentFacts[] = [];
    for (let p = 0; p < this.incidentOrder.count; p++) {
      const i = this.incidentOrder.rows[p]!;
      const priority = rows.priority[i]!;
      const service = this.catalog.services[rows.service[i]!]!;
      facts.push({
        id: this.incidentId(i),
        createdAt: iso(rows.createdAt[i]!),
        firstAckAt: Number.isNaN(rows.firstAckAt[i]!) ? null : iso(rows.firstAckAt[i]!),
        resolvedAt: rows.status[i] === RESOLVED ? iso(rows.resolvedAt[i]!) : null,
        status: STATUSES[rows.status[i]!]!,
        merged: rows.mergedInto[i]! >= 0,
        escalated: rows.escalated[i] === 1,
        unackCount: rows.unackCount[i]!,
        priority: priority >= 0 ? PRIORITY_NAMES[priority]! : null,
        urgency: URGENCIES[rows.urgency[i]!]!,
        serviceId: service.id,
        teamId: service.teamId,
      });
    }
    return facts;
  }

  // ---- mutations (tests of incremental sync) ----

  /** Creates a triggered incident with its trigger log entry; returns its id. */
  addIncident(incident: NewIncident): string {
    const createdAt = wholeSeconds(incident.createdAt, 'createdAt');
    const priority = this.priorityIndex(incident.priority);
    const urgency = URGENCIES.indexOf(incident.urgency);
    if (urgency < 0) throw new RangeError(`urgency must be 'high' or 'low', got ${JSON.stringify(incident.urgency)}`);
    const service = incident.serviceIndex;
    if (!Number.isInteger(service) || service < 0 || service >= this.catalog.services.length) {
      throw new RangeError(`serviceIndex must be 0..${this.catalog.services.length - 1}, got ${service}`);
    }
    const titleKind = this.incidents.count % TITLE_TEMPLATES.length;
    const row = this.createIncidentRow(createdAt, priority, urgency, service, titleKind, 1, 1);
    this.incidentOrder.insert(row, this.compareIncidentRows);
    const responder = onCallUser(this.catalog, service, createdAt, 0);
    this.record(row, TRIGGER, createdAt, serviceAgent(service), CH_API, responder, true);
    this.changeCount++;
    return this.incidentId(row);
  }

  acknowledge(id: string, at: Date): void {
    const row = this.requireIncident(id);
    const time = this.requireTime(row, at);
    if (this.incidents.status[row] === RESOLVED) throw new Error(`incident ${id} is resolved: it cannot be acknowledged`);
    const user = this.currentResponder(row);
    this.record(row, ACKNOWLEDGE, time, userAgent(user), CH_WEBSITE, 0, true);
  }

  unacknowledge(id: string, at: Date): void {
    const row = this.requireIncident(id);
    const time = this.requireTime(row, at);
    if (this.incidents.status[row] !== ACKNOWLEDGED) {
      throw new Error(`incident ${id} is ${STATUSES[this.incidents.status[row]!]}: only an acknowledged incident can be unacknowledged`);
    }
    this.record(row, UNACKNOWLEDGE, time, serviceAgent(this.incidents.service[row]!), CH_TIMEOUT, 0, true);
  }

  /** Escalates to the next responder of the service's team (PagerDuty keeps the status). */
  escalate(id: string, at: Date): void {
    const row = this.requireIncident(id);
    const time = this.requireTime(row, at);
    if (this.incidents.status[row] === RESOLVED) throw new Error(`incident ${id} is resolved: it cannot be escalated`);
    const next = this.nextResponder(row);
    this.record(row, ESCALATE, time, serviceAgent(this.incidents.service[row]!), CH_TIMEOUT, next, true);
  }

  resolve(id: string, at: Date): void {
    const row = this.requireIncident(id);
    const time = this.requireTime(row, at);
    if (this.incidents.status[row] === RESOLVED) throw new Error(`incident ${id} is already resolved`);
    const user = this.currentResponder(row);
    this.record(row, RESOLVE, time, userAgent(user), CH_WEBSITE, 0, true);
  }

  setPriority(id: string, priority: string | null, at: Date): void {
    const row = this.requireIncident(id);
    const time = this.requireTime(row, at);
    const to = this.priorityIndex(priority);
    const from = this.incidents.priority[row]!;
    const user = this.currentResponder(row);
    this.record(row, PRIORITY_CHANGE, time, userAgent(user), CH_WEBSITE, (from + 1) * 16 + (to + 1), true);
  }

  /** Stores an incident served verbatim (for quarantine tests). */
  addRawIncident(value: unknown): void {
    const record = asRecord(value);
    this.rawIncidents.push({
      value,
      id: typeof record?.id === 'string' ? record.id : undefined,
      createdAt: parsedTime(record?.created_at),
    });
    this.changeCount++;
  }

  /** Stores a log entry served verbatim; `incident.id` ties it to an incident's log. */
  addRawLogEntry(value: unknown): void {
    const record = asRecord(value);
    this.rawLogEntries.push({
      value,
      id: typeof record?.id === 'string' ? record.id : undefined,
      createdAt: parsedTime(record?.created_at),
    });
    this.changeCount++;
  }

  // ---- queries (the server pages through these) ----

  /** An incident by id or incident number; a reference for the renderers. */
  findIncident(idOrNumber: string): number | undefined {
    const row = this.incidentRow(idOrNumber);
    if (row !== undefined) return row;
    if (/^[1-9]\d{0,9}$/.test(idOrNumber) && Number(idOrNumber) <= this.incidents.count) return Number(idOrNumber) - 1;
    const raw = this.rawIncidents.findIndex((r) => r.id === idOrNumber);
    return raw >= 0 ? -1 - raw : undefined;
  }

  findLogEntry(id: string): number | undefined {
    const match = /^R([0-9A-Z]{6})([0-9A-Z]{7})$/.exec(id);
    if (match) {
      const row = unpermute(parseInt(match[1]!, 36), this.catalog.logEntryKey);
      if (row < this.entries.count && this.logEntryId(row) === id) return row;
    }
    const raw = this.rawLogEntries.findIndex((r) => r.id === id);
    return raw >= 0 ? -1 - raw : undefined;
  }

  listIncidents(query: IncidentQuery): RecordList {
    const order = this.incidentOrder;
    const rows = this.incidents;
    const low = query.since === undefined ? 0 : order.lowerBound(rows.createdAt, query.since);
    const high = query.until === undefined ? order.count : order.lowerBound(rows.createdAt, query.until);
    const raws = this.rawIncidents.flatMap((raw, r) =>
      inWindow(raw.createdAt, query) && rawIncidentMatches(raw.value, query) ? [-1 - r] : [],
    );
    const filtered = query.statuses || query.urgencies || query.serviceIds || query.teamIds;
    if (!filtered && raws.length === 0 && !query.sortBy?.length) {
      return { length: Math.max(0, high - low), at: (position) => order.rows[low + position]! };
    }
    const refs: number[] = [];
    for (let p = low; p < high; p++) {
      const i = order.rows[p]!;
      if (!filtered || this.incidentMatches(i, query)) refs.push(i);
    }
    for (const raw of raws) refs.push(raw);
    const sortBy = query.sortBy ?? [];
    refs.sort((a, b) => {
      for (const sort of sortBy) {
        const difference = compareSortValues(this.sortValue(a, sort.field), this.sortValue(b, sort.field));
        if (difference !== 0) return sort.descending ? -difference : difference;
      }
      return this.compareIncidentRefs(a, b);
    });
    return arrayList(refs);
  }

  /** Newest first, ties by id descending. */
  listLogEntries(query: LogEntryQuery): RecordList {
    const rows = this.entries;
    const incidentId = query.incident === undefined ? undefined : this.referenceId(query.incident);
    const raws = this.rawLogEntries.flatMap((raw, r) =>
      inWindow(raw.createdAt, query) && rawLogEntryMatches(raw.value, query, incidentId) ? [-1 - r] : [],
    );
    if (query.incident !== undefined && query.incident < 0) return arrayList(raws);
    const keep = (e: number) =>
      inWindow(rows.createdAt[e]!, query) &&
      !(query.overview && rows.type[e] === NOTIFY) &&
      (!query.teamIds || query.teamIds.has(this.teamOfIncident(rows.incident[e]!).id));
    if (query.incident !== undefined) {
      const refs: number[] = [];
      for (let e = this.incidents.firstEntry[query.incident]!; e >= 0; e = rows.next[e]!) if (keep(e)) refs.push(e);
      for (const raw of raws) refs.push(raw);
      return arrayList(refs.sort((a, b) => this.compareLogEntryRefs(b, a)));
    }
    const order = this.entryOrder;
    const low = query.since === undefined ? 0 : order.lowerBound(rows.createdAt, query.since);
    const high = query.until === undefined ? order.count : order.lowerBound(rows.createdAt, query.until);
    if (!query.overview && !query.teamIds && raws.length === 0) {
      return { length: Math.max(0, high - low), at: (position) => order.rows[high - 1 - position]! };
    }
    const refs: number[] = [];
    for (let p = high - 1; p >= low; p--) {
      const e = order.rows[p]!;
      if (keep(e)) refs.push(e);
    }
    if (raws.length === 0) return arrayList(refs);
    for (const raw of raws) refs.push(raw);
    return arrayList(refs.sort((a, b) => this.compareLogEntryRefs(b, a)));
  }

  // ---- rendering: API objects, built only when a response needs them ----

  renderIncident(ref: number): unknown {
    if (ref < 0) return this.rawIncidents[-1 - ref]!.value;
    const rows = this.incidents;
    const id = this.incidentId(ref);
    const status = rows.status[ref]!;
    const service = rows.service[ref]!;
    const title = this.title(ref);
    const priority = rows.priority[ref]!;
    const alerts = rows.alerts[ref]!;
    const merged = rows.mergedInto[ref]!;
    const web = this.webBase();
    return {
      id,
      type: 'incident',
      summary: `[#${this.incidentNumber(ref)}] ${title}`,
      self: `${API_BASE}/incidents/${id}`,
      html_url: `${web}/incidents/${id}`,
      incident_number: this.incidentNumber(ref),
      title,
      description: title,
      created_at: iso(rows.createdAt[ref]!),
      updated_at: iso(rows.updatedAt[ref]!),
      status: STATUSES[status],
      incident_key: hash32(ref, this.catalog.incidentKey).toString(16).padStart(8, '0') +
        hash32(ref + 1, this.catalog.incidentKey).toString(16).padStart(8, '0'),
      service: this.serviceRef(service),
      assignments:
        status === RESOLVED || rows.assignee[ref]! < 0
          ? []
          : [{ at: iso(rows.assignedAt[ref]!), assignee: this.userRef(rows.assignee[ref]!) }],
      assigned_via: 'escalation_policy',
      last_status_change_at: iso(rows.statusChangedAt[ref]!),
      last_status_change_by: this.agentRef(rows.statusChangedBy[ref]!),
      resolved_at: status === RESOLVED ? iso(rows.resolvedAt[ref]!) : null,
      first_trigger_log_entry: this.logEntryRef(rows.firstEntry[ref]!),
      alert_counts: { all: alerts, triggered: status === RESOLVED ? 0 : alerts, resolved: status === RESOLVED ? alerts : 0 },
      is_mergeable: true,
      incident_type: { name: 'incident_default' },
      escalation_policy: this.policyRef(service),
      teams: [this.teamRef(this.catalog.serviceTeam[service]!)],
      pending_actions: [],
      acknowledgements:
        status === ACKNOWLEDGED ? [{ at: iso(rows.ackAt[ref]!), acknowledger: this.userRef(rows.ackBy[ref]!) }] : [],
      priority: priority >= 0 ? this.priorityObject(priority) : null,
      resolve_reason: merged >= 0 ? { type: 'merge_resolve_reason', incident: this.incidentRef(merged) } : null,
      incidents_responders: [],
      responder_requests: [],
      urgency: URGENCIES[rows.urgency[ref]!],
    };
  }

  /** With `includeIncident`, `incident` is the full incident (include[]=incidents). */
  renderLogEntry(ref: number, includeIncident = false): unknown {
    if (ref < 0) return this.rawLogEntries[-1 - ref]!.value;
    const rows = this.entries;
    const type = rows.type[ref]!;
    const incident = rows.incident[ref]!;
    const service = this.incidents.service[incident]!;
    const detail = rows.detail[ref]!;
    const id = this.logEntryId(ref);
    const entry: Record<string, unknown> = {
      id,
      type: LOG_ENTRY_TYPES[type],
      summary: this.logEntrySummary(ref),
      self: `${API_BASE}/log_entries/${id}`,
      html_url: `${this.webBase()}/incidents/${this.incidentId(incident)}/log_entries/${id}`,
      created_at: iso(rows.createdAt[ref]!),
      agent: this.agentRef(rows.agent[ref]!),
      channel: this.channelObject(ref),
      service: this.serviceRef(service),
      incident: includeIncident ? this.renderIncident(incident) : this.incidentRef(incident),
      teams: [this.teamRef(this.catalog.serviceTeam[service]!)],
      contexts: [],
    };
    if (type === TRIGGER) entry.event_details = { description: this.title(incident) };
    if (type === ASSIGN || type === ESCALATE) entry.assignees = [this.userRef(detail)];
    if (type === NOTIFY) entry.user = this.userRef(detail >> 2);
    if (type === ACKNOWLEDGE) {
      const timeout = this.catalog.services[service]!.acknowledgementTimeout;
      if (timeout !== null) entry.acknowledgement_timeout = timeout;
    }
    return entry;
  }

  // ---- internals ----

  /** Appends a log entry and applies it to its incident: the one place state changes. */
  private record(row: number, type: number, at: number, agent: number, channel: number, detail: number, mutation: boolean): void {
    const entries = this.entries;
    if (entries.count === entries.capacity) entries.grow();
    const e = entries.count++;
    entries.incident[e] = row;
    entries.type[e] = type;
    entries.createdAt[e] = at;
    entries.agent[e] = agent;
    entries.channel[e] = channel;
    entries.detail[e] = detail;
    entries.next[e] = -1;
    entries.idKey[e] = permute(e, this.catalog.logEntryKey);
    const rows = this.incidents;
    if (rows.firstEntry[row]! < 0) rows.firstEntry[row] = e;
    else entries.next[rows.lastEntry[row]!] = e;
    rows.lastEntry[row] = e;
    if (mutation) {
      this.entryOrder.insert(e, this.compareEntryRows);
      this.changeCount++;
    }

    if (type !== NOTIFY) rows.updatedAt[row] = Math.max(rows.updatedAt[row]!, at);
    switch (type) {
      case TRIGGER:
        this.changeStatus(row, TRIGGERED, at, agent);
        rows.assignee[row] = detail;
        rows.assignedAt[row] = at;
        break;
      case ASSIGN:
      case ESCALATE:
        rows.assignee[row] = detail;
        rows.assignedAt[row] = at;
        if (type === ESCALATE) rows.escalated[row] = 1;
        break;
      case ACKNOWLEDGE:
        this.changeStatus(row, ACKNOWLEDGED, at, agent);
        rows.ackAt[row] = at;
        rows.ackBy[row] = agent % AGENT_KIND_SPAN;
        if (Number.isNaN(rows.firstAckAt[row]!) || at < rows.firstAckAt[row]!) rows.firstAckAt[row] = at;
        break;
      case UNACKNOWLEDGE:
        this.changeStatus(row, TRIGGERED, at, agent);
        rows.unackCount[row]!++;
        break;
      case RESOLVE:
        this.changeStatus(row, RESOLVED, at, agent);
        rows.resolvedAt[row] = at;
        rows.mergedInto[row] = detail - 1;
        break;
      case PRIORITY_CHANGE:
        rows.priority[row] = (detail % 16) - 1;
        break;
    }
  }

  private changeStatus(row: number, status: number, at: number, agent: number): void {
    const rows = this.incidents;
    rows.status[row] = status;
    rows.statusChangedAt[row] = at;
    rows.statusChangedBy[row] = agent;
  }

  /** @internal For the generator: a new incident row, before its log entries. */
  createIncidentRow(createdAt: number, priority: number, urgency: number, service: number, titleKind: number, alerts: number, titleHost: number): number {
    const rows = this.incidents;
    if (rows.count === rows.capacity) rows.grow();
    const i = rows.count++;
    rows.createdAt[i] = createdAt;
    rows.updatedAt[i] = createdAt;
    rows.statusChangedAt[i] = createdAt;
    rows.statusChangedBy[i] = serviceAgent(service);
    rows.resolvedAt[i] = Number.NaN;
    rows.firstAckAt[i] = Number.NaN;
    rows.ackAt[i] = Number.NaN;
    rows.ackBy[i] = -1;
    rows.assignee[i] = -1;
    rows.assignedAt[i] = createdAt;
    rows.status[i] = TRIGGERED;
    rows.priority[i] = priority;
    rows.urgency[i] = urgency;
    rows.service[i] = service;
    rows.titleKind[i] = titleKind;
    rows.titleHost[i] = titleHost;
    rows.alerts[i] = alerts;
    rows.mergedInto[i] = -1;
    rows.unackCount[i] = 0;
    rows.escalated[i] = 0;
    rows.idKey[i] = permute(i, this.catalog.incidentKey);
    rows.firstEntry[i] = -1;
    rows.lastEntry[i] = -1;
    return i;
  }

  /** @internal For the generator: one event of a simulated lifecycle, in time order per incident. */
  recordGenerated(row: number, type: number, at: number, agent: number, channel: number, detail: number): void {
    this.record(row, type, at, agent, channel, detail, false);
  }

  /** @internal For the generator: sorts both listings once, after bulk loading. */
  buildOrders(): void {
    const fill = (order: SortedRows, count: number, compare: (a: number, b: number) => number) => {
      if (order.rows.length < count) order.rows = new Int32Array(count + 64);
      for (let i = 0; i < count; i++) order.rows[i] = i;
      order.rows.subarray(0, count).sort(compare);
      order.count = count;
    };
    fill(this.incidentOrder, this.incidents.count, this.compareIncidentRows);
    fill(this.entryOrder, this.entries.count, this.compareEntryRows);
    this.changeCount++;
  }

  private readonly compareIncidentRows = (a: number, b: number): number =>
    this.incidents.createdAt[a]! - this.incidents.createdAt[b]! || this.incidents.idKey[a]! - this.incidents.idKey[b]!;

  private readonly compareEntryRows = (a: number, b: number): number =>
    this.entries.createdAt[a]! - this.entries.createdAt[b]! || this.entries.idKey[a]! - this.entries.idKey[b]!;

  /** (created_at, id) for generated and raw incidents alike; raw ones without a date first. */
  private compareIncidentRefs(a: number, b: number): number {
    if (a >= 0 && b >= 0) return this.compareIncidentRows(a, b);
    return compareTimeAndId(this.incidentTime(a), this.referenceId(a) ?? '', this.incidentTime(b), this.referenceId(b) ?? '');
  }

  private compareLogEntryRefs(a: number, b: number): number {
    if (a >= 0 && b >= 0) return this.compareEntryRows(a, b);
    const time = (ref: number) => (ref >= 0 ? this.entries.createdAt[ref]! : this.rawLogEntries[-1 - ref]!.createdAt);
    const id = (ref: number) => (ref >= 0 ? this.logEntryId(ref) : (this.rawLogEntries[-1 - ref]!.id ?? ''));
    // Undated raw entries come first in the newest-first listing.
    const orderTime = (ref: number) => (Number.isNaN(time(ref)) ? Number.POSITIVE_INFINITY : time(ref));
    return compareTimeAndId(orderTime(a), id(a), orderTime(b), id(b));
  }

  private incidentTime(ref: number): number {
    const time = ref >= 0 ? this.incidents.createdAt[ref]! : this.rawIncidents[-1 - ref]!.createdAt;
    return Number.isNaN(time) ? Number.NEGATIVE_INFINITY : time;
  }

  private referenceId(ref: number): string | undefined {
    return ref >= 0 ? this.incidentId(ref) : this.rawIncidents[-1 - ref]!.id;
  }

  private sortValue(ref: number, field: IncidentSortField): number | string | undefined {
    if (ref < 0) {
      const raw = asRecord(this.rawIncidents[-1 - ref]!.value);
      const value = raw?.[field];
      if (typeof value === 'number') return value;
      if (typeof value !== 'string') return undefined;
      return field === 'urgency' ? value : Date.parse(value);
    }
    const rows = this.incidents;
    switch (field) {
      case 'incident_number':
        return this.incidentNumber(ref);
      case 'created_at':
        return rows.createdAt[ref]!;
      case 'resolved_at':
        return rows.status[ref] === RESOLVED ? rows.resolvedAt[ref]! : undefined;
      case 'urgency':
        return URGENCIES[rows.urgency[ref]!];
    }
  }

  private incidentMatches(i: number, query: IncidentQuery): boolean {
    const rows = this.incidents;
    if (query.statuses && !query.statuses.has(STATUSES[rows.status[i]!]!)) return false;
    if (query.urgencies && !query.urgencies.has(URGENCIES[rows.urgency[i]!]!)) return false;
    const service = this.catalog.services[rows.service[i]!]!;
    if (query.serviceIds && !query.serviceIds.has(service.id)) return false;
    if (query.teamIds && !query.teamIds.has(service.teamId)) return false;
    return true;
  }

  private incidentRow(id: string): number | undefined {
    const match = /^Q([0-9A-Z]{6})$/.exec(id);
    if (!match) return undefined;
    const row = unpermute(parseInt(match[1]!, 36), this.catalog.incidentKey);
    return row < this.incidents.count && this.incidentId(row) === id ? row : undefined;
  }

  private requireIncident(id: string): number {
    const row = this.incidentRow(id);
    if (row === undefined) throw new Error(`no generated incident with id ${JSON.stringify(id)} (raw incidents cannot be mutated)`);
    return row;
  }

  private requireTime(row: number, at: Date): number {
    const time = wholeSeconds(at, 'at');
    if (time < this.incidents.createdAt[row]!) {
      throw new RangeError(`${iso(time)} is before incident ${this.incidentId(row)} was created (${iso(this.incidents.createdAt[row]!)})`);
    }
    return time;
  }

  private priorityIndex(name: string | null): number {
    if (name === null) return -1;
    const index = PRIORITY_NAMES.indexOf(name as (typeof PRIORITY_NAMES)[number]);
    if (index < 0) throw new RangeError(`priority must be one of ${PRIORITY_NAMES.join(', ')} or null, got ${JSON.stringify(name)}`);
    return index;
  }

  private currentResponder(row: number): number {
    const assignee = this.incidents.assignee[row]!;
    return assignee >= 0 ? assignee : onCallUser(this.catalog, this.incidents.service[row]!, this.incidents.createdAt[row]!, 0);
  }

  private nextResponder(row: number): number {
    const current = this.currentResponder(row);
    const team = Math.floor(current / USERS_PER_TEAM);
    return team * USERS_PER_TEAM + ((current % USERS_PER_TEAM) + 3) % USERS_PER_TEAM;
  }

  private incidentNumber(row: number): number {
    return row + 1;
  }

  private teamOfIncident(row: number): CatalogEntry {
    return this.catalog.teams[this.catalog.serviceTeam[this.incidents.service[row]!]!]!;
  }

  private title(row: number): string {
    const template = TITLE_TEMPLATES[this.incidents.titleKind[row]! % TITLE_TEMPLATES.length]!;
    const service = this.catalog.services[this.incidents.service[row]!]!.name;
    return template.replace('{service}', service).replace('{host}', String(this.incidents.titleHost[row]!));
  }

  private webBase(): string {
    return `https://${this.catalog.subdomain}.pagerduty.com`;
  }

  private userRef(user: number): Record<string, unknown> {
    const entry = this.catalog.users[user]!;
    return {
      id: entry.id,
      type: 'user_reference',
      summary: entry.name,
      self: `${API_BASE}/users/${entry.id}`,
      html_url: `${this.webBase()}/users/${entry.id}`,
    };
  }

  private serviceRef(service: number): Record<string, unknown> {
    const entry = this.catalog.services[service]!;
    return {
      id: entry.id,
      type: 'service_reference',
      summary: entry.name,
      self: `${API_BASE}/services/${entry.id}`,
      html_url: `${this.webBase()}/service-directory/${entry.id}`,
    };
  }

  private teamRef(team: number): Record<string, unknown> {
    const entry = this.catalog.teams[team]!;
    return {
      id: entry.id,
      type: 'team_reference',
      summary: entry.name,
      self: `${API_BASE}/teams/${entry.id}`,
      html_url: `${this.webBase()}/teams/${entry.id}`,
    };
  }

  private policyRef(service: number): Record<string, unknown> {
    const entry = this.catalog.policies[service]!;
    return {
      id: entry.id,
      type: 'escalation_policy_reference',
      summary: entry.name,
      self: `${API_BASE}/escalation_policies/${entry.id}`,
      html_url: `${this.webBase()}/escalation_policies/${entry.id}`,
    };
  }

  private agentRef(agent: number): Record<string, unknown> {
    const index = agent % AGENT_KIND_SPAN;
    return Math.floor(agent / AGENT_KIND_SPAN) === AGENT_USER ? this.userRef(index) : this.serviceRef(index);
  }

  private incidentRef(row: number): Record<string, unknown> {
    const id = this.incidentId(row);
    return {
      id,
      type: 'incident_reference',
      summary: `[#${this.incidentNumber(row)}] ${this.title(row)}`,
      self: `${API_BASE}/incidents/${id}`,
      html_url: `${this.webBase()}/incidents/${id}`,
    };
  }

  private logEntryRef(entry: number): Record<string, unknown> {
    const id = this.logEntryId(entry);
    const incident = this.incidentId(this.entries.incident[entry]!);
    return {
      id,
      type: `${LOG_ENTRY_TYPES[this.entries.type[entry]!]}_reference`,
      summary: this.logEntrySummary(entry),
      self: `${API_BASE}/log_entries/${id}`,
      html_url: `${this.webBase()}/incidents/${incident}/log_entries/${id}`,
    };
  }

  private priorityObject(priority: number): Record<string, unknown> {
    const entry = this.catalog.priorities[priority]!;
    return {
      id: entry.id,
      type: 'priority',
      summary: entry.name,
      self: `${API_BASE}/priorities/${entry.id}`,
      html_url: null,
      name: entry.name,
      description: PRIORITY_DESCRIPTIONS[priority],
      color: PRIORITY_COLORS[priority],
      order: (5 - priority) * 128,
    };
  }

  private channelObject(entry: number): Record<string, unknown> {
    const rows = this.entries;
    const channel = rows.channel[entry]!;
    const type = rows.type[entry]!;
    const incident = rows.incident[entry]!;
    if (type === TRIGGER && channel === CH_API) {
      const title = this.title(incident);
      return { type: 'api', summary: title, description: title, details: {} };
    }
    if (type === TRIGGER && channel === CH_WEB_TRIGGER) {
      return { type: 'web_trigger', summary: this.title(incident), subject: this.title(incident) };
    }
    if (type === ANNOTATE) return { type: 'note', summary: NOTES[rows.detail[entry]! % NOTES.length] };
    if (type === NOTIFY) {
      const detail = rows.detail[entry]!;
      const user = this.catalog.users[detail >> 2]!;
      const kind = detail & 3;
      return {
        type: 'notification',
        notification: {
          type: NOTIFICATION_TYPES[kind],
          status: 'success',
          started_at: iso(rows.createdAt[entry]!),
          ...(kind === 0 ? {} : { address: kind === 3 ? `${user.name.split(' ')[0]!.toLowerCase()}@example.com` : '+15555550100' }),
        },
      };
    }
    return { type: CHANNEL_TYPES[channel] };
  }

  private logEntrySummary(entry: number): string {
    const rows = this.entries;
    const agent = rows.agent[entry]!;
    const byUser = Math.floor(agent / AGENT_KIND_SPAN) === AGENT_USER;
    const agentName = byUser ? this.catalog.users[agent % AGENT_KIND_SPAN]!.name : '';
    const detail = rows.detail[entry]!;
    const channel = rows.channel[entry]!;
    switch (rows.type[entry]!) {
      case TRIGGER:
        return channel === CH_API ? 'Triggered through the API.' : 'Triggered through the website.';
      case ASSIGN:
        return `Assigned to ${this.catalog.users[detail]!.name}.`;
      case NOTIFY:
        return `Notified ${this.catalog.users[detail >> 2]!.name} by ${NOTIFICATION_WORDS[detail & 3]}.`;
      case ACKNOWLEDGE:
        return `Acknowledged by ${agentName}.`;
      case UNACKNOWLEDGE:
        return 'Unacknowledged due to timeout.';
      case ESCALATE:
        return byUser
          ? `Escalated to ${this.catalog.users[detail]!.name} by ${agentName}.`
          : `Escalated to ${this.catalog.users[detail]!.name} by timeout.`;
      case ANNOTATE:
        return `${agentName} added a note.`;
      case RESOLVE:
        if (detail > 0) return `Resolved by merge into #${this.incidentNumber(detail - 1)}.`;
        return byUser ? `Resolved by ${agentName}.` : 'Resolved through the API.';
      case PRIORITY_CHANGE: {
        const name = (code: number) => (code === 0 ? 'none' : PRIORITY_NAMES[code - 1]!);
        return `Priority changed from "${name(Math.floor(detail / 16))}" to "${name(detail % 16)}" by ${agentName}.`;
      }
      default:
        return 'Log entry.';
    }
  }
}

function serviceAgent(service: number): number {
  return AGENT_SERVICE * AGENT_KIND_SPAN + service;
}

function userAgent(user: number): number {
  return AGENT_USER * AGENT_KIND_SPAN + user;
}

/** The user on call for a service at an escalation level (0 or 1): a weekly rotation. */
function onCallUser(catalog: Catalog, service: number, at: number, level: number): number {
  const slot = (Math.floor(at / (7 * DAY_MS)) + level * 3 + service) % USERS_PER_TEAM;
  return catalog.serviceTeam[service]! * USERS_PER_TEAM + slot;
}

function inWindow(time: number, query: { since?: number; until?: number }): boolean {
  if (Number.isNaN(time)) return true;
  return (query.since === undefined || time >= query.since) && (query.until === undefined || time < query.until);
}

function rawIncidentMatches(value: unknown, query: IncidentQuery): boolean {
  const raw = asRecord(value);
  const field = (name: string) => (typeof raw?.[name] === 'string' ? (raw[name] as string) : undefined);
  const status = field('status');
  const urgency = field('urgency');
  const serviceId = asRecord(raw?.service)?.id;
  if (query.statuses && status !== undefined && !query.statuses.has(status)) return false;
  if (query.urgencies && urgency !== undefined && !query.urgencies.has(urgency)) return false;
  if (query.serviceIds && typeof serviceId === 'string' && !query.serviceIds.has(serviceId)) return false;
  return true;
}

function rawLogEntryMatches(value: unknown, query: LogEntryQuery, incidentId: string | undefined): boolean {
  const raw = asRecord(value);
  if (incidentId !== undefined) return asRecord(raw?.incident)?.id === incidentId;
  if (query.overview && raw?.type === 'notify_log_entry') return false;
  return true;
}

function compareTimeAndId(timeA: number, idA: string, timeB: number, idB: string): number {
  if (timeA !== timeB) return timeA < timeB ? -1 : 1;
  return idA < idB ? -1 : idA > idB ? 1 : 0;
}

/** Missing values sort last, as PagerDuty puts unresolved incidents after resolved ones. */
function compareSortValues(a: number | string | undefined, b: number | string | undefined): number {
  if (a === b) return 0;
  if (a === undefined || (typeof a === 'number' && Number.isNaN(a))) return 1;
  if (b === undefined || (typeof b === 'number' && Number.isNaN(b))) return -1;
  return a < b ? -1 : 1;
}

// ---- generation ----

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
  if (!(end > start)) throw new RangeError(`end (${iso(end)}) must be after start (${iso(start)})`);
  const count = options.incidents;
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`incidents must be a whole number >= 0, got ${count}`);
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
  const history = new PagerDutyHistory(catalog, count);

  const createdTimes = drawCreationTimes(rng, count, start, end);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const logNormal = (median: number, sigma: number) => median * Math.exp(sigma * gaussian());
  const pick = (n: number) => Math.floor(rng() * n);
  const events = new EventBuffer();
  // Busier services page more often.
  const serviceWeights = Array.from({ length: serviceCount }, (_, s) => 1 / (1 + s * 0.35));
  const weightTotal = serviceWeights.reduce((sum, w) => sum + w, 0);
  const drawService = () => {
    let r = rng() * weightTotal;
    for (let s = 0; s < serviceCount; s++) {
      r -= serviceWeights[s]!;
      if (r < 0) return s;
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
    const row = history.createIncidentRow(created, priority, urgency, service, titleKind, alerts, 1 + pick(24));
    const integration = serviceAgent(service);
    const firstResponder = onCallUser(catalog, service, created, 0);
    const secondResponder = onCallUser(catalog, service, created, 1);
    const ackTimeoutMs = (catalog.services[service]!.acknowledgementTimeout ?? 0) * 1000;
    const notify = (at: number, u: number) => {
      events.push(at + 5_000, NOTIFY, userAgent(u), CH_NOTIFICATION, u * 4 + 0);
      if (rng() < 0.35) events.push(at + 60_000, NOTIFY, userAgent(u), CH_NOTIFICATION, u * 4 + 1);
      if (highUrgency && rng() < 0.15) events.push(at + 180_000, NOTIFY, userAgent(u), CH_NOTIFICATION, u * 4 + 2);
    };
    const escalateByTimeout = () => {
      events.push(created + ESCALATION_DELAY_MS, ESCALATE, integration, CH_TIMEOUT, secondResponder);
      notify(created + ESCALATION_DELAY_MS, secondResponder);
    };

    events.count = 0;
    const manual = rng() < 0.08;
    events.push(created, TRIGGER, manual ? userAgent(firstResponder) : integration, manual ? CH_WEB_TRIGGER : CH_API, firstResponder);
    events.push(created, ASSIGN, integration, CH_AUTO, firstResponder);
    notify(created, firstResponder);

    const outcome = rng();
    if (outcome < 0.03 && n > 0) {
      // A duplicate page: the responder merges it into the incident just before it.
      const mergedAt = created + Math.min(2 * HOUR_MS, 60_000 + logNormal(8 * MINUTE_MS, 0.8));
      if (rng() < 0.4) events.push(created + (mergedAt - created) * rng(), ACKNOWLEDGE, userAgent(firstResponder), CH_WEBSITE, 0);
      // A resolve's detail is 1 + the row it was merged into.
      events.push(mergedAt, RESOLVE, userAgent(firstResponder), CH_WEBSITE, row - 1 + 1);
    } else if (outcome < 0.07) {
      // Never acknowledged: mostly a flapping alert that recovered on its own.
      if (rng() < 0.7) {
        events.push(created + 30_000 + logNormal(6 * MINUTE_MS, 0.9), RESOLVE, integration, CH_API, 0);
      } else {
        const resolvedAt = created + 60_000 + logNormal(40 * MINUTE_MS, 0.8);
        if (resolvedAt > created + ESCALATION_DELAY_MS) escalateByTimeout();
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
        events.push(unackAt, UNACKNOWLEDGE, integration, CH_TIMEOUT, 0);
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
      events.push(resolveAt, RESOLVE, byIntegration ? integration : userAgent(acker), byIntegration ? CH_API : CH_WEBSITE, 0);
    }

    // Anything at or after `end` has not happened yet: such incidents stay open.
    for (const k of events.sorted()) {
      const at = events.at[k]!;
      if (at >= end) continue;
      history.recordGenerated(row, events.type[k]!, at, events.agent[k]!, events.channel[k]!, events.detail[k]!);
    }
  }
  history.buildOrders();
  return history;
}

/** Creation times in [start, end), busier in working hours (UTC), sorted. */
function drawCreationTimes(rng: () => number, count: number, start: number, end: number): Float64Array {
  const times = new Float64Array(count);
  const span = end - start;
  for (let n = 0; n < count; ) {
    const at = start + Math.floor((rng() * span) / 1000) * 1000;
    const hour = new Date(at).getUTCHours();
    const weight = hour >= 8 && hour < 19 ? 1 : 0.45;
    if (rng() < weight) times[n++] = at;
  }
  return times.sort();
}
