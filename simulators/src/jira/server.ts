/**
 * A Jira Cloud platform REST API v3 look-alike on loopback, serving a
 * JiraSiteHistory. It enforces what a real client must get right, with
 * Jira's ErrorCollection body `{"errorMessages":[...],"errors":{}}`:
 *
 * - Basic auth (`email:api token`) on every request, or 401.
 * - GET/POST /rest/api/3/search/jql: bounded JQL only (400 "Unbounded JQL
 *   queries are not allowed here" otherwise), `nextPageToken` paging with
 *   `isLast` (the token is absent on the last page), `fields` defaulting to
 *   `id` alone, `expand=changelog` embedding at most 40 histories with
 *   `total` saying how many exist, unknown request properties refused.
 * - The removed GET/POST /rest/api/3/search answers 410 Gone.
 * - JQL: AND / OR / NOT, parentheses, =, !=, >, >=, <, <=, IN, NOT IN,
 *   IS [NOT] EMPTY on labels, issuetype, project, status, statusCategory,
 *   priority, key, created, updated, resolutiondate, duedate; dates
 *   `yyyy-MM-dd [HH:mm]` (or with `/`) read in the account's time zone;
 *   ORDER BY. Unknown fields and bad dates are 400s with Jira's wording.
 * - GET /rest/api/3/issue/{id or key} (`fields`, default all; 404 for a
 *   deleted issue), and an id-only search page of up to 5,000 issues.
 * - GET /rest/api/3/issue/{key}/changelog (startAt paging), POST
 *   /rest/api/3/changelog/bulkfetch (nextPageToken, fieldIds filter),
 *   GET /rest/api/3/issue/{key}/remotelink (403 when issue linking is
 *   off), /myself, /field (names in the profile's language, en_US or
 *   de_DE; ids and schema types the same in both), /status.
 * - 429 with Retry-After (seconds) and X-RateLimit-Reset (ISO 8601) beyond
 *   a sliding-window budget; scripted failures (503 with Retry-After, 500)
 *   for retry tests.
 * - Times are rendered as Jira does, in the account's zone with a colon-less
 *   offset: `2026-03-02T21:07:00.000+1100`.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { badRequest, JiraError } from './errors.ts';
import { compareIssues, evaluate, parseJql } from './jql.ts';
import { IssueRenderer } from './render.ts';
import { SITE_STATUSES, type SiteLocale } from './site-catalog.ts';
import type { JiraSiteHistory, SiteHistory, SiteIssue } from './site.ts';

export interface FakeJiraOptions {
  history: JiraSiteHistory;
  email: string;
  apiToken: string;
  /** Default 0: any free port. */
  port?: number;
  /**
   * The account's profile time zone: JQL dates are read in it and times are
   * rendered in it. null: the profile hides it (GET /myself has no
   * timeZone) and the site's zone applies. Default 'UTC'.
   */
  timeZone?: string | null;
  /** The site's default zone, used when the account hides its own. Default 'UTC'. */
  siteTimeZone?: string;
  /** Requests allowed per sliding window before 429. Default: no limit. */
  rateLimit?: { requests: number; windowMs: number };
  /** Most issues one search page returns, whatever maxResults asks. Default 100. */
  maxSearchPage?: number;
  /** The same for a search asking for ids only, which Jira pages far larger. Default 5000. */
  maxIdSearchPage?: number;
  /** Histories embedded by expand=changelog. Default 40. */
  embeddedChangelogLimit?: number;
  /** Most histories one bulk changelog page returns. Default 1000. */
  maxBulkChangelogPage?: number;
  /** The site has issue linking turned off: remote links answer 403. */
  issueLinkingDisabled?: boolean;
  /** The account's profile language (default en_US): GET /field names fields in it. */
  locale?: SiteLocale;
  /** Field ids GET /field leaves out, as for fields the account may not see. */
  hiddenFields?: readonly string[];
  /** GET /field also lists JSM's "Time to resolution" SLA field: two SLA fields, told apart only by name. */
  resolutionSlaField?: boolean;
}

