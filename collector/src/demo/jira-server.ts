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
 * - GET /rest/api/3/issue/{key}/changelog (startAt paging), POST
 *   /rest/api/3/changelog/bulkfetch (nextPageToken, fieldIds filter),
 *   GET /rest/api/3/issue/{key}/remotelink (403 when issue linking is
 *   off), /myself, /field, /status.
 * - 429 with Retry-After (seconds) and X-RateLimit-Reset (ISO 8601) beyond
 *   a sliding-window budget; scripted failures (503 with Retry-After, 500)
 *   for retry tests.
 * - Times are rendered as Jira does, in the account's zone with a colon-less
 *   offset: `2026-03-02T21:07:00.000+1100`.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CUSTOM_FIELDS,
  SITE_STATUSES,
  statusById,
  type JiraSiteHistory,
  type SiteHistory,
  type SiteIssue,
  type SiteStatus,
  type SiteUser,
} from './jira-history.ts';

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
  /** Histories embedded by expand=changelog. Default 40. */
  embeddedChangelogLimit?: number;
  /** Most histories one bulk changelog page returns. Default 1000. */
  maxBulkChangelogPage?: number;
  /** The site has issue linking turned off: remote links answer 403. */
  issueLinkingDisabled?: boolean;
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
   */
  failNext(count: number, status: 500 | 503, options?: { retryAfterSeconds?: number; after?: number }): void;
  setRateLimit(limit: { requests: number; windowMs: number } | undefined): void;
  stop(): Promise<void>;
}

const DEFAULT_MAX_RESULTS = 50;
const MAX_RESULTS_CAP = 5000;
const CHANGELOG_PAGE_DEFAULT = 100;

/** An answer in Jira's ErrorCollection shape. */
class JiraError extends Error {
  constructor(
    readonly status: number,
    readonly errorMessages: string[],
    readonly errors: Record<string, string> = {},
  ) {
    super(errorMessages[0] ?? Object.values(errors)[0] ?? `HTTP ${status}`);
  }
}

const badRequest = (message: string) => new JiraError(400, [message]);

