import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError, AuthError, InterruptedError } from '../errors.ts';
import type { Logger } from '../logger.ts';

/** What a source tells the shared client about its API's conventions. */
export interface ApiDialect {
  /** 'PagerDuty', 'Jira': used in messages. */
  sourceName: string;
  /** The variable a user fixes when the API answers 401/403. */
  credentialHint: string;
  /** Seconds to wait, from a 429/503 response's headers, or undefined to back off. */
  retryAfterSeconds(status: number, headers: Headers): number | undefined;
  /** A one-line description of an error body, without echoing credentials. */
  describeError(status: number, body: string): string;
}

export interface ApiClientOptions {
  baseUrl: string;
  /** Sent with every request (authorization, accept...). Never logged. */
  headers: Record<string, string>;
  dialect: ApiDialect;
  logger: Logger;
  /**
   * Client-side pacing: a token bucket at this rate, and at most this many
   * requests in any minute, counted over a sliding window as the server does.
   */
  requestsPerMinute?: number;
  /**
   * Length of the server's sliding window; default a minute. A benchmark that
   * scales the clock shortens it with the server's.
   */
  rateWindowMs?: number;
  /**
   * Size of the bucket: how many requests may go at once before the pacing
   * applies. Default a minute's worth; a long-running caller that must not
   * spend the server's window in one burst (webhook refreshes) sets it small.
   */
  burstRequests?: number;
  /** Retries of one request after the first attempt. */
  maxRetries?: number;
  /** Give up retrying a request once this much time has passed since its first attempt. */
  maxRetryMs?: number;
  /** First backoff step; doubles each attempt, with full jitter. */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Observes every response (for metrics and statistics). */
  onResponse?: (event: ApiResponseEvent) => void;
}

/** One answer of an API, or a request that got none. */
export interface ApiResponseEvent {
  status: number | 'network-error';
  path: string;
}

type Query = Record<string, string | number | boolean | readonly string[] | undefined>;

class RetryableError extends Error {
  constructor(
    message: string,
    readonly waitSeconds?: number
  ) {
    super(message);
  }
}

/**
 * The one HTTP client every source uses: serial requests per credential,
 * a token bucket under the published rate limit, bounded retries with
 * exponential backoff and full jitter on 429, 5xx, resets, timeouts and
 * truncated bodies. 401/403 stop with a message naming the variable to fix;
 * other 4xx are not retried.
 */
export class ApiClient {
  private readonly options: Required<Omit<ApiClientOptions, 'signal' | 'onResponse'>> &
    Pick<ApiClientOptions, 'signal' | 'onResponse'>;
  private queue: Promise<unknown> = Promise.resolve();
  private tokens: number;
  /** Pacing runs on the monotonic clock: a step of the wall clock (NTP, a VM resumed) must not stall a sync. */
  private lastRefill = performance.now();
  /**
   * When each request of the current window ended, oldest first: no earlier
   * than the server counted it, so a slot the window frees here is free there.
   */
  private readonly windowEnds: number[] = [];
  requestCount = 0;

  constructor(options: ApiClientOptions) {
    this.options = {
      requestsPerMinute: 960,
      maxRetries: 8,
      maxRetryMs: 5 * 60_000,
      rateWindowMs: 60_000,
      backoffBaseMs: 500,
      backoffCapMs: 30_000,
      timeoutMs: 30_000,
      ...options,
      burstRequests: options.burstRequests ?? options.requestsPerMinute ?? 960,
      baseUrl: options.baseUrl.replace(/\/+$/, ''),
    };
    this.tokens = this.options.burstRequests;
  }

  get<T>(path: string, query: Query = {}): Promise<T> {
    return this.enqueue(() => this.send<T>('GET', path, query, undefined));
  }

  post<T>(path: string, body: unknown, query: Query = {}): Promise<T> {
    return this.enqueue(() => this.send<T>('POST', path, query, body));
  }

  /** Requests are serial per client (one client per credential). */
  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const result = this.queue.then(task, task);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /**
   * Waits for the bucket and the window. The bucket alone would let a full
   * bucket go out right after a minute at the rate, twice what the server's
   * window admits, and each 429 then costs a wait for its reset.
   */
  private async takeToken(): Promise<void> {
    const { requestsPerMinute, rateWindowMs, burstRequests } = this.options;
    const perMs = requestsPerMinute / 60_000;
    const windowLimit = Math.max(1, Math.floor(perMs * rateWindowMs));
    for (;;) {
      const now = performance.now();
      this.tokens = Math.min(burstRequests, this.tokens + (now - this.lastRefill) * perMs);
      this.lastRefill = now;
      while (this.windowEnds.length > 0 && this.windowEnds[0]! <= now - rateWindowMs) {
        this.windowEnds.shift();
      }
      const windowWait = this.windowEnds.length >= windowLimit ? this.windowEnds[0]! + rateWindowMs - now : 0;
      const bucketWait = this.tokens >= 1 ? 0 : Math.ceil((1 - this.tokens) / perMs);
      if (windowWait <= 0 && bucketWait === 0) {
        this.tokens -= 1;
        return;
      }
      await this.pause(Math.max(windowWait, bucketWait));
    }
  }

