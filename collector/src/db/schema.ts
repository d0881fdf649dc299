import type { ColumnType, Generated } from 'kysely';
import type { Severity } from '../config.ts';

/** timestamptz: read as Date, written as Date or ISO text. */
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type DefaultTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
/** bigint ids: read as numbers (database.ts parses int8), far below 2^53. */
type BigId = number;

export interface SchemaMigrationsTable {
  version: number;
  name: string;
  checksum: string;
  applied_at: DefaultTimestamp;
}

/** The files of sql/lens as last applied (collector/src/db/migrate.ts). */
export interface SchemaDefinitionsTable {
  name: string;
  checksum: string;
  applied_at: DefaultTimestamp;
}

export interface SourcesTable {
  id: Generated<number>;
  /** A kind of the source registry (collector/src/sources/registry.ts). */
  kind: string;
  base_url: string;
  name: string;
  created_at: DefaultTimestamp;
}

export interface TeamsTable {
  id: Generated<BigId>;
  source_id: number;
  external_id: string;
  name: string;
  html_url: string | null;
}

export type ServicesTable = TeamsTable;

export interface IncidentsTable {
  id: Generated<BigId>;
  source_id: number;
  external_id: string;
  number: number | null;
  title: string;
  status: string;
  urgency: string | null;
  priority_raw: string | null;
  severity: Severity;
  service_id: BigId | null;
  team_id: BigId | null;
  created_at: Timestamp;
  acknowledged_at: NullableTimestamp;
  resolved_at: NullableTimestamp;
  detected_at: NullableTimestamp;
  merged: Generated<boolean>;
  escalated: Generated<boolean>;
  unack_count: Generated<number>;
  root_cause_key: string | null;
  html_url: string | null;
  jira_issue_key: string | null;
  jira_url: string | null;
  source_updated_at: NullableTimestamp;
  synced_at: DefaultTimestamp;
  acknowledged_by: BigId | null;
  resolved_by: ResolvedBy | null;
  /** When the source stopped having it (sql/011_jira_reconciliation.sql); it then leaves every figure. */
  removed_at: NullableTimestamp;
}

/** What made an incident's resolving entry (docs/metrics.md §11). */
export type ResolvedBy = 'user' | 'service' | 'integration' | 'timeout' | 'other';

export type NotificationMethod = 'sms' | 'phone' | 'push' | 'email' | 'unknown';

export interface UsersTable {
  id: Generated<BigId>;
  source_id: number;
  external_id: string;
  name: string;
  time_zone: string | null;
  html_url: string | null;
  synced_at: DefaultTimestamp;
}

export interface NotificationsTable {
  id: Generated<BigId>;
  source_id: number;
  external_id: string;
  incident_id: BigId;
  user_id: BigId;
  notified_at: Timestamp;
  method: NotificationMethod;
  channel_type: string | null;
}

export type IncidentEventType =
  | 'trigger'
  | 'acknowledge'
  | 'unacknowledge'
  | 'escalate'
  | 'assign'
  | 'delegate'
  | 'resolve'
  | 'reopen'
  | 'annotate'
  | 'notify'
  | 'snooze'
  | 'priority_change'
  | 'urgency_change'
  | 'merge'
  | 'status_change'
  | 'other';

export interface IncidentEventsTable {
  id: Generated<BigId>;
  incident_id: BigId;
  source_id: number;
  external_id: string;
  type: IncidentEventType;
  raw_type: string;
  occurred_at: Timestamp;
  agent: string | null;
  summary: string | null;
  /** user | service | integration | the source's own word for other agents. */
  agent_type: string | null;
  agent_id: string | null;
  channel_type: string | null;
}

export interface PostmortemsTable {
  id: Generated<BigId>;
  source_id: number;
  external_id: string;
  title: string;
  status: string;
  status_category: string;
  created_at: Timestamp;
  completed_at: NullableTimestamp;
  root_cause_key: string | null;
  html_url: string | null;
  source_updated_at: NullableTimestamp;
  synced_at: DefaultTimestamp;
  removed_at: NullableTimestamp;
}

/** Every incident a post-mortem names (sql/011_postmortem_incidents.sql). */
export interface PostmortemIncidentsTable {
  postmortem_id: BigId;
  incident_id: BigId;
}

export interface ActionItemsTable {
  id: Generated<BigId>;
  source_id: number;
  external_id: string;
  incident_id: BigId | null;
  postmortem_id: BigId | null;
  title: string;
  status: string;
  status_category: string;
  owner: string | null;
  /** `date` is read as text (YYYY-MM-DD): a calendar day has no time zone. */
  due_date: string | null;
  created_at: Timestamp;
  completed_at: NullableTimestamp;
  html_url: string | null;
  source_updated_at: NullableTimestamp;
  synced_at: DefaultTimestamp;
  removed_at: NullableTimestamp;
}

