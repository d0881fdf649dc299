import type { IncidentMetricsRow } from '@incident-lens/common/report';
import { sql, type Kysely } from 'kysely';
import type { Severity } from '../../collector/src/config.ts';
import type { Database, NotificationMethod, ResolvedBy } from '../../collector/src/db/schema.ts';

/**
 * Hand-built rows in the core tables for the metric tests: every instant is
 * written out in the test, so that each expected figure can be checked by hand.
 */

export interface IncidentSpec {
  id: string;
  created: string;
  ack?: string | null;
  resolved?: string | null;
  severity?: Severity;
  service?: string | null;
  team?: string | null;
  merged?: boolean;
  escalated?: boolean;
  unackCount?: number;
  rootCause?: string | null;
  detected?: string | null;
  /** The user (UserSpec id) whose entry was the first acknowledgement. */
  ackBy?: string | null;
  resolvedBy?: ResolvedBy | null;
}

export interface UserSpec {
  id: string;
  name?: string;
  zone?: string | null;
}

export interface NotificationSpec {
  incident: string;
  user: string;
  at: string;
  method: NotificationMethod;
}

export interface PostmortemSpec {
  id: string;
  /** The incident it reviews; `also` names more (a post-mortem of several incidents). */
  incident: string;
  also?: string[];
  created: string;
  completed?: string | null;
  rootCause?: string | null;
}

export interface ActionItemSpec {
  id: string;
  incident?: string | null;
  postmortem?: string | null;
  created: string;
  due?: string | null;
  completed?: string | null;
  /** Jira status category key; `done` when completed is set, else `new`. */
  category?: string;
  owner?: string | null;
}

export class MetricRows {
  private constructor(
    readonly db: Kysely<Database>,
    readonly pagerdutyId: number,
    readonly jiraId: number
  ) {}

