/**
 * A seeded, realistic PagerDuty account for the simulated server, the demo
 * and the benchmark. Pure: no I/O, no clock, no Math.random.
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
import {
  ACKNOWLEDGE,
  ACKNOWLEDGED,
  AGENT_INTEGRATION,
  AGENT_KIND_SPAN,
  AGENT_USER,
  CH_API,
  CH_NOTIFICATION,
  CH_TIMEOUT,
  CH_WEBSITE,
  ESCALATE,
  NOTIFICATION_TYPES,
  NOTIFY,
  PRIORITY_CHANGE,
  PRIORITY_NAMES,
  RESOLVE,
  RESOLVED,
  STATUSES,
  TRIGGER,
  UNACKNOWLEDGE,
  URGENCIES,
  serviceAgent,
  userAgent,
} from './codes.ts';
import { onCallUser, TITLE_TEMPLATES, type CatalogEntry, type ServiceEntry, type UserEntry } from './catalog.ts';
import {
  PagerDutyQueries,
  type IncidentQuery,
  type LogEntryQuery,
  type RecordList,
  type UserQuery,
} from './queries.ts';
import { PagerDutyAnalytics } from './analytics.ts';
import { PagerDutyRenderer } from './render.ts';
import type { PagerDutyStore } from './store.ts';
import { asRecord, iso, parsedTime, wholeSeconds } from './values.ts';

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
  /** Id of the user whose acknowledgement was the first, or null. */
  firstAckBy: string | null;
  /** Who resolved it: a user, the monitoring tool (as the service or its integration), or the auto-resolve timeout. */
  resolvedBy: 'user' | 'service' | 'integration' | 'timeout' | null;
}

export interface NewIncident {
  createdAt: Date;
  /** A priority name ('P1'..'P5') or null for an incident without priority. */
  priority: string | null;
  urgency: 'high' | 'low';
  serviceIndex: number;
}

/**
 * The simulated PagerDuty account as its server and the tests see it: the
 * queries the server pages through, renderers producing API objects, the
 * ground truth, and the mutations tests of incremental sync use.
 */
export class PagerDutyHistory {
  private readonly queries: PagerDutyQueries;
  private readonly renderer: PagerDutyRenderer;
  private readonly analytics: PagerDutyAnalytics;

  constructor(private readonly store: PagerDutyStore) {
    this.queries = new PagerDutyQueries(store);
    this.renderer = new PagerDutyRenderer(store);
    this.analytics = new PagerDutyAnalytics(store);
  }

  /** Incidents with ground truth (generated or added), not counting raw ones. */
  get incidentCount(): number {
    return this.store.incidents.count;
  }

  /** Log entries with ground truth, not counting raw ones. */
  get logEntryCount(): number {
    return this.store.entries.count;
  }

  get rawIncidentCount(): number {
    return this.store.rawIncidents.length;
  }

  get rawLogEntryCount(): number {
    return this.store.rawLogEntries.length;
  }

  /** Grows with every change; caches of rendered pages key on it. */
  get version(): number {
    return this.store.changeCount;
  }

  get services(): readonly ServiceEntry[] {
    return this.store.catalog.services;
  }

  /** Users with their zones, in catalog order (team by team). */
  get users(): readonly UserEntry[] {
    return this.store.catalog.users;
  }

  get teams(): readonly CatalogEntry[] {
    return this.store.catalog.teams;
  }

  get subdomain(): string {
    return this.store.catalog.subdomain;
  }

  incidentId(row: number): string {
    return this.store.incidentId(row);
  }

  logEntryId(row: number): string {
    return this.store.logEntryId(row);
  }

