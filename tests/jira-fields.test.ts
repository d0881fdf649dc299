import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  generateJiraHistory,
  generatePagerDutyHistory,
  startFakeJira,
  type FakeJira,
  type FakeJiraOptions,
  type JiraSiteHistory,
} from '@incident-lens/simulators';
import { parseFileConfig } from '../collector/src/config.ts';
import { UsageError } from '../collector/src/errors.ts';
import { createLogger } from '../collector/src/logger.ts';
import type { JiraFieldDetails } from '../collector/src/sources/jira/api-types.ts';
import { resolveJiraFields, SLA_FIELD_TYPE, type JiraFieldSettings } from '../collector/src/sources/jira/fields.ts';
import { JiraSync } from '../collector/src/sources/jira/sync.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { storePagerDutyIncidents } from './support/simulated-history.ts';

/** Jira fields are found by id and schema type, never by their (translated) display name. */

const SITE = 'https://acme.atlassian.net';
const UNSET: JiraFieldSettings = { severity: 'priority', rootCause: null, pagerdutyIncident: null };

function system(id: string, name: string): JiraFieldDetails {
  return { id, key: id, name, custom: false, schema: { type: 'string', system: id } };
}

function sla(id: string, name: string): JiraFieldDetails {
  return {
    id,
    key: id,
    name,
    custom: true,
    schema: { type: 'sd-servicelevelagreement', custom: SLA_FIELD_TYPE, customId: Number(id.split('_')[1]) },
  };
}

const GERMAN_SYSTEM = [
  system('summary', 'Zusammenfassung'),
  system('status', 'Status'),
  system('created', 'Erstellt'),
  system('priority', 'Priorität'),
];

describe('resolveJiraFields', () => {
  it('finds the SLA field by its type, whatever its name; a text field named like it is not one', () => {
    const found = resolveJiraFields(
      [
        ...GERMAN_SYSTEM,
        {
          id: 'customfield_10019',
          name: 'Time to first response',
          custom: true,
          schema: { type: 'string', custom: 'com.atlassian.jira.plugin.system.customfieldtypes:textfield' },
        },
        sla('customfield_10020', 'Zeit bis zur ersten Antwort'),
      ],
      UNSET,
      SITE
    );
    expect(found).toEqual({
      fields: { severity: 'priority', rootCause: null, pagerdutyIncident: null },
      firstResponseSlaField: 'customfield_10020',
      notes: [],
    });
  });

  it('takes the configured SLA field over discovery, and asks for it when two SLA fields are there', () => {
    const fields = [
      ...GERMAN_SYSTEM,
      sla('customfield_10020', 'Zeit bis zur ersten Antwort'),
      sla('customfield_10021', 'Zeit bis zur Lösung'),
    ];
    const unset = resolveJiraFields(fields, UNSET, SITE);
    expect(unset.firstResponseSlaField).toBeNull();
    expect(unset.notes).toEqual([expect.stringContaining('set jira.fields.firstResponseSla')]);
    expect(unset.notes[0]).toContain('customfield_10020, customfield_10021');
    const configured = resolveJiraFields(fields, { ...UNSET, firstResponseSla: 'customfield_10021' }, SITE);
    expect(configured).toMatchObject({ firstResponseSlaField: 'customfield_10021', notes: [] });
    // One SLA field on the site, another configured by its key: the configured one still wins.
    const onlyOne = resolveJiraFields(
      [...GERMAN_SYSTEM, sla('customfield_10020', 'x'), { ...sla('customfield_10030', 'y'), id: 'customfield_10030' }],
      { ...UNSET, firstResponseSla: 'customfield_10030' },
      SITE
    );
    expect(onlyOne.firstResponseSlaField).toBe('customfield_10030');
  });

  it('resolves configured custom fields to the site ids, and has no SLA field when the site has none', () => {
    const found = resolveJiraFields(
      [
        ...GERMAN_SYSTEM,
        {
          id: 'customfield_10042',
          key: 'customfield_10042',
          name: 'Schweregrad',
          custom: true,
          schema: { type: 'option' },
        },
        {
          id: 'customfield_10050',
          key: 'customfield_10050',
          name: 'Grundursache',
          custom: true,
          schema: { type: 'option' },
        },
      ],
      { severity: 'customfield_10042', rootCause: 'customfield_10050', pagerdutyIncident: null },
      SITE
    );
    expect(found).toEqual({
      fields: { severity: 'customfield_10042', rootCause: 'customfield_10050', pagerdutyIncident: null },
      firstResponseSlaField: null,
      notes: [],
    });
  });

  it.each<[string, unknown, JiraFieldSettings, RegExp]>([
    [
      'a configured custom field the site lacks',
      GERMAN_SYSTEM,
      { ...UNSET, pagerdutyIncident: 'customfield_99999' },
      /^jira\.fields\.pagerdutyIncident names the Jira field 'customfield_99999', which https:\/\/acme\.atlassian\.net does not have/,
    ],
    [
      'priorities off while the severity is read from them',
      GERMAN_SYSTEM.filter((field) => field.id !== 'priority'),
      UNSET,
      /^jira\.fields\.severity names the Jira field 'priority'.*set it to the custom field id that holds the severity/,
    ],
    [
      'a configured SLA field that is not an SLA',
      [...GERMAN_SYSTEM, { id: 'customfield_10042', name: 'Schweregrad', schema: { type: 'option' } }],
      { ...UNSET, firstResponseSla: 'customfield_10042' },
      /^jira\.fields\.firstResponseSla names 'customfield_10042', which is not a Jira Service Management SLA field/,
    ],
    [
      'a site that lists no status field',
      GERMAN_SYSTEM.filter((field) => field.id !== 'status'),
      UNSET,
      /^the Jira site https:\/\/acme\.atlassian\.net lists no 'status' field/,
    ],
    ['an answer that is not a field list', { errorMessages: [] }, UNSET, /lists no 'summary' field/],
  ])('refuses %s with a usage error', (_name, fields, settings, message) => {
    expect(() => resolveJiraFields(fields, settings, SITE)).toThrow(UsageError);
    expect(() => resolveJiraFields(fields, settings, SITE)).toThrow(message);
  });
});

