import { ApiClient, secondsHeader, type ApiClientOptions, type ApiDialect } from '../../http/api-client.ts';
import { offsetPages, type TimeWindow } from '../../http/paging.ts';
import type { Logger } from '../../logger.ts';
import {
  PD_MAX_LIMIT,
  PD_MAX_OFFSET_PLUS_LIMIT,
  PD_RATE_LIMIT_PER_MINUTE,
  type PdErrorBody,
  type PdIncident,
  type PdLogEntriesPage,
  type PdUser,
  type PdUsersPage,
  type PdLogEntry,
  type PdPage,
} from './api-types.ts';

export const pagerDutyDialect: ApiDialect = {
  sourceName: 'PagerDuty',
  credentialHint: 'PAGERDUTY_TOKEN',
  // ratelimit-reset rides on every response; it means "wait" only on a 429.
  retryAfterSeconds: (status, headers) =>
    (status === 429 ? secondsHeader(headers, 'ratelimit-reset') : undefined) ?? secondsHeader(headers, 'retry-after'),
  describeError(status, body) {
    try {
      const { error } = JSON.parse(body) as PdErrorBody;
      const details = error.errors?.length ? ` (${error.errors.join('; ')})` : '';
      return `${error.message ?? 'error'}${error.code !== undefined ? ` [code ${error.code}]` : ''}${details}`;
    } catch {
      return body.length > 0 ? body.slice(0, 200) : `HTTP ${status}`;
    }
  },
};

export interface PagerDutyClientOptions extends Pick<
  ApiClientOptions,
  | 'requestsPerMinute'
  | 'burstRequests'
  | 'rateWindowMs'
  | 'maxRetries'
  | 'backoffBaseMs'
  | 'timeoutMs'
  | 'signal'
  | 'onResponse'
> {
  apiUrl: string;
  token: string;
  logger: Logger;
}

type ListPath = '/incidents' | '/log_entries';
type PageOf<P extends ListPath> = P extends '/incidents' ? PdIncident : PdLogEntry;

/** Speaks PagerDuty REST API v2: auth, versioned Accept, offset paging within its caps. */
export class PagerDutyClient {
  private readonly api: ApiClient;

  constructor(options: PagerDutyClientOptions) {
    this.api = new ApiClient({
      requestsPerMinute: PD_RATE_LIMIT_PER_MINUTE,
      ...options,
      baseUrl: options.apiUrl,
      headers: {
        Authorization: `Token token=${options.token}`,
        Accept: 'application/vnd.pagerduty+json;version=2',
      },
      dialect: pagerDutyDialect,
    });
  }

  get requestCount(): number {
    return this.api.requestCount;
  }

  async getIncident(id: string): Promise<PdIncident> {
    const body = await this.api.get<{ incident: PdIncident }>(`/incidents/${encodeURIComponent(id)}`);
    return body.incident;
  }

  /**
   * The whole timeline of one incident (webhooks and incidents a window did
   * not include); with `includeIncident`, each entry carries the incident's
   * current state, which saves a request.
   */
  async *incidentLogEntries(id: string, includeIncident = false): AsyncGenerator<PdLogEntry[]> {
    for (let offset = 0; ; offset += PD_MAX_LIMIT) {
      const page = await this.api.get<PdLogEntriesPage>(`/incidents/${encodeURIComponent(id)}/log_entries`, {
        limit: PD_MAX_LIMIT,
        offset,
        is_overview: false,
        'include[]': includeIncident ? ['incidents'] : undefined,
      });
      yield page.log_entries;
      if (!page.more || offset + 2 * PD_MAX_LIMIT > PD_MAX_OFFSET_PLUS_LIMIT) {
        return;
      }
    }
  }

  /** Every user of the account with their time zone; lists are far below the 10,000-offset cap. */
  async *users(): AsyncGenerator<PdUser[]> {
    for (let offset = 0; offset + PD_MAX_LIMIT <= PD_MAX_OFFSET_PLUS_LIMIT; offset += PD_MAX_LIMIT) {
      const page = await this.api.get<PdUsersPage>('/users', { limit: PD_MAX_LIMIT, offset });
      yield page.users;
      if (!page.more) {
        return;
      }
    }
    throw new Error(
      `PagerDuty /users has more than ${PD_MAX_OFFSET_PLUS_LIMIT} users; they cannot be paged under the 10,000-offset cap`
    );
  }

  incidents(window: TimeWindow, onTotal?: (total: number) => void): AsyncGenerator<PdIncident[]> {
    return this.list('/incidents', window, { sort_by: 'created_at:asc', time_zone: 'UTC' }, onTotal);
  }

  logEntries(
    window: TimeWindow,
    includeIncidents: boolean,
    onTotal?: (total: number) => void
  ): AsyncGenerator<PdLogEntry[]> {
    return this.list(
      '/log_entries',
      window,
      { is_overview: false, time_zone: 'UTC', 'include[]': includeIncidents ? ['incidents'] : undefined },
      onTotal
    );
  }

  /** A list endpoint over [since, until), within PagerDuty's offset + limit <= 10,000. */
  private list<P extends ListPath>(
    path: P,
    window: TimeWindow,
    extra: Record<string, string | boolean | string[] | undefined>,
    onTotal?: (total: number) => void
  ): AsyncGenerator<Array<PageOf<P>>> {
    const key = path === '/incidents' ? 'incidents' : 'log_entries';
    return offsetPages<PageOf<P>>(window, {
      pageSize: PD_MAX_LIMIT,
      maxOffsetPlusLimit: PD_MAX_OFFSET_PLUS_LIMIT,
      what: `PagerDuty ${path}`,
      onTotal,
      fetch: async (part, offset, withTotal) => {
        const page = await this.api.get<PdPage & Record<string, Array<PageOf<P>>>>(path, {
          ...extra,
          since: part.since.toISOString(),
          until: part.until.toISOString(),
          limit: PD_MAX_LIMIT,
          offset,
          total: withTotal ? true : undefined,
        });
        return { items: page[key] ?? [], more: page.more === true, total: page.total ?? null };
      },
    });
  }
}
