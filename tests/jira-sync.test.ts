import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseFileConfig } from '../collector/src/config.ts';
import {
  type ExpectedIncidentFacts,
  type FakeJira,
  type FakeJiraOptions,
  generateJiraHistory,
  generatePagerDutyHistory,
  ISSUE_TYPES,
  type JiraSiteHistory,
  LINK_TYPES,
  startFakeJira,
} from '@incident-lens/simulators';
import { AuthError, UsageError } from '../collector/src/errors.ts';
import { createLogger } from '../collector/src/logger.ts';
import { JiraSync, type JiraSyncOptions } from '../collector/src/sources/jira/sync.ts';
import type { SyncRequest } from '../collector/src/sync/source.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { storePagerDutyIncidents as storeIncidents } from './support/simulated-history.ts';

const logger = createLogger('error');
const EMAIL = 'collector@acme.example';
const TOKEN = 'jira-token-0123456789';
const START = new Date('2026-01-01T00:00:00Z');
const END = new Date('2026-04-01T00:00:00Z');
const RULES = { map: {}, fromUrgency: {} };
const DEFAULTS = parseFileConfig({}).jira;

const pagerduty = generatePagerDutyHistory({ seed: 41, start: START, end: END, incidents: 260 });
const pagerdutyFacts = pagerduty.expectedFacts();

let database: TestDatabase;
const servers: FakeJira[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.destroy();
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
  await clearTables();
});

async function clearTables(): Promise<void> {
  const { db } = database;
  await db.deleteFrom('action_items').execute();
  await db.deleteFrom('postmortems').execute();
  await db.deleteFrom('incident_events').execute();
  await db.deleteFrom('incidents').execute();
  await sql`DELETE FROM jira_issues`.execute(db);
  for (const table of ['sync_checkpoints', 'ingest_errors', 'sync_runs', 'sources'] as const) {
    await db.deleteFrom(table).execute();
  }
}

function site(options: { seed?: number; customFields?: boolean } = {}): JiraSiteHistory {
  return generateJiraHistory({
    seed: options.seed ?? 41,
    end: END,
    pagerduty: { incidents: pagerdutyFacts, subdomain: pagerduty.subdomain },
    customFields: options.customFields,
  });
}

async function serve(history: JiraSiteHistory, options: Partial<FakeJiraOptions> = {}): Promise<FakeJira> {
  const server = await startFakeJira({ history, email: EMAIL, apiToken: TOKEN, ...options });
  servers.push(server);
  return server;
}

function syncFor(server: FakeJira, options: Partial<JiraSyncOptions> = {}): JiraSync {
  return new JiraSync({
    baseUrl: server.url,
    email: EMAIL,
    apiToken: TOKEN,
    historyStart: START,
    searches: {
      incident: DEFAULTS.incidents.jql,
      postmortem: DEFAULTS.postmortems.jql,
      action_item: DEFAULTS.actionItems.jql,
    },
    newStatuses: DEFAULTS.newStatuses,
    fields: DEFAULTS.fields,
    severity: RULES,
    requestsPerMinute: 1_000_000,
    backoffBaseMs: 2,
    ...options,
  });
}

function run(sync: JiraSync, request: Partial<SyncRequest> = {}) {
  return sync.run(database.db, { mode: 'incremental', ...request }, logger);
}

/** The PagerDuty source's incidents, written the way the PagerDuty sync writes them. */
async function storePagerDutyIncidents(facts: readonly ExpectedIncidentFacts[] = pagerdutyFacts): Promise<void> {
  await storeIncidents(database.db, facts, pagerduty.subdomain);
}

const iso = (value: Date | null) => (value === null ? null : value.toISOString());

