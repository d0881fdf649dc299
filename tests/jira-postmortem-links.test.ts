import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ISSUE_TYPES, JiraSiteHistory, LINK_TYPES, startFakeJira, type FakeJira } from '@incident-lens/simulators';
import { parseFileConfig } from '../collector/src/config.ts';
import { createLogger } from '../collector/src/logger.ts';
import { JiraSync } from '../collector/src/sources/jira/sync.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { storePagerDutyIncidents as storeIncidents } from './support/simulated-history.ts';

/**
 * docs/metrics.md §6: a post-mortem of several incidents counts for each
 * incident it names, by PagerDuty id, by incident URL or by issue link, each
 * with its own deadline; a name taken out of the issue takes its link away.
 */

const logger = createLogger('error');
const EMAIL = 'collector@acme.example';
const TOKEN = 'jira-token-0123456789';
const DEFAULTS = parseFileConfig({}).jira;
const MONTH_START = '2026-03-01T00:00:00Z';
const MONTH_END = '2026-04-01T00:00:00Z';
const AS_OF = '2026-03-28T00:00:00Z';

// The post-mortem is done at 2026-03-12 12:00. SEV1 is due 48 h after resolve, SEV2 7 days.
const BY_ID = { id: 'QPMBYID01', priority: 'P1', created: '2026-03-11T08:00:00Z', resolved: '2026-03-11T10:00:00Z' };
const BY_URL = { id: 'QPMBYURL2', priority: 'P1', created: '2026-03-09T08:00:00Z', resolved: '2026-03-09T10:00:00Z' };
const BY_LINK = { id: 'QPMBYLNK3', priority: 'P2', created: '2026-03-08T08:00:00Z', resolved: '2026-03-08T10:00:00Z' };
const UNNAMED = { id: 'QPMOTHER4', priority: 'P1', created: '2026-03-10T08:00:00Z', resolved: '2026-03-10T10:00:00Z' };
const INCIDENTS = [BY_ID, BY_URL, BY_LINK, UNNAMED];

let database: TestDatabase;
let server: FakeJira | undefined;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.destroy();
});
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

function description(...lines: string[]) {
  return {
    type: 'doc',
    version: 1,
    content: lines.map((text) => ({ type: 'paragraph', content: [{ type: 'text', text }] })),
  };
}

async function storePagerDutyIncidents(): Promise<void> {
  await storeIncidents(
    database.db,
    INCIDENTS.map((incident) => ({
      id: incident.id,
      createdAt: incident.created,
      firstAckAt: incident.created,
      resolvedAt: incident.resolved,
      status: 'resolved' as const,
      merged: false,
      priority: incident.priority,
      urgency: 'high' as const,
    })),
    'acme'
  );
}

function sync(url: string): JiraSync {
  return new JiraSync({
    baseUrl: url,
    email: EMAIL,
    apiToken: TOKEN,
    historyStart: new Date('2026-01-01T00:00:00Z'),
    searches: {
      incident: DEFAULTS.incidents.jql,
      postmortem: DEFAULTS.postmortems.jql,
      action_item: DEFAULTS.actionItems.jql,
    },
    newStatuses: DEFAULTS.newStatuses,
    fields: DEFAULTS.fields,
    severity: { map: {}, fromUrgency: {} },
    requestsPerMinute: 1_000_000,
    backoffBaseMs: 2,
  });
}

/** Each incident's post-mortem outcome and the post-mortem the incident API shows. */
async function outcomes(): Promise<Record<string, { outcome: string | null; postmortem: string | null }>> {
  const { rows } = await sql<{
    external_id: string;
    postmortem_outcome: string | null;
    postmortem_external_id: string | null;
  }>`
    SELECT external_id, postmortem_outcome, postmortem_external_id
    FROM lens.incident_facts(${MONTH_START}::timestamptz, ${MONTH_END}::timestamptz, ${AS_OF}::timestamptz, 'UTC')`.execute(
    database.db
  );
  return Object.fromEntries(
    rows.map((row) => [row.external_id, { outcome: row.postmortem_outcome, postmortem: row.postmortem_external_id }])
  );
}

async function missing(): Promise<string[]> {
  const { rows } = await sql<{ external_id: string }>`
    SELECT external_id FROM lens.missing_postmortems(${MONTH_START}::timestamptz, ${MONTH_END}::timestamptz, ${AS_OF}::timestamptz, 'UTC')`.execute(
    database.db
  );
  return rows.map((row) => row.external_id).sort();
}

