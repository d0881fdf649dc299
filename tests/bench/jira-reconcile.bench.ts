import { generateJiraHistory, generatePagerDutyHistory, startFakeJira } from '@incident-lens/simulators';
import { parseFileConfig } from '../../collector/src/config.ts';
import { createLogger } from '../../collector/src/logger.ts';
import { JIRA_REQUESTS_PER_MINUTE } from '../../collector/src/sources/jira/api-types.ts';
import { boundedJql, JiraClient } from '../../collector/src/sources/jira/client.ts';
import { figure } from './support.ts';

/** The default `schedule.sync`: every five minutes. */
const SYNCS_PER_DAY = 288;
/** Jira issues per PagerDuty incident in the simulated site (tickets, post-mortems, action items). */
const ISSUES_PER_INCIDENT = 0.6;

/**
 * The request cost of Jira's reconciliation for a site of about `issues`
 * issues: the id-only search of every configured JQL, bounded by
 * `jira.since`, that each sync runs (plus one GET per stored issue a search
 * no longer finds), as a share of the collector's Jira pacing.
 */
export async function benchJiraReconcile(issues = Number(process.env.BENCH_JIRA_ISSUES ?? 20_000)): Promise<void> {
  const end = new Date('2026-11-01T00:00:00Z');
  const since = new Date('2025-11-01T00:00:00Z');
  const pagerduty = generatePagerDutyHistory({
    seed: 215,
    start: since,
    end,
    incidents: Math.round(issues / ISSUES_PER_INCIDENT),
  });
  const site = generateJiraHistory({
    seed: 215,
    end,
    pagerduty: { incidents: pagerduty.expectedFacts(), subdomain: pagerduty.subdomain },
  });
  console.log(`\nJira reconciliation: a site of ${site.issueCount.toLocaleString('en')} issues`);
  const credentials = { email: 'bench@acme.example', apiToken: 'bench-token' };
  const server = await startFakeJira({ history: site, ...credentials });
  try {
    const client = new JiraClient({
      baseUrl: server.url,
      ...credentials,
      requestsPerMinute: 100_000_000,
      logger: createLogger('warn'),
    });
    const jira = parseFileConfig({}).jira;
    let found = 0;
    for (const jql of [jira.incidents.jql, jira.postmortems.jql, jira.actionItems.jql]) {
      for await (const ids of client.searchIssueIds(boundedJql(jql, since, 'UTC'))) {
        found += ids.length;
      }
    }
    const perSync = client.requestCount;
    const perDay = perSync * SYNCS_PER_DAY;
    figure('issue ids the three configured JQLs return', found.toLocaleString('en'));
    figure('requests of one compare (id-only pages of 5,000)', String(perSync));
    figure(`compare requests per day (${SYNCS_PER_DAY} syncs)`, perDay.toLocaleString('en'));
    figure(
      `share of the collector's ${JIRA_REQUESTS_PER_MINUTE}/min Jira pacing`,
      `${((perDay / (JIRA_REQUESTS_PER_MINUTE * 1440)) * 100).toFixed(2)} %`,
      '< 5 %'
    );
  } finally {
    await server.stop();
  }
}