/** What the database holds, in the terms of JiraSiteHistory.expectedFacts(). */
async function stored() {
  const { db } = database;
  const incidents = await db
    .selectFrom('incidents')
    .innerJoin('sources', 'sources.id', 'incidents.source_id')
    .select([
      'incidents.id',
      'incidents.external_id',
      'sources.kind',
      'incidents.severity',
      'incidents.created_at',
      'incidents.acknowledged_at',
      'incidents.resolved_at',
      'incidents.jira_issue_key',
      // Stored as written; the key is what SQL makes of it.
      sql<string | null>`lens.root_cause_slug(incidents.root_cause_key)`.as('root_cause_key'),
    ])
    .execute();
  const incidentById = new Map(incidents.map((row) => [row.id, row.external_id]));
  const postmortems = await db
    .selectFrom('postmortems')
    .selectAll()
    .select(sql<string | null>`lens.root_cause_slug(root_cause_key)`.as('cause_key'))
    .execute();
  const postmortemById = new Map(postmortems.map((row) => [row.id, row.external_id]));
  const reviewed = await db.selectFrom('postmortem_incidents').selectAll().execute();
  const actionItems = await db.selectFrom('action_items').selectAll().execute();
  return {
    incidents,
    ticketByPagerDutyId: new Map(
      incidents
        .filter((row) => row.kind === 'pagerduty' && row.jira_issue_key !== null)
        .map((row) => [row.external_id, row.jira_issue_key!])
    ),
    jiraIncidents: new Map(
      incidents
        .filter((row) => row.kind === 'jira')
        .map((row) => [
          row.external_id,
          {
            severity: row.severity,
            createdAt: iso(row.created_at),
            acknowledgedAt: iso(row.acknowledged_at),
            resolvedAt: iso(row.resolved_at),
          },
        ])
    ),
    rootCauseByIncident: new Map(
      incidents.filter((row) => row.root_cause_key !== null).map((row) => [row.external_id, row.root_cause_key!])
    ),
    postmortems: new Map(
      postmortems.map((row) => [
        row.external_id,
        {
          incidents: reviewed
            .filter((link) => link.postmortem_id === row.id)
            .map((link) => incidentById.get(link.incident_id)!)
            .sort(),
          createdAt: iso(row.created_at),
          completedAt: iso(row.completed_at),
          rootCauseKey: row.cause_key,
        },
      ])
    ),
    actionItems: new Map(
      actionItems.map((row) => [
        row.external_id,
        {
          postmortem: row.postmortem_id === null ? null : postmortemById.get(row.postmortem_id)!,
          incident: row.incident_id === null ? null : incidentById.get(row.incident_id)!,
          owner: row.owner,
          dueDate: row.due_date,
          createdAt: iso(row.created_at),
          completedAt: iso(row.completed_at),
          done: row.status_category === 'done',
        },
      ])
    ),
  };
}

async function expectMatchesTruth(history: JiraSiteHistory): Promise<void> {
  const truth = history.expectedFacts();
  const actual = await stored();
  expect(actual.ticketByPagerDutyId).toEqual(truth.ticketByPagerDutyId);
  expect(actual.jiraIncidents).toEqual(truth.jiraIncidents);
  expect(actual.rootCauseByIncident).toEqual(truth.rootCauseByIncident);
  expect(actual.postmortems).toEqual(truth.postmortems);
  expect(actual.actionItems).toEqual(truth.actionItems);
  // One row per incident: PagerDuty's, plus the incidents only Jira knows.
  expect(actual.incidents).toHaveLength(pagerdutyFacts.length + truth.jiraIncidents.size);
  const errors = await database.db.selectFrom('ingest_errors').select(['external_id', 'reason']).execute();
  expect(errors).toEqual([]);
}

/** The searches that read issues; the id-only searches that compare them with the site are left out. */
function searches(server: FakeJira, from = 0) {
  return server.requests
    .slice(from)
    .filter(
      (request) =>
        request.path === '/rest/api/3/search/jql' &&
        (request.body as { fields?: string[] } | undefined)?.fields?.join() !== 'id'
    );
}

