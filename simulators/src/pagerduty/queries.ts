import { RESOLVED, STATUSES, URGENCIES, NOTIFY } from './codes.ts';
import { USERS_PER_TEAM } from './catalog.ts';
import { unpermute } from './id-cipher.ts';
import type { PagerDutyStore } from './store.ts';
import { asRecord } from './values.ts';

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

/** Filters of GET /users. */
export interface UserQuery {
  /** Part of the name, any case. */
  query?: string;
  teamIds?: ReadonlySet<string>;
}

/**
 * An ordered result: references to generated records (>= 0) or raw ones
 * (< 0), rendered with `renderIncident` / `renderLogEntry`.
 */
export interface RecordList {
  readonly length: number;
  at(position: number): number;
}

/** The API's query semantics: lookups by id, windows, filters, sort orders. */
export class PagerDutyQueries {
  constructor(private readonly store: PagerDutyStore) {}

  /** An incident by id or incident number; a reference for the renderers. */
  findIncident(idOrNumber: string): number | undefined {
    const row = this.store.incidentRow(idOrNumber);
    if (row !== undefined) {
      return row;
    }
    if (/^[1-9]\d{0,9}$/.test(idOrNumber) && Number(idOrNumber) <= this.store.incidents.count) {
      return Number(idOrNumber) - 1;
    }
    const raw = this.store.rawIncidents.findIndex((r) => r.id === idOrNumber);
    return raw >= 0 ? -1 - raw : undefined;
  }

  findLogEntry(id: string): number | undefined {
    const match = /^R([0-9A-Z]{6})([0-9A-Z]{7})$/.exec(id);
    if (match) {
      const row = unpermute(parseInt(match[1]!, 36), this.store.catalog.logEntryKey);
      if (row < this.store.entries.count && this.store.logEntryId(row) === id) {
        return row;
      }
    }
    const raw = this.store.rawLogEntries.findIndex((r) => r.id === id);
    return raw >= 0 ? -1 - raw : undefined;
  }

  listIncidents(query: IncidentQuery): RecordList {
    const order = this.store.incidentOrder;
    const rows = this.store.incidents;
    const low = query.since === undefined ? 0 : order.lowerBound(rows.createdAt, query.since);
    const high = query.until === undefined ? order.count : order.lowerBound(rows.createdAt, query.until);
    const raws = this.store.rawIncidents.flatMap((raw, r) =>
      inWindow(raw.createdAt, query) && rawIncidentMatches(raw.value, query) ? [-1 - r] : []
    );
    const filtered = query.statuses || query.urgencies || query.serviceIds || query.teamIds;
    if (!filtered && raws.length === 0 && !query.sortBy?.length) {
      return { length: Math.max(0, high - low), at: (position) => order.rows[low + position]! };
    }
    const refs: number[] = [];
    for (let p = low; p < high; p++) {
      const i = order.rows[p]!;
      if (!filtered || this.incidentMatches(i, query)) {
        refs.push(i);
      }
    }
    for (const raw of raws) {
      refs.push(raw);
    }
    const sortBy = query.sortBy ?? [];
    refs.sort((a, b) => {
      for (const sort of sortBy) {
        const difference = compareSortValues(this.sortValue(a, sort.field), this.sortValue(b, sort.field));
        if (difference !== 0) {
          return sort.descending ? -difference : difference;
        }
      }
      return this.compareIncidentRefs(a, b);
    });
    return arrayList(refs);
  }

  /** Newest first, ties by id descending. */
  listLogEntries(query: LogEntryQuery): RecordList {
    const rows = this.store.entries;
    const incidentId = query.incident === undefined ? undefined : this.store.referenceId(query.incident);
    const raws = this.store.rawLogEntries.flatMap((raw, r) =>
      inWindow(raw.createdAt, query) && rawLogEntryMatches(raw.value, query, incidentId) ? [-1 - r] : []
    );
    if (query.incident !== undefined && query.incident < 0) {
      return arrayList(raws);
    }
    const keep = (e: number) =>
      inWindow(rows.createdAt[e]!, query) &&
      !(query.overview && rows.type[e] === NOTIFY) &&
      (!query.teamIds || query.teamIds.has(this.store.teamOfIncident(rows.incident[e]!).id));
    if (query.incident !== undefined) {
      const refs: number[] = [];
      for (let e = this.store.incidents.firstEntry[query.incident]!; e >= 0; e = rows.next[e]!) {
        if (keep(e)) {
          refs.push(e);
        }
      }
      for (const raw of raws) {
        refs.push(raw);
      }
      return arrayList(refs.sort((a, b) => this.compareLogEntryRefs(b, a)));
    }
    const order = this.store.entryOrder;
    const low = query.since === undefined ? 0 : order.lowerBound(rows.createdAt, query.since);
    const high = query.until === undefined ? order.count : order.lowerBound(rows.createdAt, query.until);
    if (!query.overview && !query.teamIds && raws.length === 0) {
      return { length: Math.max(0, high - low), at: (position) => order.rows[high - 1 - position]! };
    }
    const refs: number[] = [];
    for (let p = high - 1; p >= low; p--) {
      const e = order.rows[p]!;
      if (keep(e)) {
        refs.push(e);
      }
    }
    if (raws.length === 0) {
      return arrayList(refs);
    }
    for (const raw of raws) {
      refs.push(raw);
    }
    return arrayList(refs.sort((a, b) => this.compareLogEntryRefs(b, a)));
  }

