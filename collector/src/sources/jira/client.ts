import { isValidTimeZone } from '../../config.ts';
import { ApiError, UsageError } from '../../errors.ts';
import { ApiClient, secondsHeader, type ApiClientOptions, type ApiDialect } from '../../http/api-client.ts';
import { tokenPages } from '../../http/paging.ts';
import type { Logger } from '../../logger.ts';
import {
  JIRA_BULK_CHANGELOG_MAX_ISSUES,
  JIRA_BULK_CHANGELOG_PAGE_SIZE,
  JIRA_ID_SEARCH_PAGE_SIZE,
  JIRA_REQUESTS_PER_MINUTE,
  JIRA_SEARCH_PAGE_SIZE,
  type JiraBulkChangelogPage,
  type JiraBulkChangelogRequest,
  type JiraErrorBody,
  type JiraFieldDetails,
  type JiraHistory,
  type JiraIssue,
  type JiraRemoteLink,
  type JiraSearchPage,
  type JiraSearchRequest,
  type JiraStatus,
  type JiraUser,
} from './api-types.ts';

export const jiraDialect: ApiDialect = {
  sourceName: 'Jira',
  credentialHint: 'JIRA_EMAIL and JIRA_API_TOKEN (and that the account may browse the projects)',
  // Jira sends Retry-After in seconds on 429/503, and X-RateLimit-Reset as an ISO 8601 instant.
  retryAfterSeconds: (_status, headers) =>
    secondsHeader(headers, 'retry-after') ?? secondsHeader(headers, 'x-ratelimit-reset'),
  describeError(status, body) {
    try {
      const error = JSON.parse(body) as JiraErrorBody;
      const messages = [
        ...(error.errorMessages ?? []),
        ...Object.entries(error.errors ?? {}).map(([key, text]) => `${key}: ${text}`),
      ];
      if (messages.length > 0) {
        return messages.join('; ');
      }
    } catch {
      // Not an ErrorCollection (a proxy page, plain text): show its start.
    }
    return body.length > 0 ? body.slice(0, 200) : `HTTP ${status}`;
  },
};

export interface JiraClientOptions extends Pick<
  ApiClientOptions,
  'requestsPerMinute' | 'maxRetries' | 'backoffBaseMs' | 'timeoutMs' | 'signal' | 'onResponse'
> {
  baseUrl: string;
  email: string;
  apiToken: string;
  logger: Logger;
}

/** Keeps status transitions only: the mapper reads nothing else from a changelog. */
const CHANGELOG_FIELDS = ['status'];

/**
 * Speaks the Jira Cloud platform REST API v3: basic auth, the enhanced
 * search (POST /search/jql with nextPageToken), complete changelogs.
 */
export class JiraClient {
  private readonly api: ApiClient;

  constructor(options: JiraClientOptions) {
    this.api = new ApiClient({
      requestsPerMinute: JIRA_REQUESTS_PER_MINUTE,
      ...options,
      baseUrl: options.baseUrl,
      headers: {
        Authorization: `Basic ${Buffer.from(`${options.email}:${options.apiToken}`).toString('base64')}`,
        Accept: 'application/json',
      },
      dialect: jiraDialect,
    });
  }

  get requestCount(): number {
    return this.api.requestCount;
  }

  /** The account the token belongs to; its `timeZone` is the zone Jira reads JQL dates in. */
  myself(): Promise<JiraUser> {
    return this.api.get<JiraUser>('/rest/api/3/myself');
  }

  fields(): Promise<JiraFieldDetails[]> {
    return this.api.get<JiraFieldDetails[]>('/rest/api/3/field');
  }

  /** Every status of the site's active workflows, with its category. */
  statuses(): Promise<JiraStatus[]> {
    return this.api.get<JiraStatus[]>('/rest/api/3/status');
  }