describe('Jira sync against the fake Jira', () => {
  it('full sync links incidents, post-mortems and action items as the site says', async () => {
    await storePagerDutyIncidents();
    const history = site();
    const truth = history.expectedFacts();
    // The generated site covers what the metrics need.
    expect(truth.ticketByPagerDutyId.size).toBeGreaterThan(20);
    expect(truth.jiraIncidents.size).toBe(12);
    expect(truth.postmortems.size).toBeGreaterThan(15);
    expect([...truth.actionItems.values()].some((item) => item.dueDate === null)).toBe(true);
    expect([...history.issues.values()].some((issue) => issue.histories.length > 40)).toBe(true);

    const server = await serve(history);
    const summary = await run(syncFor(server));
    expect(summary).toMatchObject({ source: 'jira', mode: 'full', quarantined: 0 });
    expect(summary.recordsUpserted).toBe(
      truth.ticketByPagerDutyId.size + truth.jiraIncidents.size + truth.postmortems.size + truth.actionItems.size
    );
    await expectMatchesTruth(history);

    // Long changelogs were completed in bulk, status changes only.
    const bulk = server.requests.filter((request) => request.path === '/rest/api/3/changelog/bulkfetch');
    expect(bulk.length).toBeGreaterThan(0);
    expect(bulk[0]!.body).toMatchObject({ fieldIds: ['status'] });
    // Every search asked for its fields, was bounded, and never used the removed endpoint.
    for (const request of searches(server)) {
      expect(request.body).toMatchObject({
        expand: 'changelog',
        fields: expect.arrayContaining(['status', 'issuelinks', 'labels']),
      });
      expect((request.body as { jql: string }).jql).toMatch(
        /^\(.+\) AND updated >= "2026-01-01 00:00" ORDER BY updated ASC, key ASC$/
      );
    }
    expect(server.requests.some((request) => request.path === '/rest/api/3/search')).toBe(false);

    const runs = await database.db.selectFrom('sync_runs').selectAll().execute();
    expect(runs).toEqual([
      expect.objectContaining({ outcome: 'succeeded', mode: 'full', requests: server.requests.length }),
    ]);
    const checkpoints = await database.db
      .selectFrom('sync_checkpoints')
      .select(['stream', 'cursor_at'])
      .orderBy('stream')
      .execute();
    expect(checkpoints.map((row) => row.stream)).toEqual(['action_items', 'incidents', 'postmortems']);
  });

  it('a second sync changes nothing and duplicates nothing', async () => {
    await storePagerDutyIncidents();
    const history = site();
    const server = await serve(history);
    await run(syncFor(server));
    const before = await stored();
    const second = await run(syncFor(server));
    expect(second.mode).toBe('incremental');
    expect(await stored()).toEqual(before);
    await expectMatchesTruth(history);
  });

  it('incremental sync reads from the checkpoint and picks up a status change', async () => {
    await storePagerDutyIncidents();
    const history = site();
    const server = await serve(history);
    await run(syncFor(server));
    const open = [...history.expectedFacts().actionItems.entries()].find(
      ([, item]) => !item.done && item.createdAt < '2026-03-01'
    )!;
    const doneAt = new Date('2026-04-03T09:30:00Z');
    history.transition(open[0], 'Done', doneAt, 'Ravi Patel');

    const before = server.requests.length;
    await run(syncFor(server));
    const after = searches(server, before);
    // The newest issue before the change was updated before END; the bound is that minus the overlap.
    for (const request of after) {
      expect((request.body as { jql: string }).jql).toMatch(
        /AND updated >= "2026-0[34]-\d\d \d\d:\d\d" ORDER BY updated ASC, key ASC$/
      );
    }
    const row = await database.db
      .selectFrom('action_items')
      .selectAll()
      .where('external_id', '=', open[0])
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'Done', status_category: 'done', completed_at: doneAt });
    await expectMatchesTruth(history);
  });

  it('a reopened action item is open again', async () => {
    await storePagerDutyIncidents();
    const history = site();
    const server = await serve(history);
    await run(syncFor(server));
    const [key, item] = [...history.expectedFacts().actionItems.entries()].find(([, candidate]) => candidate.done)!;
    expect(
      (
        await database.db
          .selectFrom('action_items')
          .select('completed_at')
          .where('external_id', '=', key)
          .executeTakeFirstOrThrow()
      ).completed_at
    ).toEqual(new Date(item.completedAt!));
    history.transition(key, 'Reopened', new Date('2026-04-02T08:00:00Z'), 'Ana Souza');
    await run(syncFor(server));
    const row = await database.db
      .selectFrom('action_items')
      .selectAll()
      .where('external_id', '=', key)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'Reopened', status_category: 'new', completed_at: null });
    await expectMatchesTruth(history);
  });

  it('pages through several search pages with nextPageToken', async () => {
    await storePagerDutyIncidents();
    const history = site();
    const server = await serve(history, { maxSearchPage: 7, maxBulkChangelogPage: 2 });
    await run(syncFor(server));
    const pages = searches(server);
    expect(pages.length).toBeGreaterThan(history.issueCount / 7);
    expect(
      pages.filter((request) => (request.body as { nextPageToken?: string }).nextPageToken !== undefined).length
    ).toBeGreaterThan(10);
    const bulkPages = server.requests.filter((request) => request.path === '/rest/api/3/changelog/bulkfetch');
    expect(bulkPages.some((request) => (request.body as { nextPageToken?: string }).nextPageToken !== undefined)).toBe(
      true
    );
    await expectMatchesTruth(history);
  });

  it('waits out 429 and 503 answers as Retry-After says', async () => {
    await storePagerDutyIncidents();
    const history = site();
    const server = await serve(history, { rateLimit: { requests: 20, windowMs: 1_000 } });
    server.failNext(2, 503, { retryAfterSeconds: 0, after: 3 });
    const started = Date.now();
    const summary = await run(syncFor(server));
    expect(server.rateLimitedCount()).toBeGreaterThan(0);
    expect(server.requests.filter((request) => request.status === 503)).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(summary.requests).toBe(server.requests.length);
    await expectMatchesTruth(history);
  });

  it('a failed sync keeps its checkpoints, and the retry completes without duplicates', async () => {
    const history = site();
    // How many requests a whole sync takes, to fail one halfway through.
    const probe = await serve(history, { maxSearchPage: 20 });
    await run(syncFor(probe));
    const wholeSync = probe.requests.length;
    await clearTables();

    await storePagerDutyIncidents();
    const server = await serve(history, { maxSearchPage: 20 });
    server.failNext(1_000, 500, { after: Math.floor(wholeSync / 2) });
    await expect(run(syncFor(server, { maxRetries: 1 }))).rejects.toThrow(/HTTP 500/);
    const failed = await database.db.selectFrom('sync_runs').selectAll().executeTakeFirstOrThrow();
    expect(failed).toMatchObject({ outcome: 'failed', error: expect.stringContaining('HTTP 500') });
    expect(await database.db.selectFrom('sync_checkpoints').selectAll().execute()).toEqual([]);
    const written = await sql<{ count: number }>`SELECT count(*)::int AS count FROM jira_issues`.execute(database.db);
    expect(written.rows[0]!.count).toBeGreaterThan(0);
    expect(written.rows[0]!.count).toBeLessThan(history.issueCount);

    server.failNext(0, 500);
    const retried = await run(syncFor(server));
    expect(retried.mode).toBe('full');
    await expectMatchesTruth(history);
  });

  it('reads JQL dates in the account time zone, and widens the bound when the zone is hidden', async () => {
    await storePagerDutyIncidents();
    const history = site();
    // West of UTC: a bound written in UTC would be read hours late and miss changes.
    const losAngeles = await serve(history, { timeZone: 'America/Los_Angeles' });
    await run(syncFor(losAngeles), { mode: 'full' });
    expect((searches(losAngeles)[0]!.body as { jql: string }).jql).toMatch(
      /updated >= "2025-12-31 16:00" ORDER BY updated ASC, key ASC$/
    );
    const [key] = [...history.expectedFacts().actionItems.entries()].find(([, item]) => !item.done)!;
    history.transition(key, 'Done', new Date('2026-04-02T00:00:00Z'));
    await run(syncFor(losAngeles));
    await expectMatchesTruth(history);

    // A hidden zone: the site's (UTC-11 here) applies, so the bound is written 12 h early in UTC.
    const hidden = await serve(history, { timeZone: null, siteTimeZone: 'Pacific/Pago_Pago' });
    const [other] = [...history.expectedFacts().actionItems.entries()].find(([, item]) => !item.done)!;
    history.transition(other, 'Done', new Date('2026-04-02T00:30:00Z'));
    await run(syncFor(hidden));
    const actionItemSearch = searches(hidden).find((request) =>
      (request.body as { jql: string }).jql.includes('action-item')
    )!;
    expect((actionItemSearch.body as { jql: string }).jql).toBe(
      '(labels = action-item) AND updated >= "2026-04-01 11:45" ORDER BY updated ASC, key ASC'
    );
    await expectMatchesTruth(history);
  });

  it('completes an action item from a changelog longer than a search embeds', async () => {
    const history = site();
    const postmortem = [...history.expectedFacts().postmortems.keys()][0]!;
    const created = new Date('2026-03-10T09:00:00Z');
    const key = history.addIssue({
      project: 'OPS',
      issueType: ISSUE_TYPES.task,
      summary: 'Rotate the database credentials',
      created,
      labels: ['action-item'],
      duedate: '2026-03-20',
      assignee: 'Leila Haddad',
    });
    history.link(key, postmortem, LINK_TYPES.relates, created);
    for (let n = 0; n < 45; n++) {
      history.edit(key, new Date(created.getTime() + (n + 1) * 60_000), {
        assignee: n % 2 ? 'Leila Haddad' : 'Jonas Becker',
      });
    }
    history.transition(key, 'In Progress', new Date('2026-03-12T10:00:00Z'));
    history.transition(key, 'Done', new Date('2026-03-18T16:45:00Z'));
    expect(history.issue(key).histories.length).toBeGreaterThan(40);

    await storePagerDutyIncidents();
    const server = await serve(history);
    await run(syncFor(server));
    const row = await database.db
      .selectFrom('action_items')
      .selectAll()
      .where('external_id', '=', key)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      completed_at: new Date('2026-03-18T16:45:00Z'),
      owner: 'Jonas Becker',
      due_date: '2026-03-20',
    });
    const bulk = server.requests.filter((request) => request.path === '/rest/api/3/changelog/bulkfetch');
    expect(
      bulk.some((request) =>
        (request.body as { issueIdsOrKeys: string[] }).issueIdsOrKeys.includes(history.issue(key).id)
      )
    ).toBe(true);
  });
});