export async function startFakeJira(options: FakeJiraOptions): Promise<FakeJira> {
  const { history } = options;
  const expectedAuth = `Basic ${Buffer.from(`${options.email}:${options.apiToken}`).toString('base64')}`;
  const accountZone = options.timeZone === undefined ? 'UTC' : options.timeZone;
  const jqlZone = accountZone ?? options.siteTimeZone ?? 'UTC';
  const maxSearchPage = options.maxSearchPage ?? 100;
  const embeddedLimit = options.embeddedChangelogLimit ?? 40;
  const maxBulkPage = options.maxBulkChangelogPage ?? 1000;
  let rateLimit = options.rateLimit;
  const recent: number[] = [];
  let rateLimited = 0;
  const scripted: { status: 500 | 503; retryAfter: number }[] = [];
  let passBeforeFailing = 0;
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
      const allowed = new Set(['jql', 'nextPageToken', 'maxResults', 'fields', 'expand', 'properties', 'fieldsByKeys', 'reconcileIssues']);
      for (const name of Object.keys(request)) {
        if (!allowed.has(name)) throw badRequest(`Unrecognized field "${name}"`);
      }
      if (request.fields !== undefined && !isStringArray(request.fields)) throw badRequest('fields must be a list of field ids');
      return search({
        jql: typeof request.jql === 'string' ? request.jql : undefined,
        nextPageToken: typeof request.nextPageToken === 'string' ? request.nextPageToken : undefined,
        maxResults: typeof request.maxResults === 'number' ? request.maxResults : undefined,
        fields: (request.fields as string[] | undefined) ?? [],
        expand: typeof request.expand === 'string' ? request.expand : undefined,
      });
    }
    if (path === '/rest/api/3/myself' && method === 'GET') return render.myself(options.email, accountZone);
    if (path === '/rest/api/3/field' && method === 'GET') return render.fields();
    if (path === '/rest/api/3/status' && method === 'GET') return SITE_STATUSES.map((status) => render.status(status));
    if (path === '/rest/api/3/changelog/bulkfetch' && method === 'POST') return bulkChangelog(requireObject(body));
    const issuePath = /^\/rest\/api\/3\/issue\/([^/]+)\/(changelog|remotelink)$/.exec(path);
    if (issuePath && method === 'GET') {
      const idOrKey = decodeURIComponent(issuePath[1]!);
      const issue = history.issues.get(idOrKey) ?? history.issueById(idOrKey);
      if (!issue) throw new JiraError(404, ['Issue does not exist or you do not have permission to see it.']);
      if (issuePath[2] === 'remotelink') {
        if (options.issueLinkingDisabled) throw new JiraError(403, ['Issue linking is disabled.']);
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
      if (token?.q !== queryHash || typeof token.after !== 'string') throw badRequest('The provided next page token is invalid or expired.');
      // Search-after: the page starts after the last issue of the previous one, wherever it now sorts.
      const anchor = history.issueById(token.after);
      startIndex = anchor ? matches.findIndex((issue) => compareIssues(issue, anchor, order) > 0) : matches.length;
      if (startIndex < 0) startIndex = matches.length;
    }
    const size = Math.min(request.maxResults ?? DEFAULT_MAX_RESULTS, MAX_RESULTS_CAP, maxSearchPage);
    const pageIssues = matches.slice(startIndex, startIndex + size);
    const isLast = startIndex + pageIssues.length >= matches.length;
    const fields = request.fields.length > 0 ? request.fields : ['id'];
    const expand = new Set((request.expand ?? '').split(',').map((part) => part.trim()).filter(Boolean));
    const result: Record<string, unknown> = {
      issues: pageIssues.map((issue) => render.issue(issue, fields, expand.has('changelog') ? embeddedLimit : null)),
      isLast,
    };
    if (!isLast) result.nextPageToken = encodeToken({ q: queryHash, after: pageIssues[pageIssues.length - 1]!.id });
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
    if (!page.isLast) page.nextPage = `${baseUrl}/rest/api/3/issue/${issue.key}/changelog?maxResults=${size}&startAt=${startAt + size}`;
    return page;
  };

  const bulkChangelog = (request: Record<string, unknown>): unknown => {
    const ids = request.issueIdsOrKeys;
    if (!isStringArray(ids) || ids.length === 0) throw badRequest('issueIdsOrKeys must list at least one issue');
    if (ids.length > 1000) throw badRequest('You can request the changelogs of up to 1000 issues.');
    const fieldIds = request.fieldIds === undefined ? undefined : request.fieldIds;
    if (fieldIds !== undefined && (!isStringArray(fieldIds) || fieldIds.length > 10)) throw badRequest('fieldIds must list up to 10 field ids');
    const maxResults = request.maxResults === undefined ? 1000 : request.maxResults;
    if (typeof maxResults !== 'number' || !Number.isInteger(maxResults) || maxResults < 1 || maxResults > 10_000) {
      throw badRequest('maxResults must be between 1 and 10000');
    }
    const issues = ids.map((idOrKey) => history.issues.get(idOrKey) ?? history.issueById(idOrKey)).filter((issue): issue is SiteIssue => !!issue);
    const entries: { issue: SiteIssue; history: SiteHistory }[] = [];
    for (const issue of issues) {
      for (const entry of issue.histories) {
        const items = fieldIds ? entry.items.filter((change) => fieldIds.includes(change.fieldId)) : entry.items;
        if (items.length > 0) entries.push({ issue, history: { ...entry, items } });
      }
    }
    entries.sort((a, b) => a.history.at - b.history.at || Number(a.issue.id) - Number(b.issue.id) || Number(a.history.id) - Number(b.history.id));
    const requestHash = createHash('sha256').update(JSON.stringify([ids, fieldIds ?? null])).digest('hex').slice(0, 16);
    let offset = 0;
    if (typeof request.nextPageToken === 'string') {
      const token = decodeToken(request.nextPageToken);
      if (token?.q !== requestHash || typeof token.offset !== 'number') throw badRequest('The provided next page token is invalid or expired.');
      offset = token.offset;
    }
    const size = Math.min(maxResults, maxBulkPage);
    const page = entries.slice(offset, offset + size);
    const grouped: { issueId: string; changeHistories: unknown[] }[] = [];
    for (const entry of page) {
      let group = grouped.find((candidate) => candidate.issueId === entry.issue.id);
      if (!group) {
        group = { issueId: entry.issue.id, changeHistories: [] };
        grouped.push(group);
      }
      group.changeHistories.push(render.changelogEntry(entry.history));
    }
    const result: Record<string, unknown> = { issueChangeLogs: grouped };
    if (offset + page.length < entries.length) result.nextPageToken = encodeToken({ q: requestHash, offset: offset + page.length });
    return result;
  };

  const takeRateBudget = (now: number): number | undefined => {
    if (!rateLimit) return undefined;
    while (recent.length > 0 && recent[0]! <= now - rateLimit.windowMs) recent.shift();
    if (recent.length >= rateLimit.requests) return recent[0]! + rateLimit.windowMs - now;
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
      response.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', 'content-length': buffer.length, ...headers });
      response.end(buffer);
    };
    const fail = (error: JiraError, headers: Record<string, string> = {}) =>
      answer(error.status, { errorMessages: error.errorMessages, errors: error.errors }, headers);

    const waitMs = takeRateBudget(Date.now());
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
      fail(new JiraError(401, ['Client must be authenticated to access this resource.']), { 'www-authenticate': 'Basic realm="protected-area"' });
      return;
    }
    const failure = scripted.length > 0 && passBeforeFailing-- <= 0 ? scripted.shift() : undefined;
    if (failure) {
      fail(
        new JiraError(failure.status, [failure.status === 503 ? 'Service temporarily unavailable.' : 'Internal server error.']),
        failure.status === 503 ? { 'retry-after': String(failure.retryAfter) } : {},
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
      if (error instanceof JiraError) fail(error);
      else fail(new JiraError(500, [error instanceof Error ? error.message : String(error)]));
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
    failNext(count, status, { retryAfterSeconds = 0, after = 0 } = {}) {
      passBeforeFailing = after;
      scripted.length = 0;
      for (let n = 0; n < count; n++) scripted.push({ status, retryAfter: retryAfterSeconds });
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
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('The request body must be a JSON object.');
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

// ---- rendering ----

const SYSTEM_FIELDS: { id: string; name: string; type: string; items?: string }[] = [
  { id: 'summary', name: 'Summary', type: 'string' },
  { id: 'description', name: 'Description', type: 'string' },
  { id: 'status', name: 'Status', type: 'status' },
  { id: 'priority', name: 'Priority', type: 'priority' },
  { id: 'issuetype', name: 'Issue Type', type: 'issuetype' },
  { id: 'project', name: 'Project', type: 'project' },
  { id: 'created', name: 'Created', type: 'datetime' },
  { id: 'updated', name: 'Updated', type: 'datetime' },
  { id: 'resolutiondate', name: 'Resolved', type: 'datetime' },
  { id: 'resolution', name: 'Resolution', type: 'resolution' },
  { id: 'duedate', name: 'Due date', type: 'date' },
  { id: 'assignee', name: 'Assignee', type: 'user' },
  { id: 'labels', name: 'Labels', type: 'array', items: 'string' },
  { id: 'issuelinks', name: 'Linked Issues', type: 'array', items: 'issuelinks' },
  { id: 'parent', name: 'Parent', type: 'issuelink' },
  { id: 'subtasks', name: 'Sub-tasks', type: 'array', items: 'issuelinks' },
];

const CATEGORY = {
  new: { id: 2, key: 'new', colorName: 'blue-gray', name: 'To Do' },
  indeterminate: { id: 4, key: 'indeterminate', colorName: 'yellow', name: 'In Progress' },
  done: { id: 3, key: 'done', colorName: 'green', name: 'Done' },
};

const PRIORITY_IDS: Record<string, string> = { Highest: '1', High: '2', Medium: '3', Low: '4', Lowest: '5' };

class IssueRenderer {
  constructor(
    private readonly site: JiraSiteHistory,
    private readonly baseUrl: () => string,
    private readonly zone: string,
  ) {}

  /** Jira's rendering of an instant: the account's zone, milliseconds, a colon-less offset. */
  time(ms: number): string {
    const offsetMinutes = zoneOffsetMinutes(this.zone, ms);
    const local = new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, 23);
    const sign = offsetMinutes < 0 ? '-' : '+';
    const absolute = Math.abs(offsetMinutes);
    return `${local}${sign}${String(Math.floor(absolute / 60)).padStart(2, '0')}${String(absolute % 60).padStart(2, '0')}`;
  }

  myself(email: string, zone: string | null): unknown {
    const user: Record<string, unknown> = {
      self: `${this.baseUrl()}/rest/api/3/user?accountId=5b10a2844c20165700ede21f`,
      accountId: '5b10a2844c20165700ede21f',
      accountType: 'atlassian',
      emailAddress: email,
      avatarUrls: avatars('collector'),
      displayName: 'Incident Lens collector',
      active: true,
      locale: 'en_US',
    };
    if (zone !== null) user.timeZone = zone;
    return user;
  }

  fields(): unknown[] {
    const system = SYSTEM_FIELDS.map((field) => ({
      id: field.id,
      key: field.id,
      name: field.name,
      custom: false,
      orderable: field.id !== 'created' && field.id !== 'updated',
      navigable: true,
      searchable: true,
      clauseNames: [field.id],
      schema: { type: field.type, system: field.id, ...(field.items ? { items: field.items } : {}) },
    }));
    const custom = Object.values(CUSTOM_FIELDS).map((field) => ({
      id: field.id,
      key: field.id,
      name: field.name,
      custom: true,
      orderable: true,
      navigable: true,
      searchable: true,
      clauseNames: [`cf[${field.schema.customId}]`, field.name],
      schema: field.schema,
    }));
    return [...system, ...custom];
  }

  status(status: SiteStatus): Record<string, unknown> {
    const category = CATEGORY[status.category];
    return {
      self: `${this.baseUrl()}/rest/api/3/status/${status.id}`,
      description: '',
      iconUrl: `${this.baseUrl()}/images/icons/statuses/generic.png`,
      name: status.name,
      id: status.id,
      statusCategory: { self: `${this.baseUrl()}/rest/api/3/statuscategory/${category.id}`, ...category },
    };
  }

  user(user: SiteUser): Record<string, unknown> {
    return {
      self: `${this.baseUrl()}/rest/api/3/user?accountId=${user.accountId}`,
      accountId: user.accountId,
      emailAddress: user.emailAddress,
      avatarUrls: avatars(user.accountId),
      displayName: user.displayName,
      active: true,
      timeZone: 'UTC',
      accountType: 'atlassian',
    };
  }

  changelogEntry(entry: SiteHistory): Record<string, unknown> {
    const rendered: Record<string, unknown> = { id: entry.id, created: this.time(entry.at), items: entry.items.map((change) => ({ ...change })) };
    if (entry.author) rendered.author = this.user(entry.author);
    return rendered;
  }

  remoteLink(issue: SiteIssue, link: SiteIssue['remoteLinks'][number]): unknown {
    return { ...link, self: `${this.baseUrl()}/rest/api/3/issue/${issue.key}/remotelink/${link.id}` };
  }

  private issueType(issue: SiteIssue): Record<string, unknown> {
    return {
      self: `${this.baseUrl()}/rest/api/3/issuetype/${issue.issueType.id}`,
      id: issue.issueType.id,
      description: '',
      iconUrl: `${this.baseUrl()}/images/icons/issuetypes/task.svg`,
      name: issue.issueType.name,
      subtask: issue.issueType.subtask,
      avatarId: 10318,
      hierarchyLevel: issue.issueType.subtask ? -1 : 0,
    };
  }

  private priority(name: string): Record<string, unknown> {
    const id = PRIORITY_IDS[name] ?? '3';
    return { self: `${this.baseUrl()}/rest/api/3/priority/${id}`, iconUrl: `${this.baseUrl()}/images/icons/priorities/${name.toLowerCase()}.svg`, name, id };
  }

  /** The short form Jira uses for the other end of a link, a parent or a sub-task. */
  private linked(issue: SiteIssue): Record<string, unknown> {
    const fields: Record<string, unknown> = {
      summary: issue.summary,
      status: this.status(statusById(issue.statusId)),
      issuetype: this.issueType(issue),
    };
    if (issue.priority !== null) fields.priority = this.priority(issue.priority);
    return { id: issue.id, key: issue.key, self: `${this.baseUrl()}/rest/api/3/issue/${issue.id}`, fields };
  }

  private fieldValue(issue: SiteIssue, field: string): { present: boolean; value?: unknown } {
    const status = statusById(issue.statusId);
    switch (field) {
      case 'summary':
        return { present: true, value: issue.summary };
      case 'description':
        return { present: true, value: issue.description };
      case 'status':
        return { present: true, value: this.status(status) };
      case 'priority':
        return { present: true, value: issue.priority === null ? null : this.priority(issue.priority) };
      case 'issuetype':
        return { present: true, value: this.issueType(issue) };
      case 'project':
        return {
          present: true,
          value: {
            self: `${this.baseUrl()}/rest/api/3/project/${issue.project.id}`,
            id: issue.project.id,
            key: issue.project.key,
            name: issue.project.name,
            projectTypeKey: issue.project.key === 'INC' ? 'service_desk' : 'software',
            simplified: false,
          },
        };
      case 'created':
        return { present: true, value: this.time(issue.created) };
      case 'updated':
        return { present: true, value: this.time(issue.updated) };
      case 'resolutiondate':
        return { present: true, value: issue.resolutiondate === null ? null : this.time(issue.resolutiondate) };
      case 'resolution':
        return {
          present: true,
          value: issue.resolutiondate === null ? null : { self: `${this.baseUrl()}/rest/api/3/resolution/10000`, id: '10000', name: 'Done', description: '' },
        };
      case 'duedate':
        return { present: true, value: issue.duedate };
      case 'assignee':
        return { present: true, value: issue.assignee ? this.user(issue.assignee) : null };
      case 'labels':
        return { present: true, value: [...issue.labels] };
      case 'issuelinks':
        return {
          present: true,
          value: this.site.links
            .filter((link) => link.outwardKey === issue.key || link.inwardKey === issue.key)
            .map((link) => {
              const rendered: Record<string, unknown> = {
                id: link.id,
                self: `${this.baseUrl()}/rest/api/3/issueLink/${link.id}`,
                type: { ...link.type, self: `${this.baseUrl()}/rest/api/3/issueLinkType/${link.type.id}` },
              };
              // Each side sees the other: the outward issue of its link, or the inward one.
              if (link.outwardKey === issue.key) rendered.outwardIssue = this.linked(this.site.issue(link.inwardKey));
              else rendered.inwardIssue = this.linked(this.site.issue(link.outwardKey));
              return rendered;
            }),
        };
      case 'parent':
        // Jira leaves `parent` out of an issue that has none.
        return issue.parentKey === null ? { present: false } : { present: true, value: this.linked(this.site.issue(issue.parentKey)) };
      case 'subtasks':
        return {
          present: true,
          value: [...this.site.issues.values()].filter((child) => child.parentKey === issue.key).map((child) => this.linked(child)),
        };
      default:
        if (field.startsWith('customfield_')) return { present: true, value: issue.custom[field] ?? null };
        return { present: false };
    }
  }

  issue(issue: SiteIssue, requested: string[], changelogLimit: number | null): Record<string, unknown> {
    const wanted = new Set<string>();
    const excluded = new Set<string>();
    for (const raw of requested) {
      const field = raw.trim();
      if (field === '*all' || field === '*navigable') {
        for (const system of SYSTEM_FIELDS) wanted.add(system.id);
        for (const custom of Object.values(CUSTOM_FIELDS)) wanted.add(custom.id);
      } else if (field.startsWith('-')) excluded.add(field.slice(1));
      else if (field !== '') wanted.add(field);
    }
    for (const field of excluded) wanted.delete(field);
    const onlyId = [...wanted].every((field) => field === 'id');
    if (onlyId && changelogLimit === null) return { id: issue.id };
    const fields: Record<string, unknown> = {};
    for (const field of wanted) {
      if (field === 'id' || field === 'key') continue;
      const value = this.fieldValue(issue, field);
      if (value.present) fields[field] = value.value;
    }
    const rendered: Record<string, unknown> = {
      expand: 'renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations',
      id: issue.id,
      self: `${this.baseUrl()}/rest/api/3/issue/${issue.id}`,
      key: issue.key,
      fields,
    };
    if (changelogLimit !== null) {
      const histories = issue.histories.slice(0, changelogLimit);
      rendered.changelog = {
        startAt: 0,
        maxResults: histories.length,
        total: issue.histories.length,
        histories: histories.map((entry) => this.changelogEntry(entry)),
      };
    }
    return rendered;
  }
}

function avatars(seed: string): Record<string, string> {
  const base = `https://avatar-management--avatars.us-west-2.prod.public.atl-paas.net/initials/${encodeURIComponent(seed.slice(0, 2).toUpperCase())}-1.png`;
  return { '48x48': `${base}?size=48`, '24x24': `${base}?size=24`, '16x16': `${base}?size=16`, '32x32': `${base}?size=32` };
}

/** Minutes east of UTC of `zone` at the instant `ms`. */
function zoneOffsetMinutes(zone: string, ms: number): number {
  const name = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' })
    .formatToParts(new Date(ms))
    .find((part) => part.type === 'timeZoneName')?.value;
  const match = /GMT([+-])(\d{2}):(\d{2})/.exec(name ?? '');
  if (!match) return 0;
  return (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3]));
}

