import type { Kysely } from 'kysely';
import type { Config } from '../../config.ts';
import type { Database, SyncMode } from '../../db/schema.ts';
import { ApiError, AuthError, InterruptedError, UsageError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import type { SeverityRules } from '../../severity.ts';
import type { SourceSync, SyncRequest, SyncSummary } from '../../sync/source.ts';
import {
  advanceCheckpoint,
  ensureSource,
  quarantine,
  readCheckpoint,
  upsertEvents,
  upsertIncidents,
  type EventRow,
  type QuarantinedRecord,
  type SyncCounts,
} from '../../sync/store.ts';
import { recordSyncRun } from '../../sync/sync-run.ts';
import { FIRST_RESPONSE_SLA_NAME, SLA_FIELD_SCHEMA, type JiraFieldDetails, type JiraIssue, type JiraRemoteLink } from './api-types.ts';
import { boundedJql, JiraClient, type JiraClientOptions } from './client.ts';
import {
  linkedIssueKeys,
  mapJiraActionItem,
  mapJiraIncident,
  mapJiraPostmortem,
  pagerDutyReferences,
  parseJiraInstant,
  searchFields,
  type JiraIssueFacts,
  type JiraIssueKind,
  type JiraIssueRecord,
  type JiraMappingRules,
  type MappedActionItem,
  type MappedJiraIncident,
  type MappedPostmortem,
} from './mapper.ts';
import {
  knownPagerDutyIncidents,
  resolveJiraLinks,
  upsertActionItems,
  upsertIssueFacts,
  upsertPostmortems,
} from './store.ts';

/**
 * Jira's search index lags writes a little ("recent updates might not be
 * immediately visible"), and our bound is written to the minute: re-read
 * this much before the checkpoint. Upserts make the re-read harmless.
 */
export const INCREMENTAL_OVERLAP_MS = 15 * 60_000;

/** Searches in this order: a post-mortem's incident and an action item's post-mortem are usually stored first. */
const KINDS: readonly JiraIssueKind[] = ['incident', 'postmortem', 'action_item'];

const SETTINGS: Record<JiraIssueKind, string> = {
  incident: 'jira.incidents.jql',
  postmortem: 'jira.postmortems.jql',
  action_item: 'jira.actionItems.jql',
};

const STREAMS: Record<JiraIssueKind, string> = {
  incident: 'incidents',
  postmortem: 'postmortems',
  action_item: 'action_items',
};

export interface JiraSyncOptions extends Omit<JiraClientOptions, 'logger' | 'signal'> {
  /** First day of history for a full sync (`jira.since`). */
  historyStart: Date;
  /** The configured JQL of each kind of issue. */
  searches: Record<JiraIssueKind, string>;
  newStatuses: readonly string[];
  fields: JiraMappingRules['fields'];
  severity: SeverityRules;
  /** Identity of the site in the sources table; defaults to the site URL. */
  sourceKey?: string;
  /** Where issue pages live (`<siteUrl>/browse/KEY`) when the API is reached elsewhere; defaults to baseUrl. */
  siteUrl?: string;
  overlapMs?: number;
}

export function createJiraSync(config: Config, overrides: Partial<JiraSyncOptions> = {}): JiraSync {
  const env = config.jira.env;
  if (!env && overrides.baseUrl === undefined) {
    throw new UsageError('Jira is not configured: set JIRA_BASE_URL, JIRA_EMAIL and JIRA_API_TOKEN');
  }
  return new JiraSync({
    baseUrl: env?.baseUrl ?? '',
    email: env?.email ?? '',
    apiToken: env?.apiToken ?? '',
    historyStart: new Date(`${config.jira.since}T00:00:00Z`),
    searches: {
      incident: config.jira.incidents.jql,
      postmortem: config.jira.postmortems.jql,
      action_item: config.jira.actionItems.jql,
    },
    newStatuses: config.jira.newStatuses,
    fields: config.jira.fields,
    severity: config.severity,
    ...overrides,
  });
}

/** What the site itself tells the mapper: time zone, status categories, SLA field. */
interface SiteFacts {
  timeZone: string | undefined;
  rules: JiraMappingRules;
}

/**
 * Reads the three configured searches, each from its own checkpoint, writes
 * one search page per transaction, then resolves the links between
 * incidents, post-mortems and action items over everything stored and moves
 * the checkpoints, in one transaction. A failed sync leaves the checkpoints
 * where they were: the next one reads the same issues again, and upserts on
 * (site, issue key) make that a no-op rather than a duplicate.
 */
export class JiraSync implements SourceSync {
  readonly source = 'jira';

  constructor(private readonly options: JiraSyncOptions) {}

  async run(db: Kysely<Database>, request: SyncRequest, logger: Logger): Promise<SyncSummary> {
    const client = new JiraClient({ ...this.options, logger, signal: request.signal });
    const sourceId = await this.sourceId(db);
    const overlap = this.options.overlapMs ?? INCREMENTAL_OVERLAP_MS;

    const bounds = new Map<JiraIssueKind, Date>();
    let incrementalStreams = 0;
    for (const kind of KINDS) {
      const checkpoint = request.mode === 'incremental' ? await readCheckpoint(db, sourceId, STREAMS[kind]) : undefined;
      if (checkpoint) incrementalStreams += 1;
      bounds.set(kind, checkpoint ? new Date(checkpoint.getTime() - overlap) : (request.since ?? this.options.historyStart));
    }
    const mode: Exclude<SyncMode, 'webhook'> =
      request.mode === 'incremental' && incrementalStreams === 0 ? 'full' : request.mode;
    const windowStart = new Date(Math.min(...[...bounds.values()].map((bound) => bound.getTime())));
    const windowEnd = new Date(Math.floor(Date.now() / 1000) * 1000);

    let writeMs = 0;
    return recordSyncRun(
      db,
      {
        source: 'jira',
        sourceId,
        mode,
        windowStart,
        windowEnd,
        requestCount: () => client.requestCount,
        writeMs: () => writeMs,
      },
      logger,
      async (runId, counts) => {
        const site = await this.discoverSite(client);
        const writer = new PageWriter(db, sourceId, runId, site.rules, counts);
        const remoteLinks = new RemoteLinkReader(client, logger);
        const fields = searchFields(site.rules);
        const newestSeen = new Map<JiraIssueKind, Date>();
        for (const kind of KINDS) {
          const jql = boundedJql(this.options.searches[kind], bounds.get(kind)!, site.timeZone);
          let done = 0;
          try {
            for await (const issues of client.searchIssues(jql, fields)) {
              if (request.signal?.aborted) throw new InterruptedError();
              const records = await remoteLinks.attach(kind, issues, site.rules);
              await writer.write(kind, records);
              for (const issue of issues) {
                const updated = parseJiraInstant(issue.fields?.updated);
                const newest = newestSeen.get(kind);
                if (updated !== undefined && (!newest || new Date(updated) > newest)) newestSeen.set(kind, new Date(updated));
              }
              done += issues.length;
              request.progress?.update(`jira ${STREAMS[kind].replace('_', ' ')}`, done);
            }
          } catch (error) {
            // A JQL Jira refuses is a configuration error: name the setting.
            if (error instanceof ApiError && error.status === 400) {
              throw new UsageError(`Jira refused the search of ${SETTINGS[kind]} (${jql}): ${error.message}`, { cause: error });
            }
            throw error;
          }
        }
        const resolving = performance.now();
        await db.transaction().execute(async (trx) => {
          await resolveJiraLinks(trx);
          for (const kind of KINDS) {
            // A search that found nothing still proves nothing changed before its bound.
            await advanceCheckpoint(trx, sourceId, STREAMS[kind], newestSeen.get(kind) ?? bounds.get(kind)!);
          }
        });
        writeMs = writer.writeMs + performance.now() - resolving;
      },
    );
  }

  private sourceId(db: Kysely<Database>): Promise<number> {
    const key = this.options.sourceKey ?? this.options.baseUrl;
    return ensureSource(db, 'jira', key, `Jira ${hostOf(key)}`);
  }

  /**
   * The account's time zone (Jira reads JQL dates in it), the category of
   * every status (to tell a move into Done), and the first-response SLA
   * field; configured custom fields that the site lacks are a usage error.
   */
  private async discoverSite(client: JiraClient): Promise<SiteFacts> {
    const [myself, fieldList, statuses] = [await client.myself(), await client.fields(), await client.statuses()];
    const fields = Array.isArray(fieldList) ? fieldList : [];
    const configured: [string, string | null][] = [
      ['jira.fields.severity', this.options.fields.severity === 'priority' ? null : this.options.fields.severity],
      ['jira.fields.rootCause', this.options.fields.rootCause],
      ['jira.fields.pagerdutyIncident', this.options.fields.pagerdutyIncident],
    ];
    for (const [setting, fieldId] of configured) {
      if (fieldId !== null && !fields.some((field) => field.id === fieldId || field.key === fieldId)) {
        throw new UsageError(
          `${setting} names the Jira field '${fieldId}', which ${this.options.baseUrl} does not have or the account cannot see: use a field id such as customfield_10042`,
        );
      }
    }
    const statusCategories = new Map<string, string>();
    for (const status of Array.isArray(statuses) ? statuses : []) {
      if (status.id !== undefined && status.statusCategory?.key !== undefined) statusCategories.set(status.id, status.statusCategory.key);
    }
    return {
      timeZone: myself.timeZone ?? undefined,
      rules: {
        siteUrl: this.options.siteUrl ?? this.options.baseUrl,
        newStatuses: this.options.newStatuses,
        fields: this.options.fields,
        severity: this.options.severity,
        statusCategories,
        firstResponseSlaField: firstResponseSlaField(fields),
      },
    };
  }
}

/** The Jira Service Management "Time to first response" SLA field, if the site has one. */
export function firstResponseSlaField(fields: JiraFieldDetails[]): string | null {
  const match = fields.find(
    (field) =>
      field.id !== undefined &&
      field.name?.trim().toLowerCase() === FIRST_RESPONSE_SLA_NAME.toLowerCase() &&
      (field.schema?.custom === undefined || field.schema.custom === SLA_FIELD_SCHEMA),
  );
  return match?.id ?? null;
}

/**
 * Remote links cost one request per issue, so they are read only where a
 * PagerDuty reference decides something and the issue's own fields carry
 * none: incident tickets, and post-mortems with no linked issue. A site with
 * issue linking disabled answers 403; the run then goes on without them.
 */
class RemoteLinkReader {
  private disabled = false;

  constructor(
    private readonly client: JiraClient,
    private readonly logger: Logger,
  ) {}

  async attach(kind: JiraIssueKind, issues: JiraIssue[], rules: JiraMappingRules): Promise<JiraIssueRecord[]> {
    const records: JiraIssueRecord[] = [];
    for (const issue of issues) {
      const record: JiraIssueRecord = { issue };
      const needed =
        !this.disabled &&
        (kind === 'incident' || (kind === 'postmortem' && linkedIssueKeys(issue).length === 0)) &&
        typeof issue.key === 'string' &&
        pagerDutyReferences(record, rules.fields.pagerdutyIncident).length === 0;
      if (needed) record.remoteLinks = await this.read(issue.key!);
      records.push(record);
    }
    return records;
  }

  private async read(issueKey: string): Promise<JiraRemoteLink[]> {
    try {
      return await this.client.remoteLinks(issueKey);
    } catch (error) {
      // The credentials already worked for the search: a 403 here means remote links are off.
      if (!(error instanceof AuthError)) throw error;
      this.disabled = true;
      this.logger.warn({ source: 'jira', reason: error.message }, 'remote links unavailable; PagerDuty references in them are not read');
      return [];
    }
  }
}

/** Writes one search page per transaction: a failed sync never leaves half a page. */
class PageWriter {
  writeMs = 0;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly sourceId: number,
    private readonly runId: number,
    private readonly rules: JiraMappingRules,
    private readonly counts: SyncCounts,
  ) {}

  async write(kind: JiraIssueKind, records: JiraIssueRecord[]): Promise<void> {
    const started = performance.now();
    const rejected: QuarantinedRecord[] = [];
    const incidents: MappedJiraIncident[] = [];
    const postmortems: MappedPostmortem[] = [];
    const actionItems: MappedActionItem[] = [];
    for (const record of records) {
      const result =
        kind === 'incident'
          ? mapJiraIncident(record, this.rules)
          : kind === 'postmortem'
            ? mapJiraPostmortem(record, this.rules)
            : mapJiraActionItem(record, this.rules);
      if (!result.ok) {
        rejected.push({ recordKind: `jira.${kind}`, externalId: result.externalId, reason: result.reason, payload: record });
      } else if (kind === 'incident') incidents.push(result.value as MappedJiraIncident);
      else if (kind === 'postmortem') postmortems.push(result.value as MappedPostmortem);
      else actionItems.push(result.value as MappedActionItem);
    }
    const facts: JiraIssueFacts[] = [...incidents, ...postmortems, ...actionItems].map((mapped) => mapped.facts);

    await this.db.transaction().execute(async (trx) => {
      // A ticket about a stored PagerDuty incident is that incident, not a
      // second one; tickets about unknown ones count on their own until the
      // PagerDuty incident arrives (resolveJiraLinks then removes the row).
      const known = await knownPagerDutyIncidents(trx, incidents.flatMap((incident) => incident.facts.pagerdutyIncidentIds));
      const ownRows = incidents
        .filter((incident) => !incident.facts.pagerdutyIncidentIds.some((id) => known.has(id)))
        // Key order, so that concurrent writers lock rows in the same order.
        .sort((a, b) => (a.row.externalId < b.row.externalId ? -1 : 1));
      const ids = await upsertIncidents(trx, this.sourceId, ownRows.map((incident) => incident.row), new Map(), new Map());
      const events: EventRow[] = ownRows.flatMap((incident) =>
        incident.events.map((event) => ({ ...event, incidentId: ids.get(incident.row.externalId)! })),
      );
      await upsertEvents(trx, this.sourceId, events);
      await upsertPostmortems(trx, this.sourceId, postmortems.map((postmortem) => postmortem.row));
      await upsertActionItems(trx, this.sourceId, actionItems.map((item) => item.row));
      await upsertIssueFacts(trx, this.sourceId, facts);
      await quarantine(trx, this.sourceId, this.runId, rejected);
      this.counts.eventsUpserted += events.length;
    });
    this.counts.recordsUpserted += facts.length;
    this.counts.quarantined += rejected.length;
    this.writeMs += performance.now() - started;
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host || url;
  } catch {
    return url;
  }
}
