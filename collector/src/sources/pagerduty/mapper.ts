import type { IncidentEventType, NotificationMethod } from '../../db/schema.ts';
import { normaliseSeverity, type SeverityRules } from '../../severity.ts';
import type { IncidentRow, NamedRef } from '../../sync/store.ts';
import type { PdIncident, PdLogEntry, PdReference, PdUser } from './api-types.ts';

/** Pure mapping from PagerDuty API records to the project's rows. */

export type Mapped<T> = { ok: true; value: T } | { ok: false; reason: string; externalId: string | null };

export interface MappedIncident {
  row: IncidentRow;
  service: NamedRef | null;
  team: NamedRef | null;
}

export interface MappedEvent {
  incidentExternalId: string;
  externalId: string;
  type: IncidentEventType;
  rawType: string;
  occurredAt: string;
  agent: string | null;
  /** user | service | integration, or the reference type PagerDuty sent for other agents. */
  agentType: string | null;
  agentId: string | null;
  channelType: string | null;
  summary: string | null;
  /** The full incident when the entry was fetched with include[]=incidents. */
  incident: PdIncident | null;
  /** notify_log_entry only: who was notified and how. */
  notification: MappedNotification | null;
}

export interface MappedNotification {
  user: MappedUser;
  method: NotificationMethod;
  /** The channel type as sent, kept when the method is unknown. */
  channelType: string | null;
}

export interface MappedUser {
  externalId: string;
  name: string;
  /** NULL when PagerDuty gives none; refs in log entries never carry one. */
  timeZone: string | null;
  htmlUrl: string | null;
}

const STATUSES = new Set(['triggered', 'acknowledged', 'resolved']);

const EVENT_TYPES: Record<string, IncidentEventType> = {
  trigger_log_entry: 'trigger',
  acknowledge_log_entry: 'acknowledge',
  // The description names both spellings; the API sends the first.
  acknowledgement_log_entry: 'acknowledge',
  unacknowledge_log_entry: 'unacknowledge',
  escalate_log_entry: 'escalate',
  assign_log_entry: 'assign',
  delegate_log_entry: 'delegate',
  resolve_log_entry: 'resolve',
  annotate_log_entry: 'annotate',
  notify_log_entry: 'notify',
  snooze_log_entry: 'snooze',
  urgency_change_log_entry: 'urgency_change',
  priority_change_log_entry: 'priority_change',
};

const METHODS: Record<string, NotificationMethod> = {
  sms_notification: 'sms',
  phone_notification: 'phone',
  push_notification: 'push',
  email_notification: 'email',
};

function fail(reason: string, externalId: string | null | undefined): Mapped<never> {
  return { ok: false, reason, externalId: externalId ?? null };
}

/** An ISO 8601 instant, normalised to UTC; undefined when absent or unparsable. */
export function parseInstant(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') {
    return undefined;
  }
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : new Date(time).toISOString();
}