/**
 * The instant a wall-clock time names in `zone`. In the repeated hour of a
 * DST change the earlier instant is taken, as java.time does by default.
 */
function zonedWallTimeToInstant(wallAsUtcMs: number, zone: string): number {
  const offsetBefore = zoneOffsetMinutes(zone, wallAsUtcMs - 14 * 3_600_000);
  const offsetAfter = zoneOffsetMinutes(zone, wallAsUtcMs + 14 * 3_600_000);
  const candidates = [...new Set([offsetBefore, offsetAfter])]
    .map((offset) => wallAsUtcMs - offset * 60_000)
    .filter((instant) => zoneOffsetMinutes(zone, instant) * 60_000 === wallAsUtcMs - instant)
    .sort((a, b) => a - b);
  // In a gap (spring forward) no candidate fits: java.time moves the time forward by the gap.
  return candidates[0] ?? wallAsUtcMs - offsetBefore * 60_000;
}

// ---- JQL ----

type JqlValue = { kind: 'text'; text: string } | { kind: 'empty' } | { kind: 'list'; values: string[] };

type JqlNode =
  | { type: 'and'; left: JqlNode; right: JqlNode }
  | { type: 'or'; left: JqlNode; right: JqlNode }
  | { type: 'not'; operand: JqlNode }
  | { type: 'clause'; field: string; operator: string; value: JqlValue };

