/**
 * The mutable state behind the simulated PagerDuty: incident and log entry
 * rows, their listing orders and the raw records served verbatim. Every
 * change goes through one place (`record`), whether it comes from generation
 * or from a test's mutation, so the served incidents, their log entries and
 * the ground truth cannot disagree.
 */
import { onCallUser, TITLE_TEMPLATES, USERS_PER_TEAM, type Catalog, type CatalogEntry } from './catalog.ts';
import {
  ACKNOWLEDGE,
  ACKNOWLEDGED,
  AGENT_KIND_SPAN,
  ASSIGN,
  ESCALATE,
  NOTIFY,
  PRIORITY_CHANGE,
  RESOLVE,
  RESOLVED,
  TRIGGER,
  TRIGGERED,
  UNACKNOWLEDGE,
  serviceAgent,
} from './codes.ts';
import { IncidentRows, LogEntryRows, SortedRows } from './columns.ts';
import { base36, hash32, permute, unpermute } from './id-cipher.ts';

/** A record served verbatim; `createdAt` is NaN when it has no usable date. */
export interface RawRecord {
  value: unknown;
  id: string | undefined;
  createdAt: number;
}

export class PagerDutyStore {
  readonly incidents: IncidentRows;
  readonly entries: LogEntryRows;
  readonly incidentOrder: SortedRows;
  readonly entryOrder: SortedRows;
  readonly rawIncidents: RawRecord[] = [];
  readonly rawLogEntries: RawRecord[] = [];
  /** Grows with every change; caches of rendered pages key on it. */
  changeCount = 0;

  constructor(
    readonly catalog: Catalog,
    expectedIncidents = 0
  ) {
    this.incidents = new IncidentRows(expectedIncidents + 64);
    this.entries = new LogEntryRows(expectedIncidents * 7 + 256);
    this.incidentOrder = new SortedRows(expectedIncidents + 64);
    this.entryOrder = new SortedRows(expectedIncidents * 7 + 256);
  }

  incidentId(row: number): string {
    return 'Q' + base36(this.incidents.idKey[row]!, 6);
  }

  logEntryId(row: number): string {
    return 'R' + base36(this.entries.idKey[row]!, 6) + base36(hash32(row, this.catalog.logEntryKey), 7);
  }

  /** Appends a log entry and applies it to its incident: the one place state changes. */
  record(
    row: number,
    type: number,
    at: number,
    agent: number,
    channel: number,
    detail: number,
    mutation: boolean
  ): void {
    const entries = this.entries;
    if (entries.count === entries.capacity) {
      entries.grow();
    }
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
    if (rows.firstEntry[row]! < 0) {
      rows.firstEntry[row] = e;
    } else {
      entries.next[rows.lastEntry[row]!] = e;
    }
    rows.lastEntry[row] = e;
    if (mutation) {
      this.entryOrder.insert(e, this.compareEntryRows);
      this.changeCount++;
    }

    if (type !== NOTIFY) {
      rows.updatedAt[row] = Math.max(rows.updatedAt[row]!, at);
    }
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
        if (type === ESCALATE) {
          rows.escalated[row] = 1;
        }
        break;
      case ACKNOWLEDGE:
        this.changeStatus(row, ACKNOWLEDGED, at, agent);
        rows.ackAt[row] = at;
        rows.ackBy[row] = agent % AGENT_KIND_SPAN;
        if (Number.isNaN(rows.firstAckAt[row]!) || at < rows.firstAckAt[row]!) {
          rows.firstAckAt[row] = at;
        }
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

  changeStatus(row: number, status: number, at: number, agent: number): void {
    const rows = this.incidents;
    rows.status[row] = status;
    rows.statusChangedAt[row] = at;
    rows.statusChangedBy[row] = agent;
  }

  /** A new incident row, before its log entries. */
  createIncidentRow(
    createdAt: number,
    priority: number,
    urgency: number,
    service: number,
    titleKind: number,
    alerts: number,
    titleHost: number
  ): number {
    const rows = this.incidents;
    if (rows.count === rows.capacity) {
      rows.grow();
    }
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

  /** Sorts both listings once, after bulk loading. */
  buildOrders(): void {
    const fill = (order: SortedRows, count: number, compare: (a: number, b: number) => number) => {
      if (order.rows.length < count) {
        order.rows = new Int32Array(count + 64);
      }
      for (let i = 0; i < count; i++) {
        order.rows[i] = i;
      }
      order.rows.subarray(0, count).sort(compare);
      order.count = count;
    };
    fill(this.incidentOrder, this.incidents.count, this.compareIncidentRows);
    fill(this.entryOrder, this.entries.count, this.compareEntryRows);
    this.changeCount++;
  }

  readonly compareIncidentRows = (a: number, b: number): number =>
    this.incidents.createdAt[a]! - this.incidents.createdAt[b]! || this.incidents.idKey[a]! - this.incidents.idKey[b]!;

  readonly compareEntryRows = (a: number, b: number): number =>
    this.entries.createdAt[a]! - this.entries.createdAt[b]! || this.entries.idKey[a]! - this.entries.idKey[b]!;

  referenceId(ref: number): string | undefined {
    return ref >= 0 ? this.incidentId(ref) : this.rawIncidents[-1 - ref]!.id;
  }

  incidentRow(id: string): number | undefined {
    const match = /^Q([0-9A-Z]{6})$/.exec(id);
    if (!match) {
      return undefined;
    }
    const row = unpermute(parseInt(match[1]!, 36), this.catalog.incidentKey);
    return row < this.incidents.count && this.incidentId(row) === id ? row : undefined;
  }

  currentResponder(row: number): number {
    const assignee = this.incidents.assignee[row]!;
    return assignee >= 0
      ? assignee
      : onCallUser(this.catalog, this.incidents.service[row]!, this.incidents.createdAt[row]!, 0);
  }

  nextResponder(row: number): number {
    const current = this.currentResponder(row);
    const team = Math.floor(current / USERS_PER_TEAM);
    return team * USERS_PER_TEAM + (((current % USERS_PER_TEAM) + 3) % USERS_PER_TEAM);
  }

  incidentNumber(row: number): number {
    return row + 1;
  }

  teamOfIncident(row: number): CatalogEntry {
    return this.catalog.teams[this.catalog.serviceTeam[this.incidents.service[row]!]!]!;
  }

  title(row: number): string {
    const template = TITLE_TEMPLATES[this.incidents.titleKind[row]! % TITLE_TEMPLATES.length]!;
    const service = this.catalog.services[this.incidents.service[row]!]!.name;
    return template.replace('{service}', service).replace('{host}', String(this.incidents.titleHost[row]!));
  }
}