async function reportPostmortems(): Promise<unknown> {
  const { rows } = await sql<{ report: { postmortems: unknown; dataQuality: { postmortemMissing: number } } }>`
    SELECT lens.report('month', date '2026-03-15', ${AS_OF}::timestamptz, 'UTC') AS report`.execute(database.db);
  return { ...(rows[0]!.report.postmortems as object), missing: rows[0]!.report.dataQuality.postmortemMissing };
}

async function links(): Promise<string[]> {
  const { rows } = await sql<{ link: string }>`
    SELECT p.external_id || ' ' || i.external_id AS link
    FROM postmortem_incidents l
    JOIN postmortems p ON p.id = l.postmortem_id
    JOIN incidents i ON i.id = l.incident_id
    ORDER BY 1`.execute(database.db);
  return rows.map((row) => row.link);
}

describe('a post-mortem of several incidents', () => {
  it('links every incident it names, each with its own timeliness, and drops a name taken out', async () => {
    await storePagerDutyIncidents();
    const history = new JiraSiteHistory();
    const ticket = history.addIssue({
      project: 'INC',
      issueType: ISSUE_TYPES.incident,
      summary: `Checkout down [PD ${BY_LINK.id}]`,
      created: new Date(BY_LINK.created),
      labels: ['incident'],
      priority: 'High',
    });
    const review = history.addIssue({
      project: 'OPS',
      issueType: ISSUE_TYPES.task,
      summary: 'Post-mortem: payment outage',
      created: new Date('2026-03-11T12:00:00Z'),
      labels: ['postmortem'],
      description: description(
        `Covers PagerDuty incident ${BY_ID.id}`,
        `and https://acme.pagerduty.com/incidents/${BY_URL.id} (the retry storm).`
      ),
    });
    history.link(review, ticket, LINK_TYPES.review, new Date('2026-03-11T12:05:00Z'));
    history.transition(review, 'In Progress', new Date('2026-03-11T13:00:00Z'));
    history.transition(review, 'Done', new Date('2026-03-12T12:00:00Z'));
    server = await startFakeJira({ history, email: EMAIL, apiToken: TOKEN });

    await sync(server.url).run(database.db, { mode: 'full' }, logger);
    expect(await links()).toEqual([`${review} ${BY_ID.id}`, `${review} ${BY_LINK.id}`, `${review} ${BY_URL.id}`]);
    expect(await outcomes()).toEqual({
      // 26 h after resolve, inside 48 h.
      [BY_ID.id]: { outcome: 'on_time', postmortem: review },
      // 74 h after resolve: done, but after the SEV1 deadline.
      [BY_URL.id]: { outcome: 'late', postmortem: review },
      // SEV2: 98 h after resolve, inside 7 days.
      [BY_LINK.id]: { outcome: 'on_time', postmortem: review },
      [UNNAMED.id]: { outcome: 'overdue', postmortem: null },
    });
    expect(await missing()).toEqual([UNNAMED.id]);
    expect(await reportPostmortems()).toEqual({
      required: 4,
      completed: 3,
      completedOnTime: 2,
      overdue: 1,
      missing: 1,
    });

    // A retried sync (full and incremental) adds no link.
    await sync(server.url).run(database.db, { mode: 'full' }, logger);
    await sync(server.url).run(database.db, { mode: 'incremental' }, logger);
    expect(await links()).toHaveLength(3);

    // The URL is taken out of the description: that link goes, the others stay.
    history.edit(review, new Date('2026-03-20T09:00:00Z'), {
      description: description(`Covers PagerDuty incident ${BY_ID.id}`),
    });
    await sync(server.url).run(database.db, { mode: 'incremental' }, logger);
    expect(await links()).toEqual([`${review} ${BY_ID.id}`, `${review} ${BY_LINK.id}`]);
    expect(await outcomes()).toMatchObject({
      [BY_ID.id]: { outcome: 'on_time', postmortem: review },
      [BY_URL.id]: { outcome: 'overdue', postmortem: null },
      [BY_LINK.id]: { outcome: 'on_time', postmortem: review },
    });
    expect(await missing()).toEqual([BY_URL.id, UNNAMED.id].sort());
    expect(await reportPostmortems()).toEqual({
      required: 4,
      completed: 2,
      completedOnTime: 2,
      overdue: 2,
      missing: 2,
    });
  });
});