interface JqlQuery {
  where: JqlNode | null;
  orderBy: { field: string; descending: boolean }[];
}

interface Token {
  kind: 'word' | 'string' | 'operator' | 'paren' | 'comma';
  text: string;
}

const FIELD_ALIASES: Record<string, string> = {
  labels: 'labels',
  issuetype: 'issuetype',
  type: 'issuetype',
  project: 'project',
  status: 'status',
  statuscategory: 'statuscategory',
  priority: 'priority',
  key: 'key',
  issuekey: 'key',
  created: 'created',
  createddate: 'created',
  updated: 'updated',
  updateddate: 'updated',
  resolutiondate: 'resolutiondate',
  resolved: 'resolutiondate',
  duedate: 'duedate',
  due: 'duedate',
};

const DATE_FIELDS = new Set(['created', 'updated', 'resolutiondate', 'duedate']);

function tokenize(jql: string): Token[] {
  const tokens: Token[] = [];
  let position = 0;
  while (position < jql.length) {
    const rest = jql.slice(position);
    const space = /^\s+/.exec(rest);
    if (space) {
      position += space[0].length;
      continue;
    }
    const quoted = /^"((?:[^"\\]|\\.)*)"|^'((?:[^'\\]|\\.)*)'/.exec(rest);
    if (quoted) {
      tokens.push({ kind: 'string', text: (quoted[1] ?? quoted[2]!).replace(/\\(.)/g, '$1') });
      position += quoted[0].length;
      continue;
    }
    const operator = /^(!=|>=|<=|!~|=|>|<|~)/.exec(rest);
    if (operator) {
      tokens.push({ kind: 'operator', text: operator[0] });
      position += operator[0].length;
      continue;
    }
    if (rest[0] === '(' || rest[0] === ')') {
      tokens.push({ kind: 'paren', text: rest[0] });
      position += 1;
      continue;
    }
    if (rest[0] === ',') {
      tokens.push({ kind: 'comma', text: ',' });
      position += 1;
      continue;
    }
    const word = /^[^\s"'(),=!<>~]+/.exec(rest);
    if (!word) throw badRequest(`Error in the JQL Query: The character '${rest[0]}' is a reserved JQL character. (line 1, character ${position + 1})`);
    tokens.push({ kind: 'word', text: word[0] });
    position += word[0].length;
  }
  return tokens;
}

