import {
  ACKNOWLEDGE,
  ACKNOWLEDGED,
  AGENT_INTEGRATION,
  AGENT_KIND_SPAN,
  AGENT_USER,
  ANNOTATE,
  ASSIGN,
  CH_API,
  CH_TIMEOUT,
  CH_WEB_TRIGGER,
  CHANNEL_TYPES,
  ESCALATE,
  LOG_ENTRY_TYPES,
  NOTIFICATION_TYPES,
  NOTIFICATION_WORDS,
  NOTIFY,
  PRIORITY_CHANGE,
  PRIORITY_COLORS,
  PRIORITY_DESCRIPTIONS,
  PRIORITY_NAMES,
  RESOLVE,
  RESOLVED,
  STATUSES,
  TRIGGER,
  UNACKNOWLEDGE,
  URGENCIES,
} from './codes.ts';
import { NOTES, USERS_PER_TEAM } from './catalog.ts';
import { hash32 } from './id-cipher.ts';
import type { PagerDutyStore } from './store.ts';
import { iso } from './values.ts';

const API_BASE = 'https://api.pagerduty.com';

/** API objects, built only when a response needs them. */
export class PagerDutyRenderer {
  constructor(private readonly store: PagerDutyStore) {}

  renderIncident(ref: number): unknown {
    if (ref < 0) {
      return this.store.rawIncidents[-1 - ref]!.value;
    }
    const rows = this.store.incidents;
    const id = this.store.incidentId(ref);
    const status = rows.status[ref]!;
    const service = rows.service[ref]!;
    const title = this.store.title(ref);
    const priority = rows.priority[ref]!;
    const alerts = rows.alerts[ref]!;
    const merged = rows.mergedInto[ref]!;
    const web = this.webBase();
    return {
      id,
      type: 'incident',
      summary: `[#${this.store.incidentNumber(ref)}] ${title}`,
      self: `${API_BASE}/incidents/${id}`,
      html_url: `${web}/incidents/${id}`,
      incident_number: this.store.incidentNumber(ref),
      title,
      description: title,
      created_at: iso(rows.createdAt[ref]!),
      updated_at: iso(rows.updatedAt[ref]!),
      status: STATUSES[status],
      incident_key:
        hash32(ref, this.store.catalog.incidentKey).toString(16).padStart(8, '0') +
        hash32(ref + 1, this.store.catalog.incidentKey)
          .toString(16)
          .padStart(8, '0'),
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
      alert_counts: {
        all: alerts,
        triggered: status === RESOLVED ? 0 : alerts,
        resolved: status === RESOLVED ? alerts : 0,
      },
      is_mergeable: true,
      incident_type: { name: 'incident_default' },
      escalation_policy: this.policyRef(service),
      teams: [this.teamRef(this.store.catalog.serviceTeam[service]!)],
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
    if (ref < 0) {
      return this.store.rawLogEntries[-1 - ref]!.value;
    }
    const rows = this.store.entries;
    const type = rows.type[ref]!;
    const incident = rows.incident[ref]!;
    const service = this.store.incidents.service[incident]!;
    const detail = rows.detail[ref]!;
    const id = this.store.logEntryId(ref);
    const entry: Record<string, unknown> = {
      id,
      type: LOG_ENTRY_TYPES[type],
      summary: this.logEntrySummary(ref),
      self: `${API_BASE}/log_entries/${id}`,
      html_url: `${this.webBase()}/incidents/${this.store.incidentId(incident)}/log_entries/${id}`,
      created_at: iso(rows.createdAt[ref]!),
      agent: this.agentRef(rows.agent[ref]!),
      channel: this.channelObject(ref),
      service: this.serviceRef(service),
      incident: includeIncident ? this.renderIncident(incident) : this.incidentRef(incident),
      teams: [this.teamRef(this.store.catalog.serviceTeam[service]!)],
      contexts: [],
    };
    if (type === TRIGGER) {
      entry.event_details = { description: this.store.title(incident) };
    }
    if (type === ASSIGN || type === ESCALATE) {
      entry.assignees = [this.userRef(detail)];
    }
    if (type === NOTIFY) {
      entry.user = this.userRef(detail >> 2);
    }
    if (type === ACKNOWLEDGE) {
      const timeout = this.store.catalog.services[service]!.acknowledgementTimeout;
      if (timeout !== null) {
        entry.acknowledgement_timeout = timeout;
      }
    }
    return entry;
  }

  /** A user as GET /users lists it. */
  renderUser(user: number): unknown {
    const entry = this.store.catalog.users[user]!;
    const self = `${API_BASE}/users/${entry.id}`;
    const contactMethod = (kind: string, suffix: string) => ({
      id: `${entry.id}${suffix}`,
      type: `${kind}_contact_method_reference`,
      summary: kind === 'push_notification' ? 'Phone app' : kind === 'email' ? 'Work email' : 'Mobile',
      self: `${self}/contact_methods/${entry.id}${suffix}`,
      html_url: null,
    });
    return {
      id: entry.id,
      type: 'user',
      summary: entry.name,
      self,
      html_url: `${this.webBase()}/users/${entry.id}`,
      name: entry.name,
      email: entry.email,
      time_zone: entry.timeZone,
      color: 'green',
      role: 'user',
      avatar_url: `${this.webBase()}/avatars/${entry.id}.png`,
      description: null,
      invitation_sent: false,
      job_title: 'Site Reliability Engineer',
      teams: [this.teamRef(Math.floor(user / USERS_PER_TEAM))],
      contact_methods: [
        contactMethod('email', 'E'),
        contactMethod('phone', 'C'),
        contactMethod('sms', 'S'),
        contactMethod('push_notification', 'N'),
      ],
      notification_rules: [],
    };
  }

  private webBase(): string {
    return `https://${this.store.catalog.subdomain}.pagerduty.com`;
  }

  private userRef(user: number): Record<string, unknown> {
    const entry = this.store.catalog.users[user]!;
    return {
      id: entry.id,
      type: 'user_reference',
      summary: entry.name,
      self: `${API_BASE}/users/${entry.id}`,
      html_url: `${this.webBase()}/users/${entry.id}`,
    };
  }

  private serviceRef(service: number): Record<string, unknown> {
    const entry = this.store.catalog.services[service]!;
    return {
      id: entry.id,
      type: 'service_reference',
      summary: entry.name,
      self: `${API_BASE}/services/${entry.id}`,
      html_url: `${this.webBase()}/service-directory/${entry.id}`,
    };
  }

  private teamRef(team: number): Record<string, unknown> {
    const entry = this.store.catalog.teams[team]!;
    return {
      id: entry.id,
      type: 'team_reference',
      summary: entry.name,
      self: `${API_BASE}/teams/${entry.id}`,
      html_url: `${this.webBase()}/teams/${entry.id}`,
    };
  }

  private policyRef(service: number): Record<string, unknown> {
    const entry = this.store.catalog.policies[service]!;
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
    const kind = Math.floor(agent / AGENT_KIND_SPAN);
    return kind === AGENT_USER
      ? this.userRef(index)
      : kind === AGENT_INTEGRATION
        ? this.integrationRef(index)
        : this.serviceRef(index);
  }

  private integrationRef(service: number): Record<string, unknown> {
    const owner = this.store.catalog.services[service]!;
    const path = `services/${owner.id}/integrations/${owner.integration.id}`;
    return {
      id: owner.integration.id,
      type: 'integration_reference',
      summary: owner.integration.name,
      self: `${API_BASE}/${path}`,
      html_url: `${this.webBase()}/${path}`,
    };
  }

  private incidentRef(row: number): Record<string, unknown> {
    const id = this.store.incidentId(row);
    return {
      id,
      type: 'incident_reference',
      summary: `[#${this.store.incidentNumber(row)}] ${this.store.title(row)}`,
      self: `${API_BASE}/incidents/${id}`,
      html_url: `${this.webBase()}/incidents/${id}`,
    };
  }

  private logEntryRef(entry: number): Record<string, unknown> {
    const id = this.store.logEntryId(entry);
    const incident = this.store.incidentId(this.store.entries.incident[entry]!);
    return {
      id,
      type: `${LOG_ENTRY_TYPES[this.store.entries.type[entry]!]}_reference`,
      summary: this.logEntrySummary(entry),
      self: `${API_BASE}/log_entries/${id}`,
      html_url: `${this.webBase()}/incidents/${incident}/log_entries/${id}`,
    };
  }

  private priorityObject(priority: number): Record<string, unknown> {
    const entry = this.store.catalog.priorities[priority]!;
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
    const rows = this.store.entries;
    const channel = rows.channel[entry]!;
    const type = rows.type[entry]!;
    const incident = rows.incident[entry]!;
    if (type === TRIGGER && channel === CH_API) {
      const title = this.store.title(incident);
      return { type: 'api', summary: title, description: title, details: {} };
    }
    if (type === TRIGGER && channel === CH_WEB_TRIGGER) {
      return { type: 'web_trigger', summary: this.store.title(incident), subject: this.store.title(incident) };
    }
    if (type === ANNOTATE) {
      return { type: 'note', summary: NOTES[rows.detail[entry]! % NOTES.length] };
    }
    if (type === NOTIFY) {
      const detail = rows.detail[entry]!;
      const user = this.store.catalog.users[detail >> 2]!;
      const kind = detail & 3;
      return {
        type: 'notification',
        notification: {
          type: NOTIFICATION_TYPES[kind],
          status: 'success',
          started_at: iso(rows.createdAt[entry]!),
          ...(kind === 0 ? {} : { address: kind === 3 ? user.email : '+15555550100' }),
        },
      };
    }
    return { type: CHANNEL_TYPES[channel] };
  }

  private logEntrySummary(entry: number): string {
    const rows = this.store.entries;
    const agent = rows.agent[entry]!;
    const byUser = Math.floor(agent / AGENT_KIND_SPAN) === AGENT_USER;
    const agentName = byUser ? this.store.catalog.users[agent % AGENT_KIND_SPAN]!.name : '';
    const detail = rows.detail[entry]!;
    const channel = rows.channel[entry]!;
    switch (rows.type[entry]!) {
      case TRIGGER:
        return channel === CH_API ? 'Triggered through the API.' : 'Triggered through the website.';
      case ASSIGN:
        return `Assigned to ${this.store.catalog.users[detail]!.name}.`;
      case NOTIFY:
        return `Notified ${this.store.catalog.users[detail >> 2]!.name} by ${NOTIFICATION_WORDS[detail & 3]}.`;
      case ACKNOWLEDGE:
        return `Acknowledged by ${agentName}.`;
      case UNACKNOWLEDGE:
        return 'Unacknowledged due to timeout.';
      case ESCALATE:
        return byUser
          ? `Escalated to ${this.store.catalog.users[detail]!.name} by ${agentName}.`
          : `Escalated to ${this.store.catalog.users[detail]!.name} by timeout.`;
      case ANNOTATE:
        return `${agentName} added a note.`;
      case RESOLVE:
        if (detail > 0) {
          return `Resolved by merge into #${this.store.incidentNumber(detail - 1)}.`;
        }
        if (channel === CH_TIMEOUT) {
          return 'Resolved by timeout.';
        }
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
