/**
 * A PagerDuty REST API v2 look-alike on loopback, serving a PagerDutyHistory:
 * GET /incidents, /incidents/{id}, /incidents/{id}/log_entries, /log_entries,
 * /log_entries/{id}, /users. It enforces the rules a real client must survive, with
 * PagerDuty's error body `{"error":{"message","code","errors"}}` and codes
 * from developer.pagerduty.com (Errors, Pagination, Rate Limits):
 *
 * - `Authorization: Token token=<token>` or 401 (2006 Authentication failed).
 * - `Accept: application/vnd.pagerduty+json;version=2` or 400 (2001). The
 *   real API falls back to the token's version without it; this fake is
 *   stricter so that a client cannot forget the header.
 * - Classic pagination: limit 1..100 (default 25), offset + limit <= 10000
 *   or 400 (2002 "Arguments Caused Error"), `total` null unless total=true,
 *   `more` exact, order stable within a window.
 * - /incidents: since/until on created_at, [since, until). Both missing: the
 *   month before now; only since: one month from it; only until: the month
 *   before it. A span over 180 days is a 400; date_range=all lifts the window.
 *   statuses[], urgencies[], service_ids[], team_ids[], sort_by (at most two
 *   of incident_number, created_at, resolved_at, urgency, each :asc/:desc).
 * - /log_entries: the same window defaults (no span limit is documented),
 *   newest first, team_ids[], is_overview (leaves out notifications) and
 *   include[]=incidents (the full incident in each entry's `incident`).
 *   /incidents/{id}/log_entries lists the whole log unless since/until is given.
 * - /users: classic paging, `query` (part of the name), team_ids[], and
 *   include[] checked against PagerDuty's values (contact_methods,
 *   notification_rules, teams, subdomains); the related objects stay
 *   references.
 * - Rate limit per token over a sliding window, `ratelimit-limit`,
 *   `ratelimit-remaining`, `ratelimit-reset` (seconds) on every response and
 *   429 (2020 "Rate Limit Exceeded") beyond it. The window runs on real time,
 *   not on `now`, so a frozen server clock cannot lock a client out for good.
 * - Seeded faults: 500/502/503 with an error body, slow answers, connections
 *   destroyed before any response, and bodies cut in half after a header
 *   announcing their full length.
 *
 * Times are rendered in UTC whatever `time_zone` says.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PagerDutyHistory } from './history.ts';
import type { IncidentQuery, LogEntryQuery, RecordList, UserQuery } from './queries.ts';
import {
  ACCEPT_V2,
  defaultedWindow,
  incidentWindow,
  invalidInput,
  notFound,
  PagerDutyError,
  parsePaging,
  parseSort,
  parseTime,
  RATE_LIMIT_PER_MINUTE,
  setParam,
  STATUSES,
  URGENCIES,
  USER_INCLUDES,
  type Paging,
} from './request-params.ts';
import { FaultInjector, RateLimiter, type Fault, type FaultOptions } from './traffic.ts';

export interface FakePagerDutyOptions {
  history: PagerDutyHistory;
  token: string;
  /** Default 0: any free port. */
  port?: number;
  /** Per token, over a sliding window; default 960 (PagerDuty's limit per API key). */
  rateLimitPerMinute?: number;
  /** Length of the rate-limit window; default 60 s. Shorter only to test recovery quickly. */
  rateLimitWindowMs?: number;
  /** Default none. */
  faults?: FaultOptions;
  /** Server clock for default windows; default real time. */
  now?: () => Date;
}

export interface FakePagerDuty {
  /** e.g. http://127.0.0.1:43123 (no trailing slash) */
  url: string;
  /** Every request received, including refused ones. */
  requestCount(): number;
  requestsByPath(): Record<string, number>;
  /** 429s sent. */
  rateLimitedCount(): number;
  setFaults(faults: FaultOptions | undefined): void;
  setRateLimit(perMinute: number): void;
  stop(): Promise<void>;
}

const PAGE_CACHE_SIZE = 16;
const ANALYTICS_PATH = '/analytics/raw/incidents';
const MAX_BODY_BYTES = 1_000_000;