/** Enough JQL for the configured searches, their time bound and the tests. */
export function parseJql(jql: string): JqlQuery {
  const tokens = tokenize(jql);
  let index = 0;
  const peek = () => tokens[index];
  const isWord = (text: string, token = peek()) => token?.kind === 'word' && token.text.toLowerCase() === text;
  const expect = (predicate: boolean, what: string) => {
    if (!predicate) {
      const found = peek()?.text ?? 'the end of the query';
      throw badRequest(`Error in the JQL Query: Expecting ${what} but got '${found}'.`);
    }
  };

  const parseValue = (): JqlValue => {
    const token = peek();
    expect(token !== undefined && (token.kind === 'word' || token.kind === 'string'), 'a value');
    index += 1;
    return { kind: 'text', text: token!.text };
  };

  const parseClause = (): JqlNode => {
    const fieldToken = peek();
    expect(fieldToken !== undefined && (fieldToken.kind === 'word' || fieldToken.kind === 'string'), 'a field name');
    index += 1;
    const field = FIELD_ALIASES[fieldToken!.text.toLowerCase()];
    if (field === undefined) throw badRequest(`Field '${fieldToken!.text}' does not exist or you do not have permission to view it.`);
    let operator: string;
    if (peek()?.kind === 'operator') operator = tokens[index++]!.text;
    else if (isWord('in')) {
      index += 1;
      operator = 'in';
    } else if (isWord('not') && isWord('in', tokens[index + 1])) {
      index += 2;
      operator = 'not in';
    } else if (isWord('is')) {
      index += 1;
      operator = 'is';
      if (isWord('not')) {
        index += 1;
        operator = 'is not';
      }
    } else {
      expect(false, "an operator such as '=', '!=', 'in' or 'is'");
      operator = '';
    }
    let value: JqlValue;
    if (operator === 'is' || operator === 'is not') {
      expect(isWord('empty') || isWord('null'), "'EMPTY' or 'NULL'");
      index += 1;
      value = { kind: 'empty' };
    } else if (operator === 'in' || operator === 'not in') {
      expect(peek()?.text === '(', "'('");
      index += 1;
      const values: string[] = [];
      for (;;) {
        const element = parseValue();
        if (element.kind === 'text') values.push(element.text);
        if (peek()?.kind === 'comma') {
          index += 1;
          continue;
        }
        expect(peek()?.text === ')', "')' or ','");
        index += 1;
        break;
      }
      value = { kind: 'list', values };
    } else value = parseValue();
    if (DATE_FIELDS.has(field) && value.kind === 'text') parseJqlDate(value.text, field, 'UTC');
    return { type: 'clause', field, operator, value };
  };

  const parsePrimary = (): JqlNode => {
    if (isWord('not')) {
      index += 1;
      return { type: 'not', operand: parsePrimary() };
    }
    if (peek()?.text === '(' && peek()?.kind === 'paren') {
      index += 1;
      const inner = parseOr();
      expect(peek()?.text === ')', "')'");
      index += 1;
      return inner;
    }
    return parseClause();
  };

  const parseAnd = (): JqlNode => {
    let left = parsePrimary();
    while (isWord('and')) {
      index += 1;
      left = { type: 'and', left, right: parsePrimary() };
    }
    return left;
  };

  const parseOr = (): JqlNode => {
    let left = parseAnd();
    while (isWord('or')) {
      index += 1;
      left = { type: 'or', left, right: parseAnd() };
    }
    return left;
  };

  let where: JqlNode | null = null;
  if (index < tokens.length && !(isWord('order') && isWord('by', tokens[index + 1]))) where = parseOr();
  const orderBy: JqlQuery['orderBy'] = [];
  if (isWord('order')) {
    index += 1;
    expect(isWord('by'), "'by'");
    index += 1;
    for (;;) {
      const fieldToken = peek();
      expect(fieldToken?.kind === 'word', 'a field to order by');
      index += 1;
      const field = FIELD_ALIASES[fieldToken!.text.toLowerCase()];
      if (field === undefined) throw badRequest(`Field '${fieldToken!.text}' does not exist or you do not have permission to view it.`);
      let descending = false;
      if (isWord('asc') || isWord('desc')) descending = tokens[index++]!.text.toLowerCase() === 'desc';
      orderBy.push({ field, descending });
      if (peek()?.kind !== 'comma') break;
      index += 1;
    }
    if (orderBy.length > 7) throw badRequest('The ORDER BY clause can contain a maximum of 7 fields.');
  }
  expect(index === tokens.length, 'AND, OR or ORDER BY');
  return { where, orderBy };
}