  /** Ground truth per incident, in creation order, reflecting mutations. */
  expectedFacts(): ExpectedIncidentFacts[] {
    const rows = this.store.incidents;
    const facts: ExpectedIncidentFacts[] = [];
    for (let p = 0; p < this.store.incidentOrder.count; p++) {
      const i = this.store.incidentOrder.rows[p]!;
      const priority = rows.priority[i]!;
      const service = this.store.catalog.services[rows.service[i]!]!;
      facts.push({
        id: this.store.incidentId(i),
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
        ...this.agentsOf(i),
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
    if (urgency < 0) {
      throw new RangeError(`urgency must be 'high' or 'low', got ${JSON.stringify(incident.urgency)}`);
    }
    const service = incident.serviceIndex;
    if (!Number.isInteger(service) || service < 0 || service >= this.store.catalog.services.length) {
      throw new RangeError(`serviceIndex must be 0..${this.store.catalog.services.length - 1}, got ${service}`);
    }
    const titleKind = this.store.incidents.count % TITLE_TEMPLATES.length;
    const row = this.store.createIncidentRow(createdAt, priority, urgency, service, titleKind, 1, 1);
    this.store.incidentOrder.insert(row, this.store.compareIncidentRows);
    const responder = onCallUser(this.store.catalog, service, createdAt, 0);
    this.store.record(row, TRIGGER, createdAt, serviceAgent(service), CH_API, responder, true);
    this.store.changeCount++;
    return this.store.incidentId(row);
  }

  acknowledge(id: string, at: Date): void {
    const row = this.requireIncident(id);
    const time = this.requireTime(row, at);
    if (this.store.incidents.status[row] === RESOLVED) {
      throw new Error(`incident ${id} is resolved: it cannot be acknowledged`);
    }
    const user = this.store.currentResponder(row);
    this.store.record(row, ACKNOWLEDGE, time, userAgent(user), CH_WEBSITE, 0, true);
  }

  unacknowledge(id: string, at: Date): void {
    const row = this.requireIncident(id);
    const time = this.requireTime(row, at);
    if (this.store.incidents.status[row] !== ACKNOWLEDGED) {
      throw new Error(
        `incident ${id} is ${STATUSES[this.store.incidents.status[row]!]}: only an acknowledged incident can be unacknowledged`
      );
    }
    this.store.record(row, UNACKNOWLEDGE, time, serviceAgent(this.store.incidents.service[row]!), CH_TIMEOUT, 0, true);
  }

  /** Escalates to the next responder of the service's team (PagerDuty keeps the status). */
  escalate(id: string, at: Date): void {
    const row = this.requireIncident(id);
    const time = this.requireTime(row, at);
    if (this.store.incidents.status[row] === RESOLVED) {
      throw new Error(`incident ${id} is resolved: it cannot be escalated`);
    }
    const next = this.store.nextResponder(row);
    this.store.record(row, ESCALATE, time, serviceAgent(this.store.incidents.service[row]!), CH_TIMEOUT, next, true);
  }

  /** Notifies the incident's current responder by `method` (a `*_notification` type); returns the user's id. */
  notify(id: string, at: Date, method: string): string {
    const row = this.requireIncident(id);
    const time = this.requireTime(row, at);
    const kind = NOTIFICATION_TYPES.indexOf(method);
    if (kind < 0) {
      throw new RangeError(`method must be one of ${NOTIFICATION_TYPES.join(', ')}, got ${JSON.stringify(method)}`);
    }
    const user = this.store.currentResponder(row);
    this.store.record(row, NOTIFY, time, userAgent(user), CH_NOTIFICATION, user * 4 + kind, true);
    return this.store.catalog.users[user]!.id;
  }

  resolve(id: string, at: Date): void {
    const row = this.requireIncident(id);
    const time = this.requireTime(row, at);
    if (this.store.incidents.status[row] === RESOLVED) {
      throw new Error(`incident ${id} is already resolved`);
    }
    const user = this.store.currentResponder(row);
    this.store.record(row, RESOLVE, time, userAgent(user), CH_WEBSITE, 0, true);
  }

  setPriority(id: string, priority: string | null, at: Date): void {
    const row = this.requireIncident(id);
    const time = this.requireTime(row, at);
    const to = this.priorityIndex(priority);
    const from = this.store.incidents.priority[row]!;
    const user = this.store.currentResponder(row);
    this.store.record(row, PRIORITY_CHANGE, time, userAgent(user), CH_WEBSITE, (from + 1) * 16 + (to + 1), true);
  }

  /**
   * Changes the priority with no log entry, as PagerDuty does when a
   * priority is set through some integrations or a later review: only the
   * incident itself shows it (tests of reconciliation).
   */
  reclassify(id: string, priority: string | null, at: Date): void {
    const row = this.requireIncident(id);
    const time = this.requireTime(row, at);
    this.store.incidents.priority[row] = this.priorityIndex(priority);
    this.store.incidents.updatedAt[row] = Math.max(this.store.incidents.updatedAt[row]!, time);
    this.store.changeCount++;
  }

  /** Stores an incident served verbatim (for quarantine tests). */
  addRawIncident(value: unknown): void {
    const record = asRecord(value);
    this.store.rawIncidents.push({
      value,
      id: typeof record?.id === 'string' ? record.id : undefined,
      createdAt: parsedTime(record?.created_at),
    });
    this.store.changeCount++;
  }

  /** Stores a log entry served verbatim; `incident.id` ties it to an incident's log. */
  addRawLogEntry(value: unknown): void {
    const record = asRecord(value);
    this.store.rawLogEntries.push({
      value,
      id: typeof record?.id === 'string' ? record.id : undefined,
      createdAt: parsedTime(record?.created_at),
    });
    this.store.changeCount++;
  }

  // ---- queries (the server pages through these) ----

  /** An incident by id or incident number; a reference for the renderers. */
  findIncident(idOrNumber: string): number | undefined {
    return this.queries.findIncident(idOrNumber);
  }

  findLogEntry(id: string): number | undefined {
    return this.queries.findLogEntry(id);
  }

  listIncidents(query: IncidentQuery): RecordList {
    return this.queries.listIncidents(query);
  }

  /** Newest first, ties by id descending. */
  listLogEntries(query: LogEntryQuery): RecordList {
    return this.queries.listLogEntries(query);
  }

  listUsers(query: UserQuery): RecordList {
    return this.queries.listUsers(query);
  }

  // ---- rendering: API objects, built only when a response needs them ----

  renderUser(ref: number): unknown {
    return this.renderer.renderUser(ref);
  }

  /** POST /analytics/raw/incidents: a page of per-incident figures for a request body. */
  analyticsRawIncidents(body: unknown): unknown {
    return this.analytics.rawIncidents(body);
  }

  renderIncident(ref: number): unknown {
    return this.renderer.renderIncident(ref);
  }

  /** With `includeIncident`, `incident` is the full incident (include[]=incidents). */
  renderLogEntry(ref: number, includeIncident = false): unknown {
    return this.renderer.renderLogEntry(ref, includeIncident);
  }

  /** Who made the first acknowledgement and the resolution, from the incident's log. */
  private agentsOf(row: number): Pick<ExpectedIncidentFacts, 'firstAckBy' | 'resolvedBy'> {
    const { entries, incidents, catalog } = this.store;
    let firstAckBy: string | null = null;
    let resolvedBy: ExpectedIncidentFacts['resolvedBy'] = null;
    for (let e = incidents.firstEntry[row]!; e >= 0; e = entries.next[e]!) {
      const kind = Math.floor(entries.agent[e]! / AGENT_KIND_SPAN);
      const type = entries.type[e];
      if (type === ACKNOWLEDGE && firstAckBy === null && entries.createdAt[e] === incidents.firstAckAt[row]) {
        firstAckBy = catalog.users[entries.agent[e]! % AGENT_KIND_SPAN]!.id;
      }
      if (type === RESOLVE) {
        resolvedBy =
          kind === AGENT_USER
            ? 'user'
            : kind === AGENT_INTEGRATION
              ? 'integration'
              : entries.channel[e] === CH_TIMEOUT
                ? 'timeout'
                : 'service';
      }
    }
    return { firstAckBy, resolvedBy: incidents.status[row] === RESOLVED ? resolvedBy : null };
  }

  private requireIncident(id: string): number {
    const row = this.store.incidentRow(id);
    if (row === undefined) {
      throw new Error(`no generated incident with id ${JSON.stringify(id)} (raw incidents cannot be mutated)`);
    }
    return row;
  }

  private requireTime(row: number, at: Date): number {
    const time = wholeSeconds(at, 'at');
    if (time < this.store.incidents.createdAt[row]!) {
      throw new RangeError(
        `${iso(time)} is before incident ${this.store.incidentId(row)} was created (${iso(this.store.incidents.createdAt[row]!)})`
      );
    }
    return time;
  }

  private priorityIndex(name: string | null): number {
    if (name === null) {
      return -1;
    }
    const index = PRIORITY_NAMES.indexOf(name as (typeof PRIORITY_NAMES)[number]);
    if (index < 0) {
      throw new RangeError(`priority must be one of ${PRIORITY_NAMES.join(', ')} or null, got ${JSON.stringify(name)}`);
    }
    return index;
  }
}
