/**
 * The parts of PagerDuty REST API v2 objects that Incident Lens reads, as
 * PagerDuty's OpenAPI description has them (the parts the simulator serves
 * are in simulators/specs/pagerduty-rest-v2.trimmed.json). Everything is
 * optional on purpose: records come from outside and are validated by the
 * mapper, which quarantines what it cannot use.
 */

export interface PdReference {
  id?: string;
  type?: string;
  summary?: string | null;
  self?: string | null;
  html_url?: string | null;
}

export interface PdPriority extends PdReference {
  name?: string | null;
  description?: string | null;
  order?: number;
  color?: string;
}

export interface PdResolveReason {
  type?: string;
  incident?: PdReference;
}

export interface PdIncident {
  id?: string;
  type?: string;
  summary?: string;
  self?: string;
  html_url?: string;
  incident_number?: number;
  title?: string;
  created_at?: string;
  updated_at?: string;
  status?: string;
  incident_key?: string | null;
  service?: PdReference;
  assignments?: unknown[];
  last_status_change_at?: string;
  resolved_at?: string | null;
  first_trigger_log_entry?: PdReference;
  escalation_policy?: PdReference;
  teams?: PdReference[];
  acknowledgements?: unknown[];
  priority?: PdPriority | null;
  resolve_reason?: PdResolveReason | null;
  urgency?: string;
}

export interface PdLogEntry {
  id?: string;
  type?: string;
  summary?: string;
  self?: string;
  html_url?: string | null;
  created_at?: string;
  /** notify_log_entry: `notification.type` says how the user was reached. */
  channel?: { type?: string; notification?: { type?: string; [key: string]: unknown }; [key: string]: unknown };
  agent?: PdReference;
  /** notify_log_entry: the user notified. */
  user?: PdReference;
  note?: string;
  contexts?: unknown[];
  service?: PdReference;
  /** A reference, or the full incident when requested with include[]=incidents. */
  incident?: PdIncident;
  teams?: PdReference[];
  event_details?: Record<string, unknown>;
  /** escalate_log_entry, assign_log_entry... */
  assignees?: PdReference[];
}

export interface PdUser {
  id?: string;
  type?: string;
  name?: string;
  summary?: string;
  email?: string;
  time_zone?: string | null;
  html_url?: string | null;
}

export interface PdPage {
  offset: number;
  limit: number;
  more: boolean;
  total: number | null;
}

export interface PdIncidentsPage extends PdPage {
  incidents: PdIncident[];
}

export interface PdLogEntriesPage extends PdPage {
  log_entries: PdLogEntry[];
}

export interface PdUsersPage extends PdPage {
  users: PdUser[];
}

export interface PdErrorBody {
  error: { code?: number; message?: string; errors?: string[] };
}

/** PagerDuty's documented limits, which the client and the test server share. */
export const PD_MAX_LIMIT = 100;
export const PD_MAX_OFFSET_PLUS_LIMIT = 10_000;
export const PD_MAX_WINDOW_DAYS = 180;
export const PD_RATE_LIMIT_PER_MINUTE = 960;