describe('Jira sync under change and bad values', () => {
  it('an issue edited on an already-read page while a long sync runs is picked up by the next sync', async () => {
    await storePagerDutyIncidents();
    const history = site();
    const server = await serve(history, { maxSearchPage: 20 });
    const tickets = [...history.issues.values()]
      .filter((issue) => issue.labels.includes('incident') || issue.issueType.name === 'Incident')
      .sort((a, b) => a.updated - b.updated);
    expect(tickets.length).toBeGreaterThan(60);
    const truth = history.expectedFacts();
    const pagerDutyIdOfTicket = new Map([...truth.ticketByPagerDutyId].map(([pagerDutyId, key]) => [key, pagerDutyId]));
    const incidentOf = (key: string) => pagerDutyIdOfTicket.get(key) ?? key;
    // On the first page of the ticket search (oldest change first), its incident without a root cause.
    const early = tickets.slice(0, 20).find((issue) => !truth.rootCauseByIncident.has(incidentOf(issue.key)))!;
    expect(early).toBeDefined();
    const late = tickets.at(-1)!;
    const started = new Date();
    let searchPages = 0;
    const sync = syncFor(server, {
      onResponse: (event) => {
        if (event.path !== '/rest/api/3/search/jql') {
          return;
        }
        searchPages += 1;
        // Once the first page is read, someone gives a ticket on it a root cause; half an hour later another ticket changes.
        if (searchPages === 1) {
          history.edit(early.key, new Date(started.getTime() + 60_000), {
            labels: [...early.labels, 'root-cause:found-late'],
          });
        }
        if (searchPages === 2) {
          history.edit(late.key, new Date(started.getTime() + 30 * 60_000), { labels: [...late.labels, 'edited'] });
        }
      },
    });
    await run(sync);
    expect(searchPages).toBeGreaterThan(3);
    // A change half an hour after the search started was read, yet the checkpoint stays at or before the start.
    const checkpoint = await database.db
      .selectFrom('sync_checkpoints')
      .select('cursor_at')
      .where('stream', '=', 'incidents')
      .executeTakeFirstOrThrow();
    expect(checkpoint.cursor_at.getTime()).toBeLessThanOrEqual(started.getTime());

    const next = await run(syncFor(server));
    expect(next.mode).toBe('incremental');
    const incident = await database.db
      .selectFrom('incidents')
      .select('root_cause_key')
      .where('external_id', '=', incidentOf(early.key))
      .executeTakeFirstOrThrow();
    expect(incident.root_cause_key).toBe('found-late');
    const lateFacts = await sql<{
      source_updated_at: Date;
    }>`SELECT source_updated_at FROM jira_issues WHERE issue_key = ${late.key}`.execute(database.db);
    expect(lateFacts.rows[0]!.source_updated_at.getTime()).toBe(
      started.getTime() - (started.getTime() % 1000) + 30 * 60_000
    );
  });

  it('quarantines alone each issue PostgreSQL refuses, with its reason; the rest lands and the checkpoints move on', async () => {
    // The same site twice: once clean, once with issues whose values PostgreSQL cannot store.
    await storePagerDutyIncidents();
    await run(syncFor(await serve(site())));
    const clean = await stored();
    await clearTables();

    await storePagerDutyIncidents();
    const history = site();
    const created = new Date('2026-03-10T08:00:00Z');
    const nul = history.addIssue({
      project: 'INC',
      issueType: ISSUE_TYPES.incident,
      summary: 'db \u0000 down',
      created,
      labels: ['incident'],
    });
    // Random, so that PostgreSQL cannot compress it under its index's size limit.
    const reference = Array.from({ length: 3000 }, () => Math.floor(Math.random() * 36).toString(36)).join('');
    const huge = history.addIssue({
      project: 'INC',
      issueType: ISSUE_TYPES.incident,
      summary: 'imported',
      created,
      labels: ['incident', `pagerduty-${reference}`],
    });
    const yearZero = history.addIssue({
      project: 'OPS',
      issueType: ISSUE_TYPES.task,
      summary: 'due at the dawn of time',
      created,
      labels: ['action-item'],
      duedate: '0000-01-01',
    });
    const server = await serve(history);
    const summary = await run(syncFor(server));
    expect(summary.quarantined).toBe(3);

    const errors = await database.db
      .selectFrom('ingest_errors')
      .select(['record_kind', 'external_id', 'reason'])
      .orderBy('external_id')
      .execute();
    const refused = (code: string, message: RegExp) =>
      expect.stringMatching(new RegExp(`^PostgreSQL refused the record: ${message.source}.*\\(SQLSTATE ${code}\\)$`));
    expect(errors).toEqual(
      [
        { record_kind: 'jira.incident', external_id: nul, reason: refused('22021', /invalid byte sequence/) },
        { record_kind: 'jira.incident', external_id: huge, reason: refused('54000', /index row .*exceeds/) },
        {
          record_kind: 'jira.action_item',
          external_id: yearZero,
          reason: refused('22008', /date\/time field value out of range/),
        },
      ].sort((a, b) => (a.external_id < b.external_id ? -1 : 1))
    );
    // Everything else is stored as from the clean site, and every search's checkpoint moved.
    const actual = await stored();
    expect(actual.ticketByPagerDutyId).toEqual(clean.ticketByPagerDutyId);
    expect(actual.jiraIncidents).toEqual(clean.jiraIncidents);
    expect(actual.postmortems).toEqual(clean.postmortems);
    expect(actual.actionItems).toEqual(clean.actionItems);
    expect(actual.incidents).toHaveLength(clean.incidents.length);
    const checkpoints = await database.db.selectFrom('sync_checkpoints').select('stream').orderBy('stream').execute();
    expect(checkpoints.map((row) => row.stream)).toEqual(['action_items', 'incidents', 'postmortems']);

    // The next sync starts past them; a full one meets them again, counted, not duplicated.
    expect((await run(syncFor(server))).quarantined).toBe(0);
    const again = await run(syncFor(server), { mode: 'full' });
    expect(again.quarantined).toBe(3);
    const seen = await database.db.selectFrom('ingest_errors').select('seen_count').execute();
    expect(seen.map((row) => row.seen_count)).toEqual([2, 2, 2]);
  });
});