export interface FakeJiraRequest {
  method: string;
  path: string;
  status: number;
  /** The parsed JSON body of a POST. */
  body: unknown;
  query: URLSearchParams;
}

export interface FakeJira {
  /** e.g. http://127.0.0.1:43123 (no trailing slash) */
  url: string;
  /** Every request received, including refused ones, in order. */
  readonly requests: readonly FakeJiraRequest[];
  /** 429s sent. */
  rateLimitedCount(): number;
  /**
   * After letting `after` more requests through, answers the next `count`
   * with `status` (a 503 carries Retry-After: `retryAfterSeconds`).
   * Replaces failures still scripted; `failNext(0, ...)` clears them.
   * With `when`, only the requests it picks count and fail (e.g. the
   * second page of one search).
   */
  failNext(
    count: number,
    status: 500 | 503,
    options?: { retryAfterSeconds?: number; after?: number; when?: (request: FakeJiraRequest) => boolean }
  ): void;
  setRateLimit(limit: { requests: number; windowMs: number } | undefined): void;
  stop(): Promise<void>;
}

const DEFAULT_MAX_RESULTS = 50;
const MAX_RESULTS_CAP = 5000;
const CHANGELOG_PAGE_DEFAULT = 100;

export async function startFakeJira(options: FakeJiraOptions): Promise<FakeJira> {
  const { history } = options;
  const expectedAuth = `Basic ${Buffer.from(`${options.email}:${options.apiToken}`).toString('base64')}`;
  const accountZone = options.timeZone === undefined ? 'UTC' : options.timeZone;
  const jqlZone = accountZone ?? options.siteTimeZone ?? 'UTC';
  const maxSearchPage = options.maxSearchPage ?? 100;
  const maxIdSearchPage = options.maxIdSearchPage ?? MAX_RESULTS_CAP;
  const embeddedLimit = options.embeddedChangelogLimit ?? 40;
  const maxBulkPage = options.maxBulkChangelogPage ?? 1000;
  let rateLimit = options.rateLimit;
  const recent: number[] = [];
  let rateLimited = 0;
  const scripted: Array<{ status: 500 | 503; retryAfter: number }> = [];
  let passBeforeFailing = 0;
  let failWhen: ((request: FakeJiraRequest) => boolean) | undefined;
  const requests: FakeJiraRequest[] = [];
  let baseUrl = '';

  const render = new IssueRenderer(history, () => baseUrl, jqlZone);

  const route = (method: string, path: string, query: URLSearchParams, body: unknown): unknown => {
    if (path === '/rest/api/3/search' && (method === 'GET' || method === 'POST')) {
      throw new JiraError(410, [
        'The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046',
      ]);
    }
    if (path === '/rest/api/3/search/jql' && method === 'GET') {
      return search({
        jql: query.get('jql') ?? undefined,
        nextPageToken: query.get('nextPageToken') ?? undefined,
        maxResults: query.has('maxResults') ? Number(query.get('maxResults')) : undefined,
        fields: query.getAll('fields').flatMap((value) => value.split(',')),
        expand: query.get('expand') ?? undefined,
      });
    }
    if (path === '/rest/api/3/search/jql' && method === 'POST') {
      const request = requireObject(body);
      const allowed = new Set([
        'jql',
        'nextPageToken',
        'maxResults',
        'fields',
        'expand',
        'properties',
        'fieldsByKeys',
        'reconcileIssues',
      ]);
      for (const name of Object.keys(request)) {
        if (!allowed.has(name)) {
          throw badRequest(`Unrecognized field "${name}"`);
        }
      }
      if (request.fields !== undefined && !isStringArray(request.fields)) {
        throw badRequest('fields must be a list of field ids');
      }
      return search({
        jql: typeof request.jql === 'string' ? request.jql : undefined,
        nextPageToken: typeof request.nextPageToken === 'string' ? request.nextPageToken : undefined,
        maxResults: typeof request.maxResults === 'number' ? request.maxResults : undefined,
        fields: (request.fields as string[] | undefined) ?? [],
        expand: typeof request.expand === 'string' ? request.expand : undefined,
      });
    }
    if (path === '/rest/api/3/myself' && method === 'GET') {
      return render.myself(options.email, accountZone, options.locale ?? 'en_US');
    }
    if (path === '/rest/api/3/field' && method === 'GET') {
      return render.fields(
        options.locale ?? 'en_US',
        new Set(options.hiddenFields ?? []),
        options.resolutionSlaField ?? false
      );
    }
    if (path === '/rest/api/3/status' && method === 'GET') {
      return SITE_STATUSES.map((status) => render.status(status));
    }
    if (path === '/rest/api/3/changelog/bulkfetch' && method === 'POST') {
      return bulkChangelog(requireObject(body));
    }
    const issueOnly = /^\/rest\/api\/3\/issue\/([^/]+)$/.exec(path);
    if (issueOnly && method === 'GET') {
      const idOrKey = decodeURIComponent(issueOnly[1]!);
      const issue = history.issues.get(idOrKey) ?? history.issueById(idOrKey);
      if (!issue) {
        throw new JiraError(404, ['Issue does not exist or you do not have permission to see it.']);
      }
      const fields = query.getAll('fields').flatMap((value) => value.split(','));
      return render.issue(issue, fields.length > 0 ? fields : ['*all'], null);
    }
    const issuePath = /^\/rest\/api\/3\/issue\/([^/]+)\/(changelog|remotelink)$/.exec(path);
    if (issuePath && method === 'GET') {
      const idOrKey = decodeURIComponent(issuePath[1]!);
      const issue = history.issues.get(idOrKey) ?? history.issueById(idOrKey);
      if (!issue) {
        throw new JiraError(404, ['Issue does not exist or you do not have permission to see it.']);
      }
      if (issuePath[2] === 'remotelink') {
        if (options.issueLinkingDisabled) {
          throw new JiraError(403, ['Issue linking is disabled.']);
        }
        return issue.remoteLinks.map((link) => render.remoteLink(issue, link));
      }
      return changelogPage(issue, query);
    }
    throw new JiraError(404, [`No resource for ${method} ${path}`]);
  };

  interface SearchRequest {
    jql: string | undefined;
    nextPageToken: string | undefined;
    maxResults: number | undefined;
    fields: string[];
    expand: string | undefined;
  }

  const search = (request: SearchRequest): unknown => {
    const jql = request.jql ?? '';
    const parsed = parseJql(jql);
    if (parsed.where === null) {
      throw badRequest('Unbounded JQL queries are not allowed here. Please add a search restriction to your query.');
    }
    if (request.maxResults !== undefined && (!Number.isInteger(request.maxResults) || request.maxResults < 0)) {
      throw badRequest('maxResults must be a whole number of 0 or more');
    }
    const where = parsed.where;
    const matches = [...history.issues.values()].filter((issue) => evaluate(where, issue, jqlZone));
    const order = parsed.orderBy.length > 0 ? parsed.orderBy : [{ field: 'key', descending: true }];
    matches.sort((a, b) => compareIssues(a, b, order));
    const queryHash = createHash('sha256').update(jql).digest('hex').slice(0, 16);
    let startIndex = 0;
    if (request.nextPageToken !== undefined) {
      const token = decodeToken(request.nextPageToken);
      if (token?.q !== queryHash || typeof token.after !== 'string') {
        throw badRequest('The provided next page token is invalid or expired.');
      }
      // Search-after: the page starts after the last issue of the previous one, wherever it now sorts.
      const anchor = history.issueById(token.after);
      startIndex = anchor ? matches.findIndex((issue) => compareIssues(issue, anchor, order) > 0) : matches.length;
      if (startIndex < 0) {
        startIndex = matches.length;
      }
    }
    const fields = request.fields.length > 0 ? request.fields : ['id'];
    const expand = new Set(
      (request.expand ?? '')
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean)
    );
    const idsOnly = fields.every((field) => field === 'id' || field === 'key') && expand.size === 0;
    const size = Math.min(
      request.maxResults ?? DEFAULT_MAX_RESULTS,
      MAX_RESULTS_CAP,
      idsOnly ? maxIdSearchPage : maxSearchPage
    );
    const pageIssues = matches.slice(startIndex, startIndex + size);
    const isLast = startIndex + pageIssues.length >= matches.length;
    const result: Record<string, unknown> = {
      issues: pageIssues.map((issue) => render.issue(issue, fields, expand.has('changelog') ? embeddedLimit : null)),
      isLast,
    };
    if (!isLast) {
      result.nextPageToken = encodeToken({ q: queryHash, after: pageIssues[pageIssues.length - 1]!.id });
    }
    return result;
  };

  const changelogPage = (issue: SiteIssue, query: URLSearchParams): unknown => {
    const startAt = query.has('startAt') ? Number(query.get('startAt')) : 0;
    const maxResults = query.has('maxResults') ? Number(query.get('maxResults')) : CHANGELOG_PAGE_DEFAULT;
    if (!Number.isInteger(startAt) || startAt < 0 || !Number.isInteger(maxResults) || maxResults < 1) {
      throw badRequest('startAt and maxResults must be whole numbers');
    }
    const size = Math.min(maxResults, CHANGELOG_PAGE_DEFAULT);
    const values = issue.histories.slice(startAt, startAt + size);
    const total = issue.histories.length;
    const self = `${baseUrl}/rest/api/3/issue/${issue.key}/changelog?maxResults=${size}&startAt=${startAt}`;
    const page: Record<string, unknown> = {
      self,
      maxResults: size,
      startAt,
      total,
      isLast: startAt + values.length >= total,
      values: values.map((entry) => render.changelogEntry(entry)),
    };
    if (!page.isLast) {
      page.nextPage = `${baseUrl}/rest/api/3/issue/${issue.key}/changelog?maxResults=${size}&startAt=${startAt + size}`;
    }
    return page;
  };

  const bulkChangelog = (request: Record<string, unknown>): unknown => {
    const ids = request.issueIdsOrKeys;
    if (!isStringArray(ids) || ids.length === 0) {
      throw badRequest('issueIdsOrKeys must list at least one issue');
    }
    if (ids.length > 1000) {
      throw badRequest('You can request the changelogs of up to 1000 issues.');
    }
    const fieldIds = request.fieldIds === undefined ? undefined : request.fieldIds;
    if (fieldIds !== undefined && (!isStringArray(fieldIds) || fieldIds.length > 10)) {
      throw badRequest('fieldIds must list up to 10 field ids');
    }
    const maxResults = request.maxResults === undefined ? 1000 : request.maxResults;
    if (typeof maxResults !== 'number' || !Number.isInteger(maxResults) || maxResults < 1 || maxResults > 10_000) {
      throw badRequest('maxResults must be between 1 and 10000');
    }
    const issues = ids
      .map((idOrKey) => history.issues.get(idOrKey) ?? history.issueById(idOrKey))
      .filter((issue): issue is SiteIssue => !!issue);
    const entries: Array<{ issue: SiteIssue; history: SiteHistory }> = [];
    for (const issue of issues) {
      for (const entry of issue.histories) {
        const items = fieldIds ? entry.items.filter((change) => fieldIds.includes(change.fieldId)) : entry.items;
        if (items.length > 0) {
          entries.push({ issue, history: { ...entry, items } });
        }
      }
    }
    entries.sort(
      (a, b) =>
        a.history.at - b.history.at ||
        Number(a.issue.id) - Number(b.issue.id) ||
        Number(a.history.id) - Number(b.history.id)
    );
    const requestHash = createHash('sha256')
      .update(JSON.stringify([ids, fieldIds ?? null]))
      .digest('hex')
      .slice(0, 16);
    let offset = 0;
    if (typeof request.nextPageToken === 'string') {
      const token = decodeToken(request.nextPageToken);
      if (token?.q !== requestHash || typeof token.offset !== 'number') {
        throw badRequest('The provided next page token is invalid or expired.');
      }
      offset = token.offset;
    }
    const size = Math.min(maxResults, maxBulkPage);
    const page = entries.slice(offset, offset + size);
    const grouped: Array<{ issueId: string; changeHistories: unknown[] }> = [];
    for (const entry of page) {
      let group = grouped.find((candidate) => candidate.issueId === entry.issue.id);
      if (!group) {
        group = { issueId: entry.issue.id, changeHistories: [] };
        grouped.push(group);
      }
      group.changeHistories.push(render.changelogEntry(entry.history));
    }
    const result: Record<string, unknown> = { issueChangeLogs: grouped };
    if (offset + page.length < entries.length) {
      result.nextPageToken = encodeToken({ q: requestHash, offset: offset + page.length });
    }
    return result;
  };

  const takeRateBudget = (now: number): number | undefined => {
    if (!rateLimit) {
      return undefined;
    }
    while (recent.length > 0 && recent[0]! <= now - rateLimit.windowMs) {
      recent.shift();
    }
    if (recent.length >= rateLimit.requests) {
      return recent[0]! + rateLimit.windowMs - now;
    }
    recent.push(now);
    return undefined;
  };

  const handle = (request: IncomingMessage, response: ServerResponse, rawBody: string): void => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const method = request.method ?? 'GET';
    let body: unknown;
    const log: FakeJiraRequest = { method, path: url.pathname, status: 0, body: undefined, query: url.searchParams };
    requests.push(log);
    const answer = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      log.status = status;
      const buffer = Buffer.from(JSON.stringify(payload));
      response.writeHead(status, {
        'content-type': 'application/json;charset=UTF-8',
        'content-length': buffer.length,
        ...headers,
      });
      response.end(buffer);
    };
    const fail = (error: JiraError, headers: Record<string, string> = {}) =>
      answer(error.status, { errorMessages: error.errorMessages, errors: error.errors }, headers);

    const waitMs = takeRateBudget(performance.now());
    if (waitMs !== undefined) {
      rateLimited++;
      const seconds = Math.max(1, Math.ceil(waitMs / 1000));
      fail(new JiraError(429, ['Rate limit exceeded.']), {
        'retry-after': String(seconds),
        'x-ratelimit-reset': new Date(Date.now() + seconds * 1000).toISOString(),
      });
      return;
    }
    if (request.headers.authorization !== expectedAuth) {
      fail(new JiraError(401, ['Client must be authenticated to access this resource.']), {
        'www-authenticate': 'Basic realm="protected-area"',
      });
      return;
    }
    if (method === 'POST' && failWhen) {
      // The request as the predicate sees it; an unparseable body is refused below.
      try {
        log.body = rawBody === '' ? undefined : JSON.parse(rawBody);
      } catch {
        log.body = undefined;
      }
    }
    const picked = scripted.length > 0 && (!failWhen || failWhen(log));
    const failure = picked && passBeforeFailing-- <= 0 ? scripted.shift() : undefined;
    if (failure) {
      fail(
        new JiraError(failure.status, [
          failure.status === 503 ? 'Service temporarily unavailable.' : 'Internal server error.',
        ]),
        failure.status === 503 ? { 'retry-after': String(failure.retryAfter) } : {}
      );
      return;
    }
    try {
      if (method === 'POST') {
        try {
          body = rawBody === '' ? undefined : JSON.parse(rawBody);
        } catch {
          throw badRequest('Unexpected character in the request body: it is not JSON.');
        }
        log.body = body;
      }
      answer(200, route(method, url.pathname, url.searchParams, body));
    } catch (error) {
      if (error instanceof JiraError) {
        fail(error);
      } else {
        fail(new JiraError(500, [error instanceof Error ? error.message : String(error)]));
      }
    }
  };

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => handle(request, response, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: baseUrl,
    requests,
    rateLimitedCount: () => rateLimited,
    failNext(count, status, { retryAfterSeconds = 0, after = 0, when } = {}) {
      passBeforeFailing = after;
      failWhen = when;
      scripted.length = 0;
      for (let n = 0; n < count; n++) {
        scripted.push({ status, retryAfter: retryAfterSeconds });
      }
    },
    setRateLimit(limit) {
      rateLimit = limit;
      recent.length = 0;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

function requireObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('The request body must be a JSON object.');
  }
  return body as Record<string, unknown>;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((element) => typeof element === 'string');
}

function encodeToken(value: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decodeToken(token: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
