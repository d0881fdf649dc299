/**
 * POST /analytics/raw/incidents: one row of figures per incident, computed
 * from the same log the REST API serves, so `seconds_to_first_ack` and
 * `seconds_to_resolve` agree with the ground truth to the second. Cursor
 * paging as the description has it: `starting_after` / `ending_before`,
 * `limit` 1..1000, `first` / `last` cursors and `more`.
 *
 * Conventions of this simulator, where the description leaves room:
 * - Times are wall-clock times in the request's `time_zone` (default
 *   Etc/UTC) without an offset, as the description's example shows them.
 * - A figure that does not exist yet (an unacknowledged or open incident)
 *   is left out, since the description does not allow null for it.
 * - Interruption and engagement figures are not computed.
 */
import { zoneOffsetMinutes, zonedWallTimeToInstant } from '../time-zones.ts';
import {
  ACKNOWLEDGE,
  AGENT_KIND_SPAN,
  AGENT_USER,
  ASSIGN,
  ESCALATE,
  NOTIFY,
  PRIORITY_NAMES,
  RESOLVE,
  RESOLVED,
  STATUSES,
  URGENCIES,
} from './codes.ts';
import { invalidInput } from './request-params.ts';
import type { PagerDutyStore } from './store.ts';

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 1000;
const DEFAULT_ZONE = 'Etc/UTC';

interface Filters {
  created_at_start?: string;
  created_at_end?: string;
  urgency?: string;
  major?: boolean;
  team_ids?: string[];
  service_ids?: string[];
  priority_names?: string[];
}

interface Request {
  filters: Filters;
  since?: number;
  until?: number;
  limit: number;
  order: 'asc' | 'desc';
  orderBy: 'created_at' | 'seconds_to_resolve';
  zone: string;
  startingAfter?: Cursor;
  endingBefore?: Cursor;
}

/** Where a row sits in the order: its sort value (seconds or epoch ms; null sorts last) and its row number. */
interface Cursor {
  value: number | null;
  row: number;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.value, cursor.row])).toString('base64url');
}

function decodeCursor(text: unknown, name: string): Cursor | undefined {
  if (text === undefined) {
    return undefined;
  }
  try {
    const [value, row] = JSON.parse(Buffer.from(String(text), 'base64url').toString('utf8')) as unknown[];
    if ((value === null || typeof value === 'number') && Number.isInteger(row)) {
      return { value, row: row as number };
    }
  } catch {
    // Reported below with the parameter's name.
  }
  throw invalidInput(`'${name}' is not a cursor this API returned: ${JSON.stringify(text)}`);
}

function knownZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** An ISO 8601 date-time; without an offset it is read in `zone`. */
function parseInstant(text: unknown, name: string, zone: string): number {
  const match =
    typeof text === 'string'
      ? /^(\d{4}-\d{2}-\d{2})(?:T(\d{2}:\d{2}(?::\d{2})?)(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(text)
      : null;
  const wall = match ? Date.parse(`${match[1]}T${match[2] ?? '00:00:00'}Z`) : Number.NaN;
  if (!match || Number.isNaN(wall)) {
    throw invalidInput(`'filters.${name}' is not an ISO 8601 date-time: ${JSON.stringify(text)}`);
  }
  if (match[4] === undefined) {
    return zonedWallTimeToInstant(wall, zone);
  }
  return Date.parse(`${match[1]}T${match[2] ?? '00:00:00'}${match[4]}`);
}

function stringList(value: unknown, name: string): string[] | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw invalidInput(`'filters.${name}' must be a list of strings`);
  }
  return value as string[];
}