describe('Jira tickets and PagerDuty incidents', () => {
  it('a ticket read before its PagerDuty incident is merged into it later, never counted twice', async () => {
    const history = site();
    const truth = history.expectedFacts();
    const server = await serve(history);
    // Jira first: tickets of unknown PagerDuty incidents stand on their own.
    await run(syncFor(server));
    const jiraRows = await database.db.selectFrom('incidents').select('external_id').execute();
    expect(jiraRows).toHaveLength(truth.ticketByPagerDutyId.size + truth.jiraIncidents.size);

    await storePagerDutyIncidents();
    await run(syncFor(server));
    await expectMatchesTruth(history);
    // The claimed tickets' own rows and their events are gone.
    const events = await database.db
      .selectFrom('incident_events')
      .innerJoin('incidents', 'incidents.id', 'incident_events.incident_id')
      .select('incidents.external_id')
      .distinct()
      .execute();
    expect(events.every((row) => truth.jiraIncidents.has(row.external_id))).toBe(true);
  });

  it('an action item read before its post-mortem links to it when the post-mortem arrives', async () => {
    await storePagerDutyIncidents();
    const history = site();
    const [ticketPagerDutyId, ticket] = [...history.expectedFacts().ticketByPagerDutyId.entries()][0]!;
    const created = new Date('2026-03-20T10:00:00Z');
    // A draft post-mortem, not yet labelled, so no search finds it.
    const draft = history.addIssue({
      project: 'OPS',
      issueType: ISSUE_TYPES.task,
      summary: 'Post-mortem draft',
      created,
      labels: [],
    });
    history.link(draft, ticket, LINK_TYPES.relates, created);
    const item = history.addIssue({
      project: 'OPS',
      issueType: ISSUE_TYPES.subtask,
      summary: 'Add a canary stage',
      created: new Date('2026-03-20T11:00:00Z'),
      labels: ['action-item'],
      parentKey: draft,
      duedate: '2026-04-10',
    });
    const server = await serve(history);
    await run(syncFor(server));
    const before = await database.db
      .selectFrom('action_items')
      .selectAll()
      .where('external_id', '=', item)
      .executeTakeFirstOrThrow();
    expect(before).toMatchObject({ postmortem_id: null, incident_id: null });

    history.edit(draft, new Date('2026-04-02T09:00:00Z'), { labels: ['postmortem', 'root-cause:bad-deploy'] });
    await run(syncFor(server));
    // The item itself did not change; the post-mortem's sub-task list and the stored facts link it.
    const postmortem = await database.db
      .selectFrom('postmortems')
      .selectAll()
      .where('external_id', '=', draft)
      .executeTakeFirstOrThrow();
    const incident = await database.db
      .selectFrom('incidents')
      .selectAll()
      .where('external_id', '=', ticketPagerDutyId)
      .executeTakeFirstOrThrow();
    const after = await database.db
      .selectFrom('action_items')
      .selectAll()
      .where('external_id', '=', item)
      .executeTakeFirstOrThrow();
    expect(after).toMatchObject({ postmortem_id: postmortem.id, incident_id: incident.id });
    expect(
      await database.db
        .selectFrom('postmortem_incidents')
        .selectAll()
        .where('postmortem_id', '=', postmortem.id)
        .execute()
    ).toEqual([{ postmortem_id: postmortem.id, incident_id: incident.id }]);
    expect(incident.root_cause_key).toBe('bad-deploy');
  });

  it('reads the configured root-cause and PagerDuty fields', async () => {
    await storePagerDutyIncidents();
    const history = site({ customFields: true });
    expect([...history.issues.values()].some((issue) => issue.custom.customfield_10060 !== undefined)).toBe(true);
    expect([...history.issues.values()].some((issue) => issue.custom.customfield_10050 !== undefined)).toBe(true);
    const server = await serve(history);
    await run(
      syncFor(server, {
        fields: { severity: 'priority', rootCause: 'customfield_10050', pagerdutyIncident: 'customfield_10060' },
        siteUrl: 'https://acme.atlassian.net',
      })
    );
    await expectMatchesTruth(history);
    const [pagerdutyId, key] = [...history.expectedFacts().ticketByPagerDutyId.entries()][0]!;
    const incident = await database.db
      .selectFrom('incidents')
      .select(['jira_issue_key', 'jira_url'])
      .where('external_id', '=', pagerdutyId)
      .executeTakeFirstOrThrow();
    expect(incident).toEqual({ jira_issue_key: key, jira_url: `https://acme.atlassian.net/browse/${key}` });
  });
});