  /** An issue deleted since the search has none. */
  async remoteLinks(issueKey: string): Promise<JiraRemoteLink[]> {
    try {
      const links = await this.api.get<JiraRemoteLink[]>(
        `/rest/api/3/issue/${encodeURIComponent(issueKey)}/remotelink`
      );
      return Array.isArray(links) ? links : [];
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        return [];
      }
      throw error;
    }
  }

  /**
   * Pages of issues matching `jql`, each issue with its complete status
   * history: Jira embeds only the first histories of a long changelog
   * (`total` says how many exist), so those are completed in bulk.
   */
  async *searchIssues(jql: string, fields: readonly string[]): AsyncGenerator<JiraIssue[]> {
    const pages = tokenPages(async (nextPageToken) => {
      const request: JiraSearchRequest = {
        jql,
        fields: [...fields],
        expand: 'changelog',
        maxResults: JIRA_SEARCH_PAGE_SIZE,
        nextPageToken,
      };
      const page = await this.api.post<JiraSearchPage>('/rest/api/3/search/jql', request);
      return { page: page.issues ?? [], next: page.isLast === true ? undefined : (page.nextPageToken ?? undefined) };
    }, `Jira search for: ${jql}`);
    for await (const issues of pages) {
      await this.completeChangelogs(issues);
      yield issues;
    }
  }

  /**
   * Pages of the ids of the issues matching `jql`: the cheapest search
   * Jira has (ids only, up to 5,000 a page), for comparing what is stored
   * with what the site still has.
   */
  async *searchIssueIds(jql: string): AsyncGenerator<string[]> {
    const pages = tokenPages(async (nextPageToken) => {
      const request: JiraSearchRequest = { jql, fields: ['id'], maxResults: JIRA_ID_SEARCH_PAGE_SIZE, nextPageToken };
      const page = await this.api.post<JiraSearchPage>('/rest/api/3/search/jql', request);
      return { page: page.issues ?? [], next: page.isLast === true ? undefined : (page.nextPageToken ?? undefined) };
    }, `Jira id search for: ${jql}`);
    for await (const issues of pages) {
      yield issues.flatMap((issue) => (typeof issue.id === 'string' ? [issue.id] : []));
    }
  }

  /**
   * GET /issue/{id}: the issue's current key, or undefined when the site
   * answers 404 (deleted, or no longer visible to the account).
   */
  async currentKey(issueId: string): Promise<string | undefined> {
    try {
      const issue = await this.api.get<JiraIssue>(`/rest/api/3/issue/${encodeURIComponent(issueId)}`, {
        fields: 'issuetype',
      });
      if (typeof issue.key !== 'string' || issue.key === '') {
        throw new ApiError(`Jira answered issue ${issueId} without its key`, 200);
      }
      return issue.key;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        return undefined;
      }
      throw error;
    }
  }

  /** Replaces truncated embedded changelogs by the complete status history. */
  private async completeChangelogs(issues: JiraIssue[]): Promise<void> {
    const truncated = issues.filter((issue) => issue.id !== undefined && !changelogIsComplete(issue));
    for (let start = 0; start < truncated.length; start += JIRA_BULK_CHANGELOG_MAX_ISSUES) {
      const chunk = truncated.slice(start, start + JIRA_BULK_CHANGELOG_MAX_ISSUES);
      const histories = await this.bulkChangelogs(chunk.map((issue) => issue.id!));
      for (const issue of chunk) {
        const complete = histories.get(issue.id!) ?? [];
        issue.changelog = { startAt: 0, maxResults: complete.length, total: complete.length, histories: complete };
      }
    }
  }

  /** POST /changelog/bulkfetch: status histories of many issues, by issue id. */
  async bulkChangelogs(issueIds: string[]): Promise<Map<string, JiraHistory[]>> {
    const byIssue = new Map<string, JiraHistory[]>();
    const pages = tokenPages(async (nextPageToken) => {
      const request: JiraBulkChangelogRequest = {
        issueIdsOrKeys: issueIds,
        fieldIds: CHANGELOG_FIELDS,
        maxResults: JIRA_BULK_CHANGELOG_PAGE_SIZE,
        nextPageToken,
      };
      const page = await this.api.post<JiraBulkChangelogPage>('/rest/api/3/changelog/bulkfetch', request);
      return { page, next: page.nextPageToken ?? undefined };
    }, 'Jira changelog bulk fetch');
    for await (const page of pages) {
      for (const entry of page.issueChangeLogs ?? []) {
        if (entry.issueId === undefined) {
          continue;
        }
        const list = byIssue.get(entry.issueId) ?? [];
        list.push(...(entry.changeHistories ?? []));
        byIssue.set(entry.issueId, list);
      }
    }
    return byIssue;
  }
}

/** An embedded changelog is complete when it holds `total` histories from the first. */
export function changelogIsComplete(issue: JiraIssue): boolean {
  const changelog = issue.changelog;
  if (!changelog || !Array.isArray(changelog.histories)) {
    return false;
  }
  const total = changelog.total ?? changelog.histories.length;
  return (changelog.startAt ?? 0) === 0 && changelog.histories.length >= total;
}

/**
 * `(<configured jql>) AND updated >= "<yyyy-MM-dd HH:mm>" ORDER BY updated
 * ASC, key ASC`: oldest change first, so that an issue edited while the
 * search runs moves behind the pages already read instead of hiding among
 * them (see the checkpoint in sync.ts). The configured
 * text is wrapped, never edited, so it may use OR freely. Jira reads the
 * date in the time zone of the account's profile; `timeZone` is that zone.
 * When the profile hides it, the bound is written in UTC twelve hours
 * earlier, which is at or before `since` in every zone from UTC-12 to
 * UTC+14: a few extra issues are read again, none is missed.
 */
export function boundedJql(configuredJql: string, since: Date, timeZone: string | undefined): string {
  const text = configuredJql.trim();
  if (text === '') {
    throw new UsageError('a Jira JQL in the configuration is empty: give a search such as labels = incident');
  }
  if (/\border\s+by\b/i.test(withoutQuotedText(text))) {
    throw new UsageError(
      `a configured Jira JQL contains ORDER BY, which cannot be combined with the collector's time bound: remove it from '${text}'`
    );
  }
  const zone = timeZone !== undefined && isValidTimeZone(timeZone) ? timeZone : undefined;
  const bound = zone ? formatJqlDate(since, zone) : formatJqlDate(new Date(since.getTime() - 12 * 3_600_000), 'UTC');
  return `(${text}) AND updated >= "${bound}" ORDER BY updated ASC, key ASC`;
}

/** The wall-clock minute of `instant` in `timeZone`, as JQL writes dates; seconds are dropped (rounds down). */
export function formatJqlDate(instant: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  }).formatToParts(instant);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((candidate) => candidate.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')} ${part('hour')}:${part('minute')}`;
}

function withoutQuotedText(jql: string): string {
  return jql.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""');
}
