import type { Kysely } from 'kysely';
import type { Database } from '../../collector/src/db/schema.ts';
import {
  generatePagerDutyHistory,
  type ExpectedIncidentFacts,
  type PagerDutyHistory,
  startFakePagerDuty,
} from '@incident-lens/simulators';
import { createLogger } from '../../collector/src/logger.ts';
import { normaliseSeverity } from '../../collector/src/severity.ts';
import { PagerDutySync } from '../../collector/src/sources/pagerduty/sync.ts';
import { ensureSource, upsertIncidents } from '../../collector/src/sync/store.ts';

/**
 * Fills a database the way a user's would be filled: a seeded PagerDuty
 * history served by the PagerDuty-compatible server and read by the real
 * sync, as of `end`.
 */
export async function syncSimulatedPagerDuty(
  db: Kysely<Database>,
  options: { seed: number; start: Date; end: Date; incidents: number; accountName?: string }
): Promise<PagerDutyHistory> {
  const history = generatePagerDutyHistory(options);
  const server = await startFakePagerDuty({ history, token: 't', rateLimitPerMinute: 1_000_000 });
  try {
    await new PagerDutySync({
      name: options.accountName,
      apiUrl: server.url,
      token: 't',
      requestsPerMinute: 1_000_000,
      historyStart: options.start,
      severity: { map: {}, fromUrgency: {} },
      now: () => options.end,
    }).run(db, { mode: 'full' }, createLogger('error'));
  } finally {
    await server.stop();
  }
  return history;
}

/** The incident fields a Jira test needs stored for its links and deadlines to resolve. */
export type IncidentToLink = Pick<
  ExpectedIncidentFacts,
  'id' | 'createdAt' | 'firstAckAt' | 'resolvedAt' | 'status' | 'merged' | 'priority' | 'urgency'
>;

/**
 * Stores incidents as the PagerDuty sync writes them (severity by the
 * default rules, no service or team), so that Jira tests link post-mortems
 * and action items to them without running that sync.
 */
export async function storePagerDutyIncidents(
  db: Kysely<Database>,
  incidents: readonly IncidentToLink[],
  subdomain: string
): Promise<void> {
  const sourceId = await ensureSource(db, { name: 'pagerduty', kind: 'pagerduty', baseUrl: 'https://pagerduty.test' });
  await upsertIncidents(
    db,
    sourceId,
    incidents.map((incident) => ({
      externalId: incident.id,
      number: null,
      title: `Incident ${incident.id}`,
      status: incident.status,
      urgency: incident.urgency,
      priorityRaw: incident.priority,
      severity: normaliseSeverity(incident.priority, incident.urgency, { map: {}, fromUrgency: {} }),
      serviceExternalId: null,
      teamExternalId: null,
      createdAt: incident.createdAt,
      acknowledgedAt: incident.firstAckAt,
      resolvedAt: incident.resolvedAt,
      merged: incident.merged,
      htmlUrl: `https://${subdomain}.pagerduty.com/incidents/${incident.id}`,
      sourceUpdatedAt: null,
    })),
    new Map(),
    new Map()
  );
}