function nonEmpty(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

function namedRef(ref: PdReference | undefined): NamedRef | null {
  if (!ref || !nonEmpty(ref.id)) {
    return null;
  }
  return { externalId: ref.id, name: ref.summary ?? ref.id, htmlUrl: ref.html_url ?? null };
}

export function mapIncident(incident: PdIncident, rules: SeverityRules): Mapped<MappedIncident> {
  if (typeof incident !== 'object' || incident === null) {
    return fail('incident is not an object', null);
  }
  const id = incident.id;
  if (!nonEmpty(id)) {
    return fail('incident has no id', null);
  }
  const createdAt = parseInstant(incident.created_at);
  if (!createdAt) {
    return fail(`incident created_at is missing or not a date: ${JSON.stringify(incident.created_at)}`, id);
  }
  if (!nonEmpty(incident.status) || !STATUSES.has(incident.status)) {
    return fail(`incident status is not triggered, acknowledged or resolved: ${JSON.stringify(incident.status)}`, id);
  }
  if (incident.priority !== undefined && incident.priority !== null && typeof incident.priority !== 'object') {
    return fail('incident priority is neither an object nor null', id);
  }
  if (
    incident.resolve_reason !== undefined &&
    incident.resolve_reason !== null &&
    typeof incident.resolve_reason !== 'object'
  ) {
    return fail('incident resolve_reason is neither an object nor null', id);
  }
  let resolvedAt: string | null = null;
  if (incident.status === 'resolved') {
    resolvedAt = parseInstant(incident.resolved_at) ?? parseInstant(incident.last_status_change_at) ?? null;
    // As instants: ISO text of years past 9999 (+010000-...) does not sort as time.
    if (resolvedAt !== null && Date.parse(resolvedAt) < Date.parse(createdAt)) {
      return fail(`incident resolved (${resolvedAt}) before it was created (${createdAt})`, id);
    }
  }
  const priorityName = incident.priority ? (incident.priority.name ?? incident.priority.summary ?? null) : null;
  const urgency = nonEmpty(incident.urgency) ? incident.urgency : null;
  const service = namedRef(incident.service);
  const team = namedRef(incident.teams?.[0]);
  return {
    ok: true,
    value: {
      row: {
        externalId: id,
        number: Number.isInteger(incident.incident_number) ? incident.incident_number! : null,
        title: incident.title ?? incident.summary ?? id,
        status: incident.status,
        urgency,
        priorityRaw: priorityName,
        severity: normaliseSeverity(priorityName, urgency, rules),
        serviceExternalId: service?.externalId ?? null,
        teamExternalId: team?.externalId ?? null,
        createdAt,
        // The first ack comes from the timeline (store.refreshTimelineFields).
        acknowledgedAt: null,
        resolvedAt,
        merged: incident.resolve_reason?.type === 'merge_resolve_reason',
        htmlUrl: incident.html_url ?? null,
        sourceUpdatedAt: parseInstant(incident.updated_at) ?? null,
      },
      service,
      team,
    },
  };
}

export function mapLogEntry(entry: PdLogEntry): Mapped<MappedEvent> {
  if (typeof entry !== 'object' || entry === null) {
    return fail('log entry is not an object', null);
  }
  const id = entry.id;
  if (!nonEmpty(id)) {
    return fail('log entry has no id', null);
  }
  if (!nonEmpty(entry.type)) {
    return fail('log entry has no type', id);
  }
  const occurredAt = parseInstant(entry.created_at);
  if (!occurredAt) {
    return fail(`log entry created_at is missing or not a date: ${JSON.stringify(entry.created_at)}`, id);
  }
  const incidentId = entry.incident?.id;
  if (!nonEmpty(incidentId)) {
    return fail('log entry refers to no incident', id);
  }
  const rawType = entry.type.replace(/_reference$/, '');
  const incident = entry.incident?.type === 'incident' ? entry.incident : null;
  const channel = typeof entry.channel === 'object' && entry.channel !== null ? entry.channel : undefined;
  const channelType = nonEmpty(channel?.type) ? channel.type : null;
  let notification: MappedNotification | null = null;
  if (rawType === 'notify_log_entry') {
    const user = userRef(entry.user);
    if (!user) {
      return fail('notify log entry names no user', id);
    }
    notification = { user, ...notificationMethod(channel) };
  }
  return {
    ok: true,
    value: {
      incidentExternalId: incidentId,
      externalId: id,
      type: EVENT_TYPES[rawType] ?? 'other',
      rawType,
      occurredAt,
      agent: entry.agent?.summary ?? null,
      agentType: agentType(entry.agent),
      agentId: nonEmpty(entry.agent?.id) ? entry.agent.id : null,
      channelType,
      summary: entry.summary ?? null,
      incident,
      notification,
    },
  };
}

/** How a notify entry reached its user: channel.notification.type when present, else channel.type. */
export function notificationMethod(channel: PdLogEntry['channel']): Pick<MappedNotification, 'method' | 'channelType'> {
  const nested =
    typeof channel?.notification === 'object' && channel.notification !== null ? channel.notification.type : undefined;
  const raw = nonEmpty(nested) ? nested : nonEmpty(channel?.type) ? channel.type : null;
  return {
    method: (raw !== null && Object.hasOwn(METHODS, raw) ? METHODS[raw] : undefined) ?? 'unknown',
    channelType: raw,
  };
}

/** The kind of agent that made an entry; integrations come in several reference types. */
export function agentType(agent: PdReference | undefined): string | null {
  if (!agent || !nonEmpty(agent.type)) {
    return null;
  }
  const type = agent.type.replace(/_reference$/, '');
  return type.endsWith('integration') ? 'integration' : type;
}

function userRef(ref: PdReference | undefined): MappedUser | null {
  if (typeof ref !== 'object' || ref === null || !nonEmpty(ref.id)) {
    return null;
  }
  return {
    externalId: ref.id,
    name: nonEmpty(ref.summary) ? ref.summary : ref.id,
    timeZone: null,
    htmlUrl: ref.html_url ?? null,
  };
}

/** A zone the runtime's time zone database knows; PostgreSQL is checked again at write time. */
function knownZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export function mapUser(user: PdUser): Mapped<MappedUser> {
  if (typeof user !== 'object' || user === null) {
    return fail('user is not an object', null);
  }
  if (!nonEmpty(user.id)) {
    return fail('user has no id', null);
  }
  const zone = user.time_zone;
  if (zone !== undefined && zone !== null && (typeof zone !== 'string' || !knownZone(zone))) {
    return fail(`user time_zone is not an IANA zone: ${JSON.stringify(zone)}`, user.id);
  }
  const name = nonEmpty(user.name) ? user.name : nonEmpty(user.summary) ? user.summary : user.id;
  return {
    ok: true,
    value: { externalId: user.id, name, timeZone: nonEmpty(zone) ? zone : null, htmlUrl: user.html_url ?? null },
  };
}