function parseAnalyticsRequest(body: unknown): Request {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidInput('The request body must be a JSON object');
  }
  const b = body as Record<string, unknown>;
  const zone = b.time_zone ?? DEFAULT_ZONE;
  if (typeof zone !== 'string' || !knownZone(zone)) {
    throw invalidInput(`'time_zone' is not a time zone: ${JSON.stringify(zone)}`);
  }
  const limit = b.limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || (limit as number) < 1 || (limit as number) > MAX_LIMIT) {
    throw invalidInput(`'limit' must be a whole number from 1 to ${MAX_LIMIT}, got ${JSON.stringify(limit)}`);
  }
  const order = b.order ?? 'desc';
  if (order !== 'asc' && order !== 'desc') {
    throw invalidInput(`'order' must be asc or desc, got ${JSON.stringify(order)}`);
  }
  const orderBy = b.order_by ?? 'created_at';
  if (orderBy !== 'created_at' && orderBy !== 'seconds_to_resolve') {
    throw invalidInput(`'order_by' must be created_at or seconds_to_resolve, got ${JSON.stringify(orderBy)}`);
  }
  if (b.starting_after !== undefined && b.ending_before !== undefined) {
    throw invalidInput("Give 'starting_after' or 'ending_before', not both");
  }
  const raw = b.filters ?? {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw invalidInput("'filters' must be an object");
  }
  const f = raw as Record<string, unknown>;
  if (f.urgency !== undefined && !URGENCIES.includes(f.urgency as (typeof URGENCIES)[number])) {
    throw invalidInput(`'filters.urgency' must be high or low, got ${JSON.stringify(f.urgency)}`);
  }
  if (f.major !== undefined && typeof f.major !== 'boolean') {
    throw invalidInput("'filters.major' must be true or false");
  }
  const filters: Filters = {
    ...(f.created_at_start !== undefined ? { created_at_start: String(f.created_at_start) } : {}),
    ...(f.created_at_end !== undefined ? { created_at_end: String(f.created_at_end) } : {}),
    ...(f.urgency !== undefined ? { urgency: f.urgency as string } : {}),
    ...(f.major !== undefined ? { major: f.major as boolean } : {}),
    ...(f.team_ids !== undefined ? { team_ids: stringList(f.team_ids, 'team_ids') } : {}),
    ...(f.service_ids !== undefined ? { service_ids: stringList(f.service_ids, 'service_ids') } : {}),
    ...(f.priority_names !== undefined ? { priority_names: stringList(f.priority_names, 'priority_names') } : {}),
  };
  return {
    filters,
    since: f.created_at_start === undefined ? undefined : parseInstant(f.created_at_start, 'created_at_start', zone),
    until: f.created_at_end === undefined ? undefined : parseInstant(f.created_at_end, 'created_at_end', zone),
    limit: limit as number,
    order,
    orderBy,
    zone,
    startingAfter: decodeCursor(b.starting_after, 'starting_after'),
    endingBefore: decodeCursor(b.ending_before, 'ending_before'),
  };
}

/** Wall-clock time in `zone`, without an offset. */
function wallTime(ms: number, zone: string): string {
  return new Date(ms + zoneOffsetMinutes(zone, ms) * 60_000).toISOString().slice(0, 19);
}

export class PagerDutyAnalytics {
  constructor(private readonly store: PagerDutyStore) {}

  /** The answer to a POST /analytics/raw/incidents body. */
  rawIncidents(body: unknown): unknown {
    const request = parseAnalyticsRequest(body);
    const { store } = this;
    const { incidents, catalog } = store;
    const { filters } = request;
    const sortValue = (row: number): number | null => {
      if (request.orderBy === 'created_at') {
        return incidents.createdAt[row]!;
      }
      return incidents.status[row] === RESOLVED
        ? (incidents.resolvedAt[row]! - incidents.createdAt[row]!) / 1000
        : null;
    };
    // Ascending by value with missing values last, ties by row; `desc` reverses it all.
    const compare = (a: Cursor, b: Cursor): number => {
      const byValue = a.value === b.value ? 0 : a.value === null ? 1 : b.value === null ? -1 : a.value - b.value;
      const ascending = byValue !== 0 ? byValue : a.row - b.row;
      return request.order === 'asc' ? ascending : -ascending;
    };
    const rows: Cursor[] = [];
    for (let row = 0; row < incidents.count; row++) {
      const created = incidents.createdAt[row]!;
      if (request.since !== undefined && created < request.since) {
        continue;
      }
      if (request.until !== undefined && created >= request.until) {
        continue;
      }
      const service = catalog.services[incidents.service[row]!]!;
      const priority = incidents.priority[row]!;
      if (filters.urgency !== undefined && URGENCIES[incidents.urgency[row]!] !== filters.urgency) {
        continue;
      }
      if (filters.major !== undefined && (priority >= 0 && priority <= 1) !== filters.major) {
        continue;
      }
      if (filters.service_ids && !filters.service_ids.includes(service.id)) {
        continue;
      }
      if (filters.team_ids && !filters.team_ids.includes(service.teamId)) {
        continue;
      }
      if (filters.priority_names && !(priority >= 0 && filters.priority_names.includes(PRIORITY_NAMES[priority]!))) {
        continue;
      }
      rows.push({ value: sortValue(row), row });
    }
    rows.sort(compare);

    let from = 0;
    let to = rows.length;
    if (request.startingAfter) {
      from = rows.findIndex((cursor) => compare(cursor, request.startingAfter!) > 0);
    }
    if (from < 0) {
      from = rows.length;
    }
    if (request.endingBefore) {
      to = rows.findIndex((cursor) => compare(cursor, request.endingBefore!) >= 0);
      if (to < 0) {
        to = rows.length;
      }
      from = Math.max(0, to - request.limit);
    } else {
      to = Math.min(rows.length, from + request.limit);
    }
    const page = rows.slice(from, to);
    const echo = request.startingAfter ?? request.endingBefore;
    const edge = echo ? encodeCursor(echo) : '';
    return {
      first: page.length > 0 ? encodeCursor(page[0]!) : edge,
      last: page.length > 0 ? encodeCursor(page[page.length - 1]!) : edge,
      limit: request.limit,
      more: request.endingBefore ? from > 0 : to < rows.length,
      order: request.order,
      order_by: request.orderBy,
      filters,
      time_zone: request.zone,
      data: page.map((cursor) => this.row(cursor.row, request.zone)),
    };
  }