const SERVER_ERROR_MESSAGES: Record<number, string> = {
  500: 'An internal error has occurred. PagerDuty team has been notified.',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

function page(
  key: 'incidents' | 'log_entries' | 'users',
  list: RecordList,
  paging: Paging,
  render: (ref: number) => unknown
): unknown {
  const end = Math.min(list.length, paging.offset + paging.limit);
  const items: unknown[] = [];
  for (let position = paging.offset; position < end; position++) {
    items.push(render(list.at(position)));
  }
  return {
    [key]: items,
    limit: paging.limit,
    offset: paging.offset,
    more: end < list.length,
    total: paging.total ? list.length : null,
  };
}

function serializeQuery(kind: string, query: IncidentQuery | LogEntryQuery | UserQuery): string {
  return kind + JSON.stringify(query, (_key, value: unknown) => (value instanceof Set ? [...value].sort() : value));
}

export async function startFakePagerDuty(options: FakePagerDutyOptions): Promise<FakePagerDuty> {
  const { history, token } = options;
  const now = options.now ?? (() => new Date());
  const limiter = new RateLimiter(
    options.rateLimitPerMinute ?? RATE_LIMIT_PER_MINUTE,
    options.rateLimitWindowMs ?? 60_000
  );
  const faults = new FaultInjector();
  faults.configure(options.faults);
  let requests = 0;
  let rateLimited = 0;
  const byPath = new Map<string, number>();
  const pending = new Set<NodeJS.Timeout>();
  // Sequential page requests of one window share its ordered list.
  const lists = new Map<string, RecordList>();
  let listsVersion = history.version;

  const cachedList = (key: string, build: () => RecordList): RecordList => {
    if (listsVersion !== history.version) {
      lists.clear();
      listsVersion = history.version;
    }
    let list = lists.get(key);
    if (!list) {
      list = build();
      if (lists.size >= PAGE_CACHE_SIZE) {
        lists.delete(lists.keys().next().value!);
      }
      lists.set(key, list);
    }
    return list;
  };

  const route = (path: string, params: URLSearchParams, body: unknown): unknown => {
    const nowMs = now().getTime();
    const segments = path
      .split('/')
      .filter(Boolean)
      .map((segment) => {
        try {
          return decodeURIComponent(segment);
        } catch {
          throw notFound();
        }
      });
    const [resource, id, sub, ...rest] = segments;
    if (rest.length > 0) {
      throw notFound();
    }
    if (resource === 'incidents' && id === undefined) {
      const paging = parsePaging(params);
      const query: IncidentQuery = {
        ...incidentWindow(params, nowMs),
        statuses: setParam(
          params,
          'statuses[]',
          STATUSES,
          'Status must be a list of triggered, acknowledged, or resolved.'
        ),
        urgencies: setParam(params, 'urgencies[]', URGENCIES, 'Urgencies must be a list of high or low.'),
        serviceIds: setParam(params, 'service_ids[]'),
        teamIds: setParam(params, 'team_ids[]'),
        sortBy: parseSort(params),
      };
      const list = cachedList(serializeQuery('incidents', query), () => history.listIncidents(query));
      return page('incidents', list, paging, (ref) => history.renderIncident(ref));
    }
    if (resource === 'incidents' && id !== undefined && sub === undefined) {
      const ref = history.findIncident(id);
      if (ref === undefined) {
        throw notFound();
      }
      return { incident: history.renderIncident(ref) };
    }
    if (resource === 'incidents' && id !== undefined && sub === 'log_entries') {
      const ref = history.findIncident(id);
      if (ref === undefined) {
        throw notFound();
      }
      const paging = parsePaging(params);
      const since = parseTime(params, 'since');
      const until = parseTime(params, 'until');
      if (since !== undefined && until !== undefined && until < since) {
        throw invalidInput("'until' must not be before 'since'");
      }
      const query: LogEntryQuery = { since, until, incident: ref, overview: params.get('is_overview') === 'true' };
      return logEntriesPage(query, paging, params);
    }
    if (resource === 'log_entries' && id === undefined) {
      const paging = parsePaging(params);
      const query: LogEntryQuery = {
        ...defaultedWindow(params, nowMs),
        teamIds: setParam(params, 'team_ids[]'),
        overview: params.get('is_overview') === 'true',
      };
      return logEntriesPage(query, paging, params);
    }
    if (path === ANALYTICS_PATH) {
      return history.analyticsRawIncidents(body);
    }
    if (resource === 'users' && id === undefined) {
      const paging = parsePaging(params);
      setParam(params, 'include[]', USER_INCLUDES, `'include[]' must be ${[...USER_INCLUDES].join(', ')}`);
      const query = { query: params.get('query') ?? undefined, teamIds: setParam(params, 'team_ids[]') };
      const list = cachedList(serializeQuery('users', query), () => history.listUsers(query));
      return page('users', list, paging, (ref) => history.renderUser(ref));
    }
    if (resource === 'log_entries' && id !== undefined && sub === undefined) {
      const ref = history.findLogEntry(id);
      if (ref === undefined) {
        throw notFound();
      }
      return { log_entry: history.renderLogEntry(ref, includesIncidents(params)) };
    }
    throw notFound();
  };

  const includesIncidents = (params: URLSearchParams) => params.getAll('include[]').includes('incidents');

  const logEntriesPage = (query: LogEntryQuery, paging: Paging, params: URLSearchParams): unknown => {
    const list = cachedList(serializeQuery('log_entries', query), () => history.listLogEntries(query));
    const withIncidents = includesIncidents(params);
    return page('log_entries', list, paging, (ref) => history.renderLogEntry(ref, withIncidents));
  };

  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    requests++;
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    byPath.set(url.pathname, (byPath.get(url.pathname) ?? 0) + 1);
    const credentials = /^Token token=(.+)$/.exec(request.headers.authorization ?? '');
    const presented = credentials?.[1] ?? '';
    const rate = limiter.take(presented, performance.now());
    const headers: Record<string, string | number> = {
      'ratelimit-limit': rate.limit,
      'ratelimit-remaining': rate.remaining,
      'ratelimit-reset': rate.resetSeconds,
    };
    const answer = (status: number, body: unknown, fault: Fault = { kind: 'none' }) => {
      const buffer = Buffer.from(JSON.stringify(body));
      response.writeHead(status, {
        ...headers,
        'content-type': 'application/json; charset=utf-8',
        'content-length': buffer.length,
      });
      if (fault.kind === 'truncate') {
        response.write(buffer.subarray(0, Math.floor(buffer.length / 2)), () => response.destroy());
      } else {
        response.end(buffer);
      }
    };
    const fail = (error: PagerDutyError) => answer(error.status, error.body());
    const start = (requestBody: unknown) => startResponse(request, url, answer, requestBody);

    if (!rate.allowed) {
      rateLimited++;
      return fail(new PagerDutyError(429, 2020, 'Rate Limit Exceeded'));
    }
    if (!credentials || presented !== token) {
      return fail(new PagerDutyError(401, 2006, 'Authentication failed'));
    }
    const accepted = (request.headers.accept ?? '')
      .split(',')
      .some((type) => type.replace(/\s+/g, '').toLowerCase() === ACCEPT_V2);
    if (!accepted) {
      return fail(
        invalidInput(`The Accept header must be ${ACCEPT_V2}, got ${JSON.stringify(request.headers.accept ?? '')}`)
      );
    }
    const posting = url.pathname === ANALYTICS_PATH;
    if (request.method !== (posting ? 'POST' : 'GET')) {
      return fail(
        new PagerDutyError(404, 2100, 'Not Found', [
          `This test server answers GET requests, and POST to ${ANALYTICS_PATH}.`,
        ])
      );
    }
    if (!posting) {
      return start(undefined);
    }
    if (!/^application\/json\b/i.test(request.headers['content-type'] ?? '')) {
      return fail(
        invalidInput(
          `The Content-Type header must be application/json, got ${JSON.stringify(request.headers['content-type'] ?? '')}`
        )
      );
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) {
        chunks.push(chunk);
      }
    });
    request.on('end', () => {
      if (size > MAX_BODY_BYTES) {
        return fail(invalidInput(`The request body is over ${MAX_BODY_BYTES} bytes`));
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return fail(invalidInput('The request body is not JSON'));
      }
      start(parsed);
    });
  };

  /** Answers after the drawn fault and delay; `requestBody` is the parsed JSON of a POST. */
  const startResponse = (
    request: IncomingMessage,
    url: URL,
    answer: (status: number, body: unknown, fault?: Fault) => void,
    requestBody: unknown
  ): void => {
    const { fault, delayMs } = faults.draw();
    const respond = () => {
      pending.delete(timer);
      if (fault.kind === 'drop') {
        request.socket.destroy();
        return;
      }
      if (fault.kind === 'error') {
        return answer(
          fault.status,
          new PagerDutyError(fault.status, 2000, SERVER_ERROR_MESSAGES[fault.status]!).body()
        );
      }
      let body: unknown;
      try {
        body = route(url.pathname, url.searchParams, requestBody);
      } catch (error) {
        if (error instanceof PagerDutyError) {
          return answer(error.status, error.body(), fault);
        }
        return answer(500, new PagerDutyError(500, 2000, SERVER_ERROR_MESSAGES[500]!, [String(error)]).body());
      }
      answer(200, body, fault);
    };
    const timer = setTimeout(respond, delayMs);
    pending.add(timer);
  };

  const server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requestCount: () => requests,
    requestsByPath: () => Object.fromEntries(byPath),
    rateLimitedCount: () => rateLimited,
    setFaults: (next) => faults.configure(next),
    setRateLimit: (perMinute) => {
      if (!Number.isInteger(perMinute) || perMinute < 1) {
        throw new RangeError(`rate limit must be a whole number >= 1, got ${perMinute}`);
      }
      limiter.limit = perMinute;
    },
    stop: async () => {
      for (const timer of pending) {
        clearTimeout(timer);
      }
      pending.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