/** `yyyy-MM-dd[ HH:mm]` or with slashes, read in `zone`, to epoch ms. */
function parseJqlDate(text: string, field: string, zone: string): number {
  const match = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?: (\d{1,2}):(\d{2}))?$/.exec(text.trim());
  const invalid = () =>
    badRequest(
      `Date value '${text}' for field '${field}' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'.`,
    );
  if (!match) throw invalid();
  const [year, month, day, hour, minute] = [match[1], match[2], match[3], match[4] ?? '0', match[5] ?? '0'].map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  const check = new Date(wall);
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || hour > 23) throw invalid();
  return zonedWallTimeToInstant(wall, zone);
}

function fieldValues(issue: SiteIssue, field: string): string[] {
  const status = statusById(issue.statusId);
  switch (field) {
    case 'labels':
      return issue.labels;
    case 'issuetype':
      return [issue.issueType.name, issue.issueType.id];
    case 'project':
      return [issue.project.key, issue.project.name, issue.project.id];
    case 'status':
      return [status.name, status.id];
    case 'statuscategory':
      return [status.category, { new: 'To Do', indeterminate: 'In Progress', done: 'Done' }[status.category]];
    case 'priority':
      return issue.priority === null ? [] : [issue.priority];
    case 'key':
      return [issue.key, issue.id];
    default:
      return [];
  }
}