const logger = createLogger('error');
const EMAIL = 'collector@acme.example';
const TOKEN = 'jira-token-0123456789';
const START = new Date('2026-01-01T00:00:00Z');
const END = new Date('2026-04-01T00:00:00Z');
const RULES = { map: {}, fromUrgency: {} };
const DEFAULTS = parseFileConfig({}).jira;
const pagerduty = generatePagerDutyHistory({ seed: 43, start: START, end: END, incidents: 120 });

describe('a Jira site in another language', () => {
  let database: TestDatabase;
  const servers: FakeJira[] = [];
  let history: JiraSiteHistory;

  beforeAll(async () => {
    database = await createTestDatabase();
    history = generateJiraHistory({
      seed: 43,
      end: END,
      pagerduty: { incidents: pagerduty.expectedFacts(), subdomain: pagerduty.subdomain },
      customFields: true,
    });
  });
  afterAll(async () => {
    await database.destroy();
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.stop()));
  });

  async function reset(): Promise<void> {
    const { db } = database;
    for (const table of ['action_items', 'postmortems', 'incident_events', 'incidents', 'jira_issues']) {
      await sql`DELETE FROM ${sql.table(table)}`.execute(db);
    }
    for (const table of ['sync_checkpoints', 'ingest_errors', 'sync_runs', 'sources']) {
      await sql`DELETE FROM ${sql.table(table)}`.execute(db);
    }
    await storePagerDutyIncidents(db, pagerduty.expectedFacts(), pagerduty.subdomain);
  }

  /** Syncs the site as served with these options, then reads what the figures are built from. */
  async function syncedFigures(options: Partial<FakeJiraOptions>, fields: Partial<JiraFieldSettings> = {}) {
    await reset();
    const server = await startFakeJira({ history, email: EMAIL, apiToken: TOKEN, ...options });
    servers.push(server);
    const sync = new JiraSync({
      baseUrl: server.url,
      siteUrl: SITE,
      email: EMAIL,
      apiToken: TOKEN,
      historyStart: START,
      searches: {
        incident: DEFAULTS.incidents.jql,
        postmortem: DEFAULTS.postmortems.jql,
        action_item: DEFAULTS.actionItems.jql,
      },
      newStatuses: DEFAULTS.newStatuses,
      fields: {
        severity: 'customfield_10042',
        rootCause: 'customfield_10050',
        pagerdutyIncident: 'customfield_10060',
        ...fields,
      },
      severity: RULES,
      requestsPerMinute: 1_000_000,
      backoffBaseMs: 2,
    });
    await sync.run(database.db, { mode: 'full' }, logger);
    const { db } = database;
    const incidents = await sql`
      SELECT external_id, severity, created_at, acknowledged_at, resolved_at, root_cause_key, jira_issue_key
      FROM incidents ORDER BY external_id`.execute(db);
    const postmortems = await sql`
      SELECT p.external_id, p.completed_at, array_agg(i.external_id ORDER BY i.external_id) AS incidents
      FROM postmortems p JOIN postmortem_incidents l ON l.postmortem_id = p.id JOIN incidents i ON i.id = l.incident_id
      GROUP BY p.external_id, p.completed_at ORDER BY p.external_id`.execute(db);
    const reports = await sql`
      SELECT lens.report('month', day, '2026-04-01T00:00:00Z'::timestamptz, 'UTC') AS report
      FROM unnest(ARRAY[date '2026-01-15', date '2026-02-15', date '2026-03-15']) AS day`.execute(db);
    // The searches that read issues (the reconciliation's id-only searches ask for no field).
    const searched = server.requests
      .filter((request) => request.path === '/rest/api/3/search/jql')
      .map((request) => (request.body as { fields: string[] }).fields)
      .filter((fields) => fields.includes('summary'));
    const errors = await db.selectFrom('ingest_errors').select(['external_id', 'reason']).execute();
    return {
      figures: { incidents: incidents.rows, postmortems: postmortems.rows, reports: reports.rows },
      searched,
      errors,
    };
  }

  it('syncs a German site with the same figures as the English one, the SLA field found by its type', async () => {
    const english = await syncedFigures({});
    expect(english.errors).toEqual([]);
    expect(english.figures.incidents.length).toBeGreaterThan(100);
    expect(english.searched.length).toBeGreaterThanOrEqual(3);
    expect(english.searched.every((fields) => fields.includes('customfield_10020'))).toBe(true);

    const german = await syncedFigures({ locale: 'de_DE' });
    expect(german.errors).toEqual([]);
    expect(german.searched.every((fields) => fields.includes('customfield_10020'))).toBe(true);
    expect(german.figures).toEqual(english.figures);
  });

  it('with two SLA fields reads the configured one, and without it falls back to status changes', async () => {
    const english = await syncedFigures({});
    const configured = await syncedFigures(
      { locale: 'de_DE', resolutionSlaField: true },
      { firstResponseSla: 'customfield_10020' }
    );
    expect(configured.searched.every((fields) => fields.includes('customfield_10020'))).toBe(true);
    expect(configured.figures).toEqual(english.figures);

    const unconfigured = await syncedFigures({ locale: 'de_DE', resolutionSlaField: true });
    expect(unconfigured.searched.some((fields) => fields.includes('customfield_10020'))).toBe(false);
    expect(unconfigured.searched.some((fields) => fields.includes('customfield_10021'))).toBe(false);
    // The SLA stops a little before the ticket moves on: without it, Jira incidents respond later.
    expect(unconfigured.figures.incidents).not.toEqual(english.figures.incidents);
  });

  it('stops with a clear error, and records the failed run, when the severity field is not there', async () => {
    await reset();
    const server = await startFakeJira({
      history,
      email: EMAIL,
      apiToken: TOKEN,
      locale: 'de_DE',
      hiddenFields: ['priority'],
    });
    servers.push(server);
    const sync = new JiraSync({
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
    });
    const error = await sync.run(database.db, { mode: 'full' }, logger).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(/^jira\.fields\.severity names the Jira field 'priority'/);
    const runs = await database.db.selectFrom('sync_runs').select(['outcome']).execute();
    expect(runs).toEqual([{ outcome: 'failed' }]);
    expect(server.requests.some((request) => request.path === '/rest/api/3/search/jql')).toBe(false);
  });
});