export interface SyncCheckpointsTable {
  source_id: number;
  stream: string;
  cursor_at: Timestamp;
  updated_at: DefaultTimestamp;
}

export type SyncMode = 'full' | 'incremental' | 'since' | 'webhook';
export type SyncOutcome = 'running' | 'succeeded' | 'failed' | 'interrupted';

export interface SyncRunsTable {
  id: Generated<BigId>;
  source_id: number;
  mode: SyncMode;
  started_at: DefaultTimestamp;
  finished_at: NullableTimestamp;
  outcome: ColumnType<SyncOutcome, SyncOutcome | undefined, SyncOutcome>;
  window_start: NullableTimestamp;
  window_end: NullableTimestamp;
  requests: Generated<number>;
  records_upserted: Generated<number>;
  events_upserted: Generated<number>;
  quarantined: Generated<number>;
  error: string | null;
}

export interface IngestErrorsTable {
  id: Generated<BigId>;
  source_id: number;
  sync_run_id: BigId | null;
  record_kind: string;
  external_id: string | null;
  reason: string;
  payload: string;
  payload_hash: string;
  first_seen_at: DefaultTimestamp;
  last_seen_at: DefaultTimestamp;
  seen_count: Generated<number>;
}

export interface WebhookEventsTable {
  source_id: number;
  event_id: string;
  event_type: string;
  incident_external_id: string;
  occurred_at: NullableTimestamp;
  received_at: DefaultTimestamp;
  processed_at: NullableTimestamp;
  error: string | null;
}

/** docs/metrics.md §5 and 6: targets in whole seconds; NULL post-mortem due: not required. */
export interface SlaPolicyTable {
  severity: Exclude<Severity, 'UNKNOWN'>;
  ack_target_seconds: number;
  resolve_target_seconds: number;
  postmortem_due_seconds: number | null;
  updated_at: DefaultTimestamp;
}

/** One row: the repeat window (docs/metrics.md §8) and the zone of scheduled reports. */
export interface MetricSettingsTable {
  singleton: Generated<boolean>;
  repeat_window_days: Generated<number>;
  timezone: Generated<string>;
  sleep_interruption_alert: Generated<number>;
  updated_at: DefaultTimestamp;
}

export interface PublishedReportsTable {
  granularity: 'day' | 'week' | 'month';
  period_label: string;
  timezone: string;
  as_of: Timestamp;
  report: ColumnType<unknown, string, string>;
  published_at: DefaultTimestamp;
}

export interface DeliveryRunsTable {
  id: Generated<number>;
  granularity: 'day' | 'week' | 'month';
  period_label: string;
  timezone: string;
  trigger: 'schedule' | 'resend';
  as_of: Timestamp;
  report: ColumnType<unknown, string, string>;
  started_at: DefaultTimestamp;
  finished_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface DeliveryLogTable {
  run_id: number;
  channel: 'email' | 'slack';
  recipient: string;
  /** Order of sending within the run: configuration order. */
  position: number;
  status: ColumnType<'pending' | 'sending' | 'sent' | 'failed', 'pending' | undefined, 'sending' | 'sent' | 'failed'>;
  tries: ColumnType<number, never, number>;
  message_id: ColumnType<string | null, never, string | null>;
  bytes: ColumnType<number | null, never, number | null>;
  error: ColumnType<string | null, never, string | null>;
  updated_at: DefaultTimestamp;
  sent_at: ColumnType<Date | null, never, Date | null>;
}

/** A change a reconciliation found that the source's timeline never recorded (sql/011_jira_reconciliation.sql). */
export interface ReconciliationChangesTable {
  id: Generated<BigId>;
  source_id: number;
  record_kind: 'incident' | 'postmortem' | 'action_item';
  record_id: string;
  record_key: string;
  field: string;
  from_value: string | null;
  to_value: string | null;
  found_at: DefaultTimestamp;
}

export interface Database {
  schema_migrations: SchemaMigrationsTable;
  schema_definitions: SchemaDefinitionsTable;
  sources: SourcesTable;
  teams: TeamsTable;
  services: ServicesTable;
  incidents: IncidentsTable;
  incident_events: IncidentEventsTable;
  users: UsersTable;
  notifications: NotificationsTable;
  postmortems: PostmortemsTable;
  postmortem_incidents: PostmortemIncidentsTable;
  action_items: ActionItemsTable;
  sync_checkpoints: SyncCheckpointsTable;
  sync_runs: SyncRunsTable;
  ingest_errors: IngestErrorsTable;
  published_reports: PublishedReportsTable;
  webhook_events: WebhookEventsTable;
  sla_policy: SlaPolicyTable;
  metric_settings: MetricSettingsTable;
  delivery_runs: DeliveryRunsTable;
  delivery_log: DeliveryLogTable;
  reconciliation_changes: ReconciliationChangesTable;
}