  private async pause(ms: number): Promise<void> {
    try {
      await sleep(ms, undefined, { signal: this.options.signal });
    } catch {
      throw new InterruptedError();
    }
  }

  private url(path: string, query: Query): string {
    const url = new URL(this.options.baseUrl + path);
    for (const [key, value] of Object.entries(query)) {
      if (value === undefined) {
        continue;
      }
      if (Array.isArray(value)) {
        for (const item of value) {
          url.searchParams.append(key, item);
        }
      } else {
        url.searchParams.append(key, String(value));
      }
    }
    return url.toString();
  }

  private async send<T>(method: string, path: string, query: Query, body: unknown): Promise<T> {
    const { dialect, logger } = this.options;
    const started = performance.now();
    for (let attempt = 0; ; attempt += 1) {
      if (this.options.signal?.aborted) {
        throw new InterruptedError();
      }
      await this.takeToken();
      try {
        return await this.attempt<T>(method, path, query, body);
      } catch (error) {
        if (!(error instanceof RetryableError)) {
          throw error;
        }
        const elapsed = performance.now() - started;
        if (attempt >= this.options.maxRetries || elapsed >= this.options.maxRetryMs) {
          throw new ApiError(
            `${dialect.sourceName} ${method} ${path} failed after ${attempt + 1} attempts: ${error.message}`,
            undefined,
            { cause: error }
          );
        }
        const backoff = Math.min(this.options.backoffCapMs, this.options.backoffBaseMs * 2 ** attempt);
        const waitMs =
          error.waitSeconds !== undefined ? Math.max(0, error.waitSeconds * 1000) : Math.random() * backoff;
        logger.warn(
          { source: dialect.sourceName, path, attempt: attempt + 1, waitMs: Math.round(waitMs), reason: error.message },
          'request failed; retrying'
        );
        await this.pause(Math.min(waitMs, Math.max(0, this.options.maxRetryMs - elapsed)));
      }
    }
  }

  private async attempt<T>(method: string, path: string, query: Query, body: unknown): Promise<T> {
    const { dialect } = this.options;
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const signal = this.options.signal ? AbortSignal.any([this.options.signal, timeout]) : timeout;
    this.requestCount += 1;
    let response: Response;
    let text: string;
    try {
      response = await fetch(this.url(path, query), {
        method,
        headers:
          body === undefined ? this.options.headers : { ...this.options.headers, 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
      text = await response.text();
    } catch (error) {
      this.options.onResponse?.({ status: 'network-error', path });
      if (this.options.signal?.aborted) {
        throw new InterruptedError();
      }
      throw new RetryableError(networkReason(error));
    } finally {
      this.windowEnds.push(performance.now());
    }
    this.options.onResponse?.({ status: response.status, path });

    if (response.ok) {
      try {
        return JSON.parse(text) as T;
      } catch {
        // A body cut short by a proxy or a reset parses as invalid JSON.
        throw new RetryableError(`response body is not complete JSON (${text.length} bytes)`);
      }
    }
    const description = dialect.describeError(response.status, text);
    if (response.status === 401 || response.status === 403) {
      throw new AuthError(
        `${dialect.sourceName} refused the credentials (HTTP ${response.status}: ${description}); check ${dialect.credentialHint}`
      );
    }
    if (response.status === 429 || response.status >= 500) {
      const wait =
        response.status === 429 || response.status === 503
          ? dialect.retryAfterSeconds(response.status, response.headers)
          : undefined;
      throw new RetryableError(`HTTP ${response.status}: ${description}`, wait);
    }
    throw new ApiError(
      `${dialect.sourceName} ${method} ${path} answered HTTP ${response.status}: ${description}`,
      response.status
    );
  }
}

function networkReason(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError') {
      return 'request timed out';
    }
    const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? error.message;
  }
  return String(error);
}

/** A header holding seconds (`Retry-After: 30`, `ratelimit-reset: 12`), if present and sane. */
export function secondsHeader(headers: Headers, name: string): number | undefined {
  const value = headers.get(name);
  if (value === null) {
    return undefined;
  }
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) {
    return seconds;
  }
  // Retry-After may also be an HTTP date.
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - Date.now()) / 1000);
}