  /** Users by name, then id; references are indexes into the catalog's users. */
  listUsers(query: UserQuery): RecordList {
    const { users, teams } = this.store.catalog;
    const text = query.query?.toLowerCase();
    const refs: number[] = [];
    for (let u = 0; u < users.length; u++) {
      const team = teams[Math.floor(u / USERS_PER_TEAM)]!;
      if (text !== undefined && !users[u]!.name.toLowerCase().includes(text)) {
        continue;
      }
      if (query.teamIds && !query.teamIds.has(team.id)) {
        continue;
      }
      refs.push(u);
    }
    refs.sort((a, b) =>
      compareTimeAndId(0, users[a]!.name + ' ' + users[a]!.id, 0, users[b]!.name + ' ' + users[b]!.id)
    );
    return arrayList(refs);
  }

  /** (created_at, id) for generated and raw incidents alike; raw ones without a date first. */
  private compareIncidentRefs(a: number, b: number): number {
    if (a >= 0 && b >= 0) {
      return this.store.compareIncidentRows(a, b);
    }
    return compareTimeAndId(
      this.incidentTime(a),
      this.store.referenceId(a) ?? '',
      this.incidentTime(b),
      this.store.referenceId(b) ?? ''
    );
  }

  private compareLogEntryRefs(a: number, b: number): number {
    if (a >= 0 && b >= 0) {
      return this.store.compareEntryRows(a, b);
    }
    const time = (ref: number) =>
      ref >= 0 ? this.store.entries.createdAt[ref]! : this.store.rawLogEntries[-1 - ref]!.createdAt;
    const id = (ref: number) =>
      ref >= 0 ? this.store.logEntryId(ref) : (this.store.rawLogEntries[-1 - ref]!.id ?? '');
    // Undated raw entries come first in the newest-first listing.
    const orderTime = (ref: number) => (Number.isNaN(time(ref)) ? Number.POSITIVE_INFINITY : time(ref));
    return compareTimeAndId(orderTime(a), id(a), orderTime(b), id(b));
  }

  private incidentTime(ref: number): number {
    const time = ref >= 0 ? this.store.incidents.createdAt[ref]! : this.store.rawIncidents[-1 - ref]!.createdAt;
    return Number.isNaN(time) ? Number.NEGATIVE_INFINITY : time;
  }

  private sortValue(ref: number, field: IncidentSortField): number | string | undefined {
    if (ref < 0) {
      const raw = asRecord(this.store.rawIncidents[-1 - ref]!.value);
      const value = raw?.[field];
      if (typeof value === 'number') {
        return value;
      }
      if (typeof value !== 'string') {
        return undefined;
      }
      return field === 'urgency' ? value : Date.parse(value);
    }
    const rows = this.store.incidents;
    switch (field) {
      case 'incident_number':
        return this.store.incidentNumber(ref);
      case 'created_at':
        return rows.createdAt[ref]!;
      case 'resolved_at':
        return rows.status[ref] === RESOLVED ? rows.resolvedAt[ref]! : undefined;
      case 'urgency':
        return URGENCIES[rows.urgency[ref]!];
    }
  }

  private incidentMatches(i: number, query: IncidentQuery): boolean {
    const rows = this.store.incidents;
    if (query.statuses && !query.statuses.has(STATUSES[rows.status[i]!]!)) {
      return false;
    }
    if (query.urgencies && !query.urgencies.has(URGENCIES[rows.urgency[i]!]!)) {
      return false;
    }
    const service = this.store.catalog.services[rows.service[i]!]!;
    if (query.serviceIds && !query.serviceIds.has(service.id)) {
      return false;
    }
    if (query.teamIds && !query.teamIds.has(service.teamId)) {
      return false;
    }
    return true;
  }
}

function arrayList(refs: Int32Array | number[]): RecordList {
  return { length: refs.length, at: (position) => refs[position]! };
}

function inWindow(time: number, query: { since?: number; until?: number }): boolean {
  if (Number.isNaN(time)) {
    return true;
  }
  return (query.since === undefined || time >= query.since) && (query.until === undefined || time < query.until);
}

function rawIncidentMatches(value: unknown, query: IncidentQuery): boolean {
  const raw = asRecord(value);
  const field = (name: string) => (typeof raw?.[name] === 'string' ? (raw[name] as string) : undefined);
  const status = field('status');
  const urgency = field('urgency');
  const serviceId = asRecord(raw?.service)?.id;
  if (query.statuses && status !== undefined && !query.statuses.has(status)) {
    return false;
  }
  if (query.urgencies && urgency !== undefined && !query.urgencies.has(urgency)) {
    return false;
  }
  if (query.serviceIds && typeof serviceId === 'string' && !query.serviceIds.has(serviceId)) {
    return false;
  }
  return true;
}

function rawLogEntryMatches(value: unknown, query: LogEntryQuery, incidentId: string | undefined): boolean {
  const raw = asRecord(value);
  if (incidentId !== undefined) {
    return asRecord(raw?.incident)?.id === incidentId;
  }
  if (query.overview && raw?.type === 'notify_log_entry') {
    return false;
  }
  return true;
}

function compareTimeAndId(timeA: number, idA: string, timeB: number, idB: string): number {
  if (timeA !== timeB) {
    return timeA < timeB ? -1 : 1;
  }
  return idA < idB ? -1 : idA > idB ? 1 : 0;
}

/** Missing values sort last, as PagerDuty puts unresolved incidents after resolved ones. */
function compareSortValues(a: number | string | undefined, b: number | string | undefined): number {
  if (a === b) {
    return 0;
  }
  if (a === undefined || (typeof a === 'number' && Number.isNaN(a))) {
    return 1;
  }
  if (b === undefined || (typeof b === 'number' && Number.isNaN(b))) {
    return -1;
  }
  return a < b ? -1 : 1;
}