  private row(row: number, zone: string): Record<string, unknown> {
    const { incidents, entries, catalog } = this.store;
    const service = catalog.services[incidents.service[row]!]!;
    const team = catalog.teams.find((candidate) => candidate.id === service.teamId)!;
    const priority = incidents.priority[row]!;
    const created = incidents.createdAt[row]!;
    const resolved = incidents.status[row] === RESOLVED;
    let acknowledgements = 0;
    let assignments = 0;
    let escalations = 0;
    let timeoutEscalations = 0;
    let notifications = 0;
    let resolver = -1;
    const acknowledgers: number[] = [];
    for (let e = incidents.firstEntry[row]!; e >= 0; e = entries.next[e]!) {
      const agent = entries.agent[e]!;
      const byUser = Math.floor(agent / AGENT_KIND_SPAN) === AGENT_USER;
      switch (entries.type[e]) {
        case ACKNOWLEDGE:
          acknowledgements++;
          if (!acknowledgers.includes(agent % AGENT_KIND_SPAN)) {
            acknowledgers.push(agent % AGENT_KIND_SPAN);
          }
          break;
        case ASSIGN:
          assignments++;
          break;
        case ESCALATE:
          escalations++;
          if (!byUser) {
            timeoutEscalations++;
          }
          break;
        case NOTIFY:
          notifications++;
          break;
        case RESOLVE:
          resolver = byUser ? agent % AGENT_KIND_SPAN : -1;
          break;
      }
    }
    const resolvedBy = resolver >= 0 ? catalog.users[resolver]! : undefined;
    const firstAck = incidents.firstAckAt[row]!;
    const policy = catalog.policies[incidents.service[row]!]!;
    return {
      id: this.store.incidentId(row),
      incident_number: this.store.incidentNumber(row),
      description: this.store.title(row),
      created_at: wallTime(created, zone),
      updated_at: wallTime(incidents.updatedAt[row]!, zone),
      ...(resolved ? { resolved_at: wallTime(incidents.resolvedAt[row]!, zone) } : {}),
      status: STATUSES[incidents.status[row]!],
      urgency: URGENCIES[incidents.urgency[row]!],
      major: priority >= 0 && priority <= 1,
      priority_id: priority >= 0 ? catalog.priorities[priority]!.id : null,
      priority_name: priority >= 0 ? PRIORITY_NAMES[priority] : null,
      priority_order: priority >= 0 ? (5 - priority) * 128 : null,
      service_id: service.id,
      service_name: service.name,
      team_id: team.id,
      team_name: team.name,
      escalation_policy_id: policy.id,
      escalation_policy_name: policy.name,
      incident_type_name: 'incident_default',
      ...(Number.isNaN(firstAck) ? {} : { seconds_to_first_ack: (firstAck - created) / 1000 }),
      ...(resolved ? { seconds_to_resolve: (incidents.resolvedAt[row]! - created) / 1000 } : {}),
      ...(resolved ? { auto_resolved: resolver < 0 } : {}),
      ...(resolvedBy ? { resolved_by_user_id: resolvedBy.id, resolved_by_user_name: resolvedBy.name } : {}),
      acknowledged_user_ids: acknowledgers.map((user) => catalog.users[user]!.id),
      acknowledged_user_names: acknowledgers.map((user) => catalog.users[user]!.name),
      acknowledgement_count: acknowledgements,
      assignment_count: assignments,
      escalation_count: escalations,
      timeout_escalation_count: timeoutEscalations,
      manual_escalation_count: escalations - timeoutEscalations,
      total_notifications: notifications,
    };
  }
}