function dateValue(issue: SiteIssue, field: string): number | null {
  switch (field) {
    case 'created':
      return issue.created;
    case 'updated':
      return issue.updated;
    case 'resolutiondate':
      return issue.resolutiondate;
    case 'duedate':
      return issue.duedate === null ? null : Date.parse(`${issue.duedate}T00:00:00Z`);
    default:
      return null;
  }
}

function evaluate(node: JqlNode, issue: SiteIssue, zone: string): boolean {
  if (node.type === 'and') return evaluate(node.left, issue, zone) && evaluate(node.right, issue, zone);
  if (node.type === 'or') return evaluate(node.left, issue, zone) || evaluate(node.right, issue, zone);
  if (node.type === 'not') return !evaluate(node.operand, issue, zone);
  const { field, operator, value } = node;
  if (DATE_FIELDS.has(field)) {
    const actual = dateValue(issue, field);
    if (value.kind === 'empty') return operator === 'is' ? actual === null : actual !== null;
    if (actual === null || value.kind !== 'text') return false;
    // A due date is a calendar day; other dates are instants read in the account's zone.
    const bound = field === 'duedate' ? parseJqlDate(value.text, field, 'UTC') : parseJqlDate(value.text, field, zone);
    switch (operator) {
      case '=':
        return actual === bound;
      case '!=':
        return actual !== bound;
      case '>':
        return actual > bound;
      case '>=':
        return actual >= bound;
      case '<':
        return actual < bound;
      case '<=':
        return actual <= bound;
      default:
        throw badRequest(`The operator '${operator}' is not supported by the '${field}' field.`);
    }
  }
  const actual = fieldValues(issue, field).map((text) => text.toLowerCase());
  const has = (text: string) => actual.includes(text.toLowerCase());
  switch (operator) {
    case '=':
      return value.kind === 'text' && has(value.text);
    case '!=':
      return value.kind === 'text' && actual.length > 0 && !has(value.text);
    case 'in':
      return value.kind === 'list' && value.values.some(has);
    case 'not in':
      return value.kind === 'list' && actual.length > 0 && !value.values.some(has);
    case 'is':
      return actual.length === 0;
    case 'is not':
      return actual.length > 0;
    default:
      throw badRequest(`The operator '${operator}' is not supported by the '${field}' field.`);
  }
}

function compareIssues(a: SiteIssue, b: SiteIssue, order: JqlQuery['orderBy']): number {
  for (const { field, descending } of order) {
    let difference: number;
    if (field === 'key') {
      difference = a.project.key.localeCompare(b.project.key) || Number(a.key.split('-')[1]) - Number(b.key.split('-')[1]);
    } else if (DATE_FIELDS.has(field)) {
      difference = (dateValue(a, field) ?? Number.MAX_SAFE_INTEGER) - (dateValue(b, field) ?? Number.MAX_SAFE_INTEGER);
    } else {
      difference = (fieldValues(a, field)[0] ?? '').localeCompare(fieldValues(b, field)[0] ?? '');
    }
    if (difference !== 0) return descending ? -difference : difference;
  }
  // Ties by id keep the order total, so search-after paging never skips or repeats.
  return Number(a.id) - Number(b.id);
}