describe('Jira sync errors', () => {
  it('stops on refused credentials, naming what to fix, and records the failed run', async () => {
    const server = await serve(site());
    const error = await run(syncFor(server, { apiToken: 'wrong' })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as Error).message).toMatch(/HTTP 401: Client must be authenticated.*JIRA_EMAIL and JIRA_API_TOKEN/);
    expect((error as Error).message).not.toContain('wrong');
    const runs = await database.db.selectFrom('sync_runs').select(['outcome']).execute();
    expect(runs).toEqual([{ outcome: 'failed' }]);
  });

  it('refuses a configured field the site does not have', async () => {
    const server = await serve(site());
    const error = await run(
      syncFor(server, { fields: { severity: 'priority', rootCause: 'customfield_99999', pagerdutyIncident: null } })
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toContain("jira.fields.rootCause names the Jira field 'customfield_99999'");
  });

  it('names the setting whose JQL Jira refuses', async () => {
    const server = await serve(site());
    const error = await run(
      syncFor(server, {
        searches: {
          incident: 'labels = incident',
          postmortem: 'component = postmortem',
          action_item: 'labels = action-item',
        },
      })
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(
      /^Jira refused the search of jira\.postmortems\.jql \(\(component = postmortem\) AND updated >= .*Field 'component' does not exist/
    );
  });

  it('goes on without remote links when the site has issue linking off', async () => {
    await storePagerDutyIncidents();
    const history = site();
    const server = await serve(history, { issueLinkingDisabled: true });
    const summary = await run(syncFor(server));
    expect(summary.quarantined).toBe(0);
    expect(server.requests.filter((request) => request.path.endsWith('/remotelink'))).toHaveLength(1);
    // Tickets that name their PagerDuty incident only in a remote link now stand on their own.
    const remoteOnly = [...history.issues.values()]
      .filter((issue) => issue.remoteLinks.length > 0)
      .map((issue) => issue.key);
    expect(remoteOnly.length).toBeGreaterThan(0);
    const own = await database.db
      .selectFrom('incidents')
      .select('external_id')
      .where('external_id', 'in', remoteOnly)
      .execute();
    expect(own).toHaveLength(remoteOnly.length);
  });

  it('quarantines an issue it cannot map, once, and maps the rest', async () => {
    await storePagerDutyIncidents();
    const history = site();
    const key = history.addIssue({
      project: 'OPS',
      issueType: ISSUE_TYPES.task,
      summary: 'Imported item',
      created: new Date('2026-03-05T00:00:00Z'),
      labels: ['action-item'],
      status: 'Done',
    });
    // An import left it resolved before it was created.
    history.issue(key).resolutiondate = Date.parse('2026-03-01T00:00:00Z');
    history.issue(key).updated = Date.parse('2026-03-06T00:00:00Z');
    const server = await serve(history);
    const summary = await run(syncFor(server));
    expect(summary.quarantined).toBe(1);
    await run(syncFor(server), { mode: 'full' });
    const errors = await database.db.selectFrom('ingest_errors').selectAll().execute();
    expect(errors).toEqual([
      expect.objectContaining({
        record_kind: 'jira.action_item',
        external_id: key,
        seen_count: 2,
        reason: expect.stringContaining('before its creation'),
      }),
    ]);
    expect(await database.db.selectFrom('action_items').where('external_id', '=', key).selectAll().execute()).toEqual(
      []
    );
  });
});
