import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  generateJiraHistory,
  generatePagerDutyHistory,
  startFakeJira,
  startFakePagerDuty,
  type FakeJira,
  type FakePagerDuty,
} from '@incident-lens/simulators';
import { parseFileConfig } from '../collector/src/config.ts';
import { CollectorMetrics } from '../collector/src/serve/metrics.ts';
import { JiraSync } from '../collector/src/sources/jira/sync.ts';
import { PagerDutySync } from '../collector/src/sources/pagerduty/sync.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { parsePrometheusText, sampleValue } from './support/prometheus-text.ts';
import { captureLogger } from './support/serve.ts';

const START = new Date('2026-01-01T00:00:00Z');
const END = new Date('2026-04-01T00:00:00Z');
const NOW = new Date('2026-04-01T06:00:00Z');
const JIRA_TOKEN = 'jira-secret-token-5150';
const PD_TOKEN = 'pagerduty-secret-token-5150';
const RULES = { map: {}, fromUrgency: {} };
const JIRA = parseFileConfig({}).jira;

let database: TestDatabase;
let jira: FakeJira;
let pagerduty: FakePagerDuty;
const pdHistory = generatePagerDutyHistory({ seed: 515, start: START, end: END, incidents: 200 });
const site = generateJiraHistory({
  seed: 515,
  end: END,
  pagerduty: { incidents: pdHistory.expectedFacts(), subdomain: pdHistory.subdomain },
});

beforeAll(async () => {
  database = await createTestDatabase();
  jira = await startFakeJira({ history: site, email: 'collector@acme.example', apiToken: JIRA_TOKEN });
  pagerduty = await startFakePagerDuty({ history: pdHistory, token: PD_TOKEN, rateLimitPerMinute: 1_000_000 });
});

afterAll(async () => {
  await jira?.stop();
  await pagerduty?.stop();
  await database?.destroy();
});

function jiraSync() {
  return new JiraSync({
    baseUrl: jira.url,
    email: 'collector@acme.example',
    apiToken: JIRA_TOKEN,
    historyStart: START,
    searches: { incident: JIRA.incidents.jql, postmortem: JIRA.postmortems.jql, action_item: JIRA.actionItems.jql },
    newStatuses: JIRA.newStatuses,
    fields: JIRA.fields,
    severity: RULES,
    requestsPerMinute: 1_000_000,
    now: () => NOW,
  });
}

function pagerDutySync() {
  return new PagerDutySync({
    apiUrl: pagerduty.url,
    token: PD_TOKEN,
    requestsPerMinute: 1_000_000,
    historyStart: START,
    severity: RULES,
    reconcileDays: 30,
    now: () => NOW,
  });
}

const changeLines = (lines: Array<Record<string, unknown>>) =>
  lines.filter((line) => line.msg === 'reconciliation changed a record');

describe('changes a reconciliation finds', () => {
  it('are logged at info level with the record and the field, and counted in /metrics by account and field', async () => {
    const quiet = captureLogger('info');
    await jiraSync().run(database.db, { mode: 'full' }, quiet.logger);
    await pagerDutySync().run(database.db, { mode: 'full' }, quiet.logger);
    expect(changeLines(quiet.entries())).toEqual([]);

    const items = [...site.issues.values()].filter(
      (issue) => issue.labels.includes('action-item') && issue.parentKey === null
    );
    const [deleted, moved] = items;
    site.deleteIssue(deleted!.key);
    const movedFrom = moved!.key;
    const movedKey = site.moveIssue(movedFrom, 'INC', new Date('2026-04-01T05:00:00Z'));
    const incident = pdHistory
      .expectedFacts()
      .find(
        (fact) => fact.priority !== 'P1' && !fact.merged && Date.parse(fact.createdAt) > NOW.getTime() - 20 * 86_400_000
      )!;
    pdHistory.reclassify(incident.id, 'P1', new Date('2026-04-01T05:00:00Z'));

    const captured = captureLogger('info');
    await jiraSync().run(database.db, { mode: 'incremental' }, captured.logger);
    await pagerDutySync().run(database.db, { mode: 'incremental' }, captured.logger);
    const lines = changeLines(captured.entries());
    expect(lines.every((line) => line.level === 'info')).toBe(true);
    expect(lines).toContainEqual(
      expect.objectContaining({ source: 'jira', record: deleted!.key, kind: 'action_item', field: 'deleted' })
    );
    expect(lines).toContainEqual(
      expect.objectContaining({ source: 'jira', record: movedKey, field: 'key', from: movedFrom, to: movedKey })
    );
    expect(lines).toContainEqual(
      expect.objectContaining({
        source: 'pagerduty',
        record: incident.id,
        kind: 'incident',
        field: 'priority',
        from: incident.priority,
        to: 'P1',
      })
    );
    expect(captured.text()).not.toContain(JIRA_TOKEN);
    expect(captured.text()).not.toContain(PD_TOKEN);

    const metrics = new CollectorMetrics({
      db: database.db,
      sources: ['jira', 'pagerduty'],
      logger: captured.logger,
    });
    const families = parsePrometheusText(await metrics.registry.metrics());
    const counted = (source: string, field: string) =>
      sampleValue(families, 'incident_lens_reconciled_changes_total', { source, field });
    expect(counted('jira', 'deleted')).toBe(1);
    expect(counted('jira', 'key')).toBe(1);
    expect(counted('pagerduty', 'priority')).toBe(1);
    expect(lines).toHaveLength(3);

    // A sync that finds nothing new logs nothing and counts nothing more.
    const again = captureLogger('info');
    await jiraSync().run(database.db, { mode: 'incremental' }, again.logger);
    await pagerDutySync().run(database.db, { mode: 'incremental' }, again.logger);
    expect(changeLines(again.entries())).toEqual([]);
    const after = parsePrometheusText(await metrics.registry.metrics());
    expect(sampleValue(after, 'incident_lens_reconciled_changes_total', { source: 'jira', field: 'deleted' })).toBe(1);
  }, 120_000);
});