  /** Two sources, and the services and teams the specs name, created on first use. */
  static async create(db: Kysely<Database>): Promise<MetricRows> {
    const pagerduty = await db
      .insertInto('sources')
      .values({ kind: 'pagerduty', base_url: 'https://api.pagerduty.com', name: 'PagerDuty' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const jira = await db
      .insertInto('sources')
      .values({ kind: 'jira', base_url: 'https://acme.atlassian.net', name: 'Jira' })
      .returning('id')
      .executeTakeFirstOrThrow();
    return new MetricRows(db, pagerduty.id, jira.id);
  }

  private readonly serviceIds = new Map<string, number>();
  private readonly teamIds = new Map<string, number>();
  readonly incidentIds = new Map<string, number>();
  readonly userIds = new Map<string, number>();
  readonly postmortemIds = new Map<string, number>();

  private async serviceId(name: string | null | undefined): Promise<number | null> {
    if (!name) {
      return null;
    }
    let id = this.serviceIds.get(name);
    if (id === undefined) {
      const row = await this.db
        .insertInto('services')
        .values({ source_id: this.pagerdutyId, external_id: `S-${name}`, name })
        .returning('id')
        .executeTakeFirstOrThrow();
      id = row.id;
      this.serviceIds.set(name, id);
    }
    return id;
  }

  private async teamId(name: string | null | undefined): Promise<number | null> {
    if (!name) {
      return null;
    }
    let id = this.teamIds.get(name);
    if (id === undefined) {
      const row = await this.db
        .insertInto('teams')
        .values({ source_id: this.pagerdutyId, external_id: `T-${name}`, name })
        .returning('id')
        .executeTakeFirstOrThrow();
      id = row.id;
      this.teamIds.set(name, id);
    }
    return id;
  }

  /** One INSERT for all of them, as a sync batch writes. */
  async incidents(specs: IncidentSpec[]): Promise<void> {
    const values = [];
    for (const spec of specs) {
      values.push({
        source_id: this.pagerdutyId,
        external_id: spec.id,
        title: `Incident ${spec.id}`,
        status: spec.resolved ? 'resolved' : spec.ack ? 'acknowledged' : 'triggered',
        severity: spec.severity ?? 'SEV2',
        service_id: await this.serviceId(spec.service),
        team_id: await this.teamId(spec.team),
        created_at: spec.created,
        acknowledged_at: spec.ack ?? null,
        resolved_at: spec.resolved ?? null,
        detected_at: spec.detected ?? null,
        merged: spec.merged ?? false,
        escalated: spec.escalated ?? false,
        unack_count: spec.unackCount ?? 0,
        root_cause_key: spec.rootCause ?? null,
        html_url: `https://acme.pagerduty.com/incidents/${spec.id}`,
        acknowledged_by: spec.ackBy ? this.userId(spec.ackBy) : null,
        resolved_by: spec.resolvedBy ?? null,
      });
    }
    if (values.length === 0) {
      return;
    }
    const rows = await this.db.insertInto('incidents').values(values).returning(['id', 'external_id']).execute();
    for (const row of rows) {
      this.incidentIds.set(row.external_id, row.id);
    }
  }

  incidentId(id: string): number {
    const found = this.incidentIds.get(id);
    if (found === undefined) {
      throw new Error(`no incident ${id} in this test`);
    }
    return found;
  }

  userId(id: string): number {
    const found = this.userIds.get(id);
    if (found === undefined) {
      throw new Error(`no user ${id} in this test`);
    }
    return found;
  }

  async users(specs: UserSpec[]): Promise<void> {
    if (specs.length === 0) {
      return;
    }
    const rows = await this.db
      .insertInto('users')
      .values(
        specs.map((spec) => ({
          source_id: this.pagerdutyId,
          external_id: spec.id,
          name: spec.name ?? `User ${spec.id}`,
          time_zone: spec.zone ?? null,
        }))
      )
      .returning(['id', 'external_id'])
      .execute();
    for (const row of rows) {
      this.userIds.set(row.external_id, row.id);
    }
  }

  /** One INSERT, as a sync batch writes; ids N1, N2... in the order given. */
  async notifications(specs: NotificationSpec[]): Promise<void> {
    if (specs.length === 0) {
      return;
    }
    const start = this.notificationCount;
    this.notificationCount += specs.length;
    await this.db
      .insertInto('notifications')
      .values(
        specs.map((spec, index) => ({
          source_id: this.pagerdutyId,
          external_id: `N${start + index + 1}`,
          incident_id: this.incidentId(spec.incident),
          user_id: this.userId(spec.user),
          notified_at: spec.at,
          method: spec.method,
          channel_type: spec.method === 'unknown' ? 'carrier_pigeon' : `${spec.method}_notification`,
        }))
      )
      .execute();
  }

  private notificationCount = 0;

  async postmortems(specs: PostmortemSpec[]): Promise<void> {
    for (const spec of specs) {
      const row = await this.db
        .insertInto('postmortems')
        .values({
          source_id: this.jiraId,
          external_id: spec.id,
          title: `Post-mortem ${spec.id}`,
          status: spec.completed ? 'Done' : 'In Progress',
          status_category: spec.completed ? 'done' : 'indeterminate',
          created_at: spec.created,
          completed_at: spec.completed ?? null,
          root_cause_key: spec.rootCause ?? null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await this.db
        .insertInto('postmortem_incidents')
        .values(
          [spec.incident, ...(spec.also ?? [])].map((incident) => ({
            postmortem_id: row.id,
            incident_id: this.incidentId(incident),
          }))
        )
        .execute();
      this.postmortemIds.set(spec.id, row.id);
    }
  }

  async actionItems(specs: ActionItemSpec[]): Promise<void> {
    for (const spec of specs) {
      const category = spec.category ?? (spec.completed ? 'done' : 'new');
      await this.db
        .insertInto('action_items')
        .values({
          source_id: this.jiraId,
          external_id: spec.id,
          incident_id: spec.incident ? this.incidentId(spec.incident) : null,
          postmortem_id: spec.postmortem ? this.postmortemIds.get(spec.postmortem)! : null,
          title: `Action ${spec.id}`,
          status: category === 'done' ? 'Done' : category === 'new' ? 'To Do' : 'In Progress',
          status_category: category,
          owner: spec.owner ?? null,
          due_date: spec.due ?? null,
          created_at: spec.created,
          completed_at: spec.completed ?? null,
        })
        .execute();
    }
  }

  /** Empties the incident tables between table rows (the triggers keep the facts in step). */
  async clear(): Promise<void> {
    await sql`DELETE FROM action_items`.execute(this.db);
    await sql`DELETE FROM postmortems`.execute(this.db);
    await sql`DELETE FROM incident_events`.execute(this.db);
    await sql`DELETE FROM notifications`.execute(this.db);
    await sql`DELETE FROM incidents`.execute(this.db);
    await sql`DELETE FROM users`.execute(this.db);
    this.incidentIds.clear();
    this.userIds.clear();
    this.postmortemIds.clear();
  }
}

export async function periodMetrics(
  db: Kysely<Database>,
  granularity: 'day' | 'week' | 'month',
  day: string,
  asOf: string,
  tz: string
): Promise<IncidentMetricsRow[]> {
  const result = await sql<IncidentMetricsRow>`
    SELECT * FROM lens.period_metrics(${granularity}, ${day}::date, ${asOf}::timestamptz, ${tz})`.execute(db);
  return result.rows;
}

export function totalRow(rows: IncidentMetricsRow[]): IncidentMetricsRow {
  const row = rows.find((candidate) => candidate.dimension === 'total');
  if (!row) {
    throw new Error('lens.metrics returned no total row');
  }
  return row;
}
