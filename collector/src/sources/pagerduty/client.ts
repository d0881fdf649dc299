import { ApiClient, secondsHeader, type ApiClientOptions, type ApiDialect } from '../../http/api-client.ts';
import type { Logger } from '../../logger.ts';
import {
  PD_MAX_LIMIT,
  PD_MAX_OFFSET_PLUS_LIMIT,
  PD_RATE_LIMIT_PER_MINUTE,
  type PdErrorBody,
  type PdIncident,
  type PdLogEntriesPage,
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

export interface TimeWindow {
  since: Date;
  until: Date;
}

export interface PagerDutyClientOptions
  extends Pick<
    ApiClientOptions,
    'requestsPerMinute' | 'burstRequests' | 'maxRetries' | 'backoffBaseMs' | 'timeoutMs' | 'signal' | 'onResponse'
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
      if (!page.more || offset + 2 * PD_MAX_LIMIT > PD_MAX_OFFSET_PLUS_LIMIT) return;
    }
  }

  incidents(window: TimeWindow, onTotal?: (total: number) => void): AsyncGenerator<PdIncident[]> {
    return this.list('/incidents', window, { sort_by: 'created_at:asc', time_zone: 'UTC' }, onTotal);
  }

  logEntries(window: TimeWindow, includeIncidents: boolean, onTotal?: (total: number) => void): AsyncGenerator<PdLogEntry[]> {
    return this.list(
      '/log_entries',
      window,
      { is_overview: false, time_zone: 'UTC', 'include[]': includeIncidents ? ['incidents'] : undefined },
      onTotal,
    );
  }

  /**
   * Pages through a list endpoint over [since, until). PagerDuty refuses
   * offset + limit > 10,000, so the first page asks for the total and a
   * window holding more than that is split in halves, recursively. Pages come
   * out in window order.
   */
  private async *list<P extends ListPath>(
    path: P,
    window: TimeWindow,
    extra: Record<string, string | boolean | string[] | undefined>,
    onTotal?: (total: number) => void,
  ): AsyncGenerator<PageOf<P>[]> {
    const key = path === '/incidents' ? 'incidents' : 'log_entries';
    const query = (offset: number, withTotal: boolean) => ({
      ...extra,
      since: window.since.toISOString(),
      until: window.until.toISOString(),
      limit: PD_MAX_LIMIT,
      offset,
      total: withTotal ? true : undefined,
    });
    const first = await this.api.get<PdPage & Record<string, PageOf<P>[]>>(path, query(0, true));
    if (first.total !== null && first.total > PD_MAX_OFFSET_PLUS_LIMIT) {
      const halves = splitWindow(window);
      if (!halves) {
        throw new Error(
          `PagerDuty ${path} has ${first.total} records in the one-second window at ${window.since.toISOString()}; it cannot be paged under the 10,000-offset cap`,
        );
      }
      for (const half of halves) yield* this.list(path, half, extra, onTotal);
      return;
    }
    onTotal?.(first.total ?? first[key]!.length);
    yield first[key] ?? [];
    let page = first;
    for (let offset = PD_MAX_LIMIT; page.more; offset += PD_MAX_LIMIT) {
      if (offset + PD_MAX_LIMIT > PD_MAX_OFFSET_PLUS_LIMIT) {
        // The window grew past the cap while we read it. Upserts are
        // idempotent, so reading it again in halves is safe.
        const halves = splitWindow(window);
        if (!halves) throw new Error(`PagerDuty ${path} window at ${window.since.toISOString()} exceeds the 10,000-offset cap`);
        for (const half of halves) yield* this.list(path, half, extra, onTotal);
        return;
      }
      page = await this.api.get<PdPage & Record<string, PageOf<P>[]>>(path, query(offset, false));
      yield page[key] ?? [];
    }
  }
}

/** Halves of a window on whole seconds, or undefined when it cannot be split further. */
export function splitWindow(window: TimeWindow): [TimeWindow, TimeWindow] | undefined {
  const seconds = Math.floor((window.until.getTime() - window.since.getTime()) / 1000);
  if (seconds < 2) return undefined;
  const middle = new Date(window.since.getTime() + Math.floor(seconds / 2) * 1000);
  return [
    { since: window.since, until: middle },
    { since: middle, until: window.until },
  ];
}

/** Consecutive windows of at most `maxDays` covering [since, until). */
export function chunkWindow(window: TimeWindow, maxDays: number): TimeWindow[] {
  const step = maxDays * 86_400_000;
  const windows: TimeWindow[] = [];
  for (let start = window.since.getTime(); start < window.until.getTime(); start += step) {
    windows.push({ since: new Date(start), until: new Date(Math.min(start + step, window.until.getTime())) });
  }
  return windows;
}
