import type { Kysely, Transaction } from 'kysely';
import type { Config } from '../../config.ts';
import type { Database } from '../../db/schema.ts';
import { ApiError, AuthError, UsageError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import type { SeverityRules } from '../../severity.ts';
import type { BatchAdapter, WriteResult } from '../../sync/batch-writer.ts';
import type { SourceAccount, SourceSync, SyncRequest, SyncSummary } from '../../sync/source.ts';
import { upsertEvents, upsertIncidents, type EventRow, type QuarantinedRecord } from '../../sync/store.ts';
import { recordReconciledChanges, type ReconciledChange } from '../../sync/reconciled-changes.ts';
import { runSyncPlan, type StreamPage, type SyncStream } from '../../sync/sync-plan.ts';
import type { JiraIssue, JiraRemoteLink } from './api-types.ts';
import { boundedJql, JiraClient, type JiraClientOptions } from './client.ts';
import { resolveJiraFields, type JiraFieldSettings } from './fields.ts';
import { JIRA_KIND } from './kind.ts';
import {
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
  applyIssueMoves,
  applySiteComparison,
  knownPagerDutyIncidents,
  resolveJiraLinks,
  storedIssues,
  upsertActionItems,
  upsertIssueFacts,
  upsertPostmortems,
  type SiteComparison,
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
  /** The account's name; the single-account variables name it after the kind. */
  name?: string;
  /** First day of history for a full sync (`jira.since`). */
  historyStart: Date;
  /** The configured JQL of each kind of issue. */
  searches: Record<JiraIssueKind, string>;
  newStatuses: readonly string[];
  fields: JiraFieldSettings;
  severity: SeverityRules;
  /** Where issue pages live (`<siteUrl>/browse/KEY`) when the API is reached elsewhere; defaults to baseUrl. */
  siteUrl?: string;
  overlapMs?: number;
  /** The sync's notion of now (tests pin it). */
  now?: () => Date;
}

/** The options of an account's sync from the configuration; `overrides` tune it (tests, demo). */
export function jiraSyncOptions(
  config: Config,
  overrides: Partial<JiraSyncOptions> & Pick<JiraSyncOptions, 'baseUrl' | 'email' | 'apiToken'>
): JiraSyncOptions {
  return {
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
  };
}

/** What the site itself tells the mapper: time zone, status categories, SLA field. */
interface SiteFacts {
  timeZone: string | undefined;
  rules: JiraMappingRules;
}

/** A search page of one kind of issue, each issue with the remote links the mapper needs. */
interface JiraPage {
  kind: JiraIssueKind;
  records: JiraIssueRecord[];
}

/**
 * Reads the three configured searches, each from its own checkpoint, writes
 * one search page per transaction, then resolves the links between
 * incidents, post-mortems and action items over everything stored and moves
 * the checkpoints, in one transaction. A failed sync leaves the checkpoints
 * where they were: the next one reads the same issues again, and upserts on
 * (site, issue key) make that a no-op rather than a duplicate.
 *
 * A search reads the oldest change first, and its checkpoint never passes
 * the instant the search started, nor the newest change it saw: an issue
 * edited after a page that held it was read is read again next time.
 *
 * Deletions and searches no longer matched leave no change to read, so
 * every sync also compares, with an id-only search of each configured JQL
 * (bounded by `jira.since`), the issues the site still has with the ones
 * stored; an issue missing from its search is asked for by id, and only a
 * 404 marks it deleted. A search that fails applies nothing.
 */
export class JiraSync implements SourceSync {
  readonly account: SourceAccount;

  constructor(private readonly options: JiraSyncOptions) {
    this.account = { name: options.name ?? JIRA_KIND, kind: JIRA_KIND, baseUrl: options.baseUrl };
  }

  run(db: Kysely<Database>, request: SyncRequest, logger: Logger): Promise<SyncSummary> {
    const client = new JiraClient({ ...this.options, logger, signal: request.signal });
    const { searches } = this.options;
    const sourceLogger = logger.child({ source: this.account.name });
    const batch = new JiraBatch(sourceLogger);
    const remoteLinks = new RemoteLinkReader(client, sourceLogger);
    let site: SiteFacts | undefined;
    let compared: { sourceId: number; comparison: SiteComparison; foundAt: Date } | undefined;
    const stream = (kind: JiraIssueKind): SyncStream<JiraPage> => {
      let newestSeen: Date | undefined;
      return {
        checkpoint: STREAMS[kind],
        overlapMs: this.options.overlapMs ?? INCREMENTAL_OVERLAP_MS,
        async *read(window): AsyncGenerator<StreamPage<JiraPage>> {
          const jql = boundedJql(searches[kind], window.since, site!.timeZone);
          try {
            for await (const issues of client.searchIssues(jql, searchFields(site!.rules))) {
              const records = await remoteLinks.attach(kind, issues, site!.rules);
              for (const issue of issues) {
                const updated = parseJiraInstant(issue.fields?.updated);
                if (updated !== undefined && (!newestSeen || new Date(updated) > newestSeen)) {
                  newestSeen = new Date(updated);
                }
              }
              yield { page: { kind, records }, size: issues.length, stage: `jira ${STREAMS[kind].replace('_', ' ')}` };
            }
          } catch (error) {
            // A JQL Jira refuses is a configuration error: name the setting.
            if (error instanceof ApiError && error.status === 400) {
              throw new UsageError(`Jira refused the search of ${SETTINGS[kind]} (${jql}): ${error.message}`, {
                cause: error,
              });
            }
            throw error;
          }
        },
        // The window ends when the search started. A search that found nothing still proves nothing changed before its bound.
        checkpointAfter: (window) => new Date(Math.min(window.until.getTime(), (newestSeen ?? window.since).getTime())),
      };
    };
    return runSyncPlan<JiraPage, JiraWriteRecord>(
      db,
      {
        account: this.account,
        historyStart: this.options.historyStart,
        now: this.options.now,
        requestCount: () => client.requestCount,
        // One search page per transaction.
        flushRecords: 0,
        batch,
        streams: KINDS.map(stream),
        prepare: async () => {
          site = await this.discoverSite(client, logger);
          batch.rules = site.rules;
        },
        compare: async (sourceId) => {
          const foundAt = this.options.now?.() ?? new Date();
          compared = { sourceId, comparison: await this.compareWithSite(db, client, sourceId, site!), foundAt };
        },
        finish: async (trx) => {
          if (compared) {
            await applySiteComparison(trx, compared.sourceId, compared.comparison, compared.foundAt, sourceLogger);
          }
          await resolveJiraLinks(trx);
        },
      },
      request,
      logger
    );
  }

  /**
   * The stored issues each configured search (bounded by `jira.since`) no
   * longer finds, asked for one by one: 404 is deleted, else no longer of
   * that kind (with its current key: a move out of the search's projects).
   * Stored issues marked removed that their search finds again come back.
   */
  private async compareWithSite(
    db: Kysely<Database>,
    client: JiraClient,
    sourceId: number,
    site: SiteFacts
  ): Promise<SiteComparison> {
    const { historyStart, searches } = this.options;
    const stored = await storedIssues(db, sourceId, historyStart);
    const comparison: SiteComparison = { deleted: [], unmatched: [], found: [] };
    const missing = new Map<string, JiraIssueKind[]>();
    for (const kind of KINDS) {
      const ofKind = stored.filter((issue) => issue.kind === kind);
      if (ofKind.length === 0) {
        continue;
      }
      const found = new Set<string>();
      for await (const ids of client.searchIssueIds(boundedJql(searches[kind], historyStart, site.timeZone))) {
        for (const id of ids) {
          found.add(id);
        }
      }
      for (const issue of ofKind) {
        if (found.has(issue.issueId)) {
          if (issue.removed) {
            comparison.found.push({ issueId: issue.issueId, kind });
          }
        } else if (!issue.removed) {
          missing.set(issue.issueId, [...(missing.get(issue.issueId) ?? []), kind]);
        }
      }
    }
    for (const [issueId, kinds] of missing) {
      const key = await client.currentKey(issueId);
      if (key === undefined) {
        comparison.deleted.push(issueId);
      } else {
        comparison.unmatched.push(...kinds.map((kind) => ({ issueId, kind, issueKey: key })));
      }
    }
    return comparison;
  }

  /**
   * The account's time zone (Jira reads JQL dates in it), the category of
   * every status (to tell a move into Done), and the fields to read, found by
   * id and type (fields.ts); a configured field the site lacks is a usage error.
   */
  private async discoverSite(client: JiraClient, logger: Logger): Promise<SiteFacts> {
    const [myself, fieldList, statuses] = [await client.myself(), await client.fields(), await client.statuses()];
    const found = resolveJiraFields(fieldList, this.options.fields, this.options.baseUrl);
    for (const note of found.notes) {
      logger.warn({ source: this.account.name }, note);
    }
    const statusCategories = new Map<string, string>();
    for (const status of Array.isArray(statuses) ? statuses : []) {
      if (status.id !== undefined && status.statusCategory?.key !== undefined) {
        statusCategories.set(status.id, status.statusCategory.key);
      }
    }
    return {
      timeZone: myself.timeZone ?? undefined,
      rules: {
        siteUrl: this.options.siteUrl ?? this.options.baseUrl,
        newStatuses: this.options.newStatuses,
        fields: found.fields,
        severity: this.options.severity,
        statusCategories,
        firstResponseSlaField: found.firstResponseSlaField,
      },
    };
  }
}

/**
 * Remote links cost one request per issue, so they are read only where a
 * PagerDuty reference decides something: incident tickets whose own fields
 * carry none, and every post-mortem (each incident it names has it). A site
 * with issue linking disabled answers 403; the run then goes on without them.
 */
class RemoteLinkReader {
  private disabled = false;

  constructor(
    private readonly client: JiraClient,
    private readonly logger: Logger
  ) {}

  async attach(kind: JiraIssueKind, issues: JiraIssue[], rules: JiraMappingRules): Promise<JiraIssueRecord[]> {
    const records: JiraIssueRecord[] = [];
    for (const issue of issues) {
      const record: JiraIssueRecord = { issue };
      const needed =
        !this.disabled &&
        typeof issue.key === 'string' &&
        (kind === 'postmortem' ||
          (kind === 'incident' && pagerDutyReferences(record, rules.fields.pagerdutyIncident).length === 0));
      if (needed) {
        record.remoteLinks = await this.read(issue.key!);
      }
      records.push(record);
    }
    return records;
  }

  private async read(issueKey: string): Promise<JiraRemoteLink[]> {
    try {
      return await this.client.remoteLinks(issueKey);
    } catch (error) {
      // The credentials already worked for the search: a 403 here means remote links are off.
      if (!(error instanceof AuthError)) {
        throw error;
      }
      this.disabled = true;
      this.logger.warn(
        { reason: error.message },
        'remote links unavailable; PagerDuty references in them are not read'
      );
      return [];
    }
  }
}

/** What one write stores: one issue, mapped, with the record it came from. */
type JiraWriteRecord =
  | { kind: 'incident'; mapped: MappedJiraIncident; record: JiraIssueRecord }
  | { kind: 'postmortem'; mapped: MappedPostmortem; record: JiraIssueRecord }
  | { kind: 'action_item'; mapped: MappedActionItem; record: JiraIssueRecord };

/** Jira's side of the batch flush: issues, their status events and their facts. */
class JiraBatch implements BatchAdapter<JiraPage, JiraWriteRecord> {
  /** The site's rules, known once the sync has asked the site. */
  rules: JiraMappingRules | undefined;
  private records: JiraWriteRecord[] = [];
  private rejected: QuarantinedRecord[] = [];

  constructor(private readonly logger: Logger) {}

  get buffered(): number {
    return this.records.length + this.rejected.length;
  }

  add({ kind, records }: JiraPage): void {
    const rules = this.rules!;
    for (const record of records) {
      const result =
        kind === 'incident'
          ? mapJiraIncident(record, rules)
          : kind === 'postmortem'
            ? mapJiraPostmortem(record, rules)
            : mapJiraActionItem(record, rules);
      if (!result.ok) {
        this.rejected.push({
          recordKind: `jira.${kind}`,
          externalId: result.externalId,
          reason: result.reason,
          payload: record,
        });
      } else {
        this.records.push({ kind, mapped: result.value, record } as JiraWriteRecord);
      }
    }
  }

  async take(): Promise<{ units: JiraWriteRecord[]; rejected: QuarantinedRecord[] }> {
    const taken = { units: this.records, rejected: this.rejected };
    this.records = [];
    this.rejected = [];
    return taken;
  }

  async write(trx: Transaction<Database>, sourceId: number, records: JiraWriteRecord[]): Promise<WriteResult> {
    const incidents: MappedJiraIncident[] = [];
    const postmortems: MappedPostmortem[] = [];
    const actionItems: MappedActionItem[] = [];
    // An issue moved to another project comes back under a new key: its rows follow it, none is added.
    const moves = await applyIssueMoves(
      trx,
      sourceId,
      records.map((record) => record.mapped.facts)
    );
    const moved: ReconciledChange[] = moves.flatMap((move) =>
      records
        .filter((record) => record.mapped.facts.issueId === move.issueId)
        .map((record) => ({
          recordKind: record.kind,
          recordId: move.issueId,
          recordKey: move.to,
          field: 'key' as const,
          from: move.from,
          to: move.to,
        }))
    );
    await recordReconciledChanges(trx, sourceId, moved, new Date(), this.logger);
    for (const record of records) {
      if (record.kind === 'incident') {
        incidents.push(record.mapped);
      } else if (record.kind === 'postmortem') {
        postmortems.push(record.mapped);
      } else {
        actionItems.push(record.mapped);
      }
    }
    // A ticket about a stored PagerDuty incident is that incident, not a
    // second one; tickets about unknown ones count on their own until the
    // PagerDuty incident arrives (resolveJiraLinks then removes the row).
    const known = await knownPagerDutyIncidents(
      trx,
      incidents.flatMap((incident) => incident.facts.pagerdutyIncidentIds)
    );
    const ownRows = incidents
      .filter((incident) => !incident.facts.pagerdutyIncidentIds.some((id) => known.has(id)))
      // Key order, so that concurrent writers lock rows in the same order.
      .sort((a, b) => (a.row.externalId < b.row.externalId ? -1 : 1));
    const ids = await upsertIncidents(
      trx,
      sourceId,
      ownRows.map((incident) => incident.row),
      new Map(),
      new Map()
    );
    const events: EventRow[] = ownRows.flatMap((incident) =>
      incident.events.map((event) => ({ ...event, incidentId: ids.get(incident.row.externalId)! }))
    );
    await upsertEvents(trx, sourceId, events);
    await upsertPostmortems(
      trx,
      sourceId,
      postmortems.map((postmortem) => postmortem.row)
    );
    await upsertActionItems(
      trx,
      sourceId,
      actionItems.map((item) => item.row)
    );
    const facts: JiraIssueFacts[] = records.map((record) => record.mapped.facts);
    await upsertIssueFacts(trx, sourceId, facts);
    return { records: facts.length, events: events.length, rejected: [] };
  }

  refused(record: JiraWriteRecord, reason: string): QuarantinedRecord {
    return {
      recordKind: `jira.${record.kind}`,
      externalId: record.mapped.facts.issueKey,
      reason,
      payload: record.record,
    };
  }
}
