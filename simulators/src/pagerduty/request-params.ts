/**
 * How the simulated PagerDuty reads a request: PagerDuty's error shape, and
 * the parsing and validation of windows, paging, filters and sort orders.
 */
import type { IncidentSort, IncidentSortField } from './queries.ts';

export const ACCEPT_V2 = 'application/vnd.pagerduty+json;version=2';
const DEFAULT_LIMIT = 25;
/** Limits of PagerDuty's REST API (developer.pagerduty.com: Pagination, Rate Limits). */
export const MAX_LIMIT = 100;
export const MAX_OFFSET_PLUS_LIMIT = 10_000;
export const MAX_WINDOW_DAYS = 180;
export const RATE_LIMIT_PER_MINUTE = 960;
const DAY_MS = 86_400_000;
export const STATUSES = new Set(['triggered', 'acknowledged', 'resolved']);
export const URGENCIES = new Set(['high', 'low']);
/** What GET /users accepts in include[]; the simulator answers with references either way. */
export const USER_INCLUDES = new Set(['contact_methods', 'notification_rules', 'teams', 'subdomains']);
const SORT_FIELDS = new Set<IncidentSortField>(['incident_number', 'created_at', 'resolved_at', 'urgency']);

/** An answer in PagerDuty's error shape. */
export class PagerDutyError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly errors?: string[]
  ) {
    super(message);
  }

  body(): unknown {
    return { error: { message: this.message, code: this.code, ...(this.errors ? { errors: this.errors } : {}) } };
  }
}

export const invalidInput = (detail: string) => new PagerDutyError(400, 2001, 'Invalid Input Provided', [detail]);
export const notFound = () => new PagerDutyError(404, 2100, 'Not Found');

function addMonths(ms: number, months: number): number {
  const date = new Date(ms);
  date.setUTCMonth(date.getUTCMonth() + months);
  return date.getTime();
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

export function parseTime(params: URLSearchParams, name: string): number | undefined {
  const text = params.get(name);
  if (text === null || text === '') {
    return undefined;
  }
  // A date-time without an offset is read as UTC (PagerDuty would use the account's zone).
  const normalized = /[T ]\d{2}:\d{2}/.test(text) && !/(?:Z|[+-]\d{2}:?\d{2})$/i.test(text) ? `${text}Z` : text;
  const ms = ISO_TIME.test(text) ? Date.parse(normalized.replace(' ', 'T')) : Number.NaN;
  if (Number.isNaN(ms)) {
    const hint = text.includes(' ') ? " (a '+' in a query string must be sent as %2B)" : '';
    throw invalidInput(`'${name}' is not an ISO 8601 date-time: ${JSON.stringify(text)}${hint}`);
  }
  return ms;
}

export interface Window {
  since?: number;
  until?: number;
}

/** PagerDuty's default window: a month, ending now or at the given bound. */
export function defaultedWindow(params: URLSearchParams, nowMs: number): Required<Window> {
  const since = parseTime(params, 'since');
  const until = parseTime(params, 'until');
  const window =
    since === undefined && until === undefined
      ? { since: addMonths(nowMs, -1), until: nowMs }
      : since === undefined
        ? { since: addMonths(until!, -1), until: until! }
        : until === undefined
          ? { since, until: addMonths(since, 1) }
          : { since, until };
  if (window.until < window.since) {
    throw invalidInput("'until' must not be before 'since'");
  }
  return window;
}

export function incidentWindow(params: URLSearchParams, nowMs: number): Window {
  const dateRange = params.get('date_range');
  if (dateRange !== null) {
    if (dateRange !== 'all') {
      throw invalidInput(`'date_range' must be 'all', got ${JSON.stringify(dateRange)}`);
    }
    return {};
  }
  const window = defaultedWindow(params, nowMs);
  if (window.until - window.since > MAX_WINDOW_DAYS * DAY_MS) {
    throw invalidInput(`The date range between 'since' and 'until' cannot exceed 6 months (${MAX_WINDOW_DAYS} days)`);
  }
  return window;
}

export interface Paging {
  limit: number;
  offset: number;
  total: boolean;
}

export function parsePaging(params: URLSearchParams): Paging {
  const whole = (name: string, fallback: number) => {
    const text = params.get(name);
    if (text === null || text === '') {
      return fallback;
    }
    if (!/^\d{1,9}$/.test(text)) {
      throw invalidInput(`'${name}' must be a whole number, got ${JSON.stringify(text)}`);
    }
    return Number(text);
  };
  const limit = whole('limit', DEFAULT_LIMIT);
  const offset = whole('offset', 0);
  if (limit < 1 || limit > MAX_LIMIT) {
    throw invalidInput(`'limit' must be between 1 and ${MAX_LIMIT}, got ${limit}`);
  }
  if (offset + limit > MAX_OFFSET_PLUS_LIMIT) {
    throw new PagerDutyError(400, 2002, 'Arguments Caused Error', [
      `Offset+limit exceeds maximum allowed value of ${MAX_OFFSET_PLUS_LIMIT}. Please try to refine your search to reduce the returned set of records below this number, like adding a date range.`,
    ]);
  }
  return { limit, offset, total: params.get('total') === 'true' };
}

export function setParam(
  params: URLSearchParams,
  name: string,
  allowed?: ReadonlySet<string>,
  rule?: string
): Set<string> | undefined {
  const values = params.getAll(name);
  if (values.length === 0) {
    return undefined;
  }
  if (allowed) {
    for (const value of values) {
      if (!allowed.has(value)) {
        throw invalidInput(rule!);
      }
    }
  }
  return new Set(values);
}

export function parseSort(params: URLSearchParams): IncidentSort[] | undefined {
  const parts = [...params.getAll('sort_by'), ...params.getAll('sort_by[]')]
    .flatMap((v) => v.split(','))
    .filter(Boolean);
  if (parts.length === 0) {
    return undefined;
  }
  if (parts.length > 2) {
    throw invalidInput("'sort_by' takes at most two fields");
  }
  return parts.map((part) => {
    const [field, direction = 'asc', extra] = part.split(':');
    if (
      !SORT_FIELDS.has(field as IncidentSortField) ||
      (direction !== 'asc' && direction !== 'desc') ||
      extra !== undefined
    ) {
      throw invalidInput(
        `'sort_by' must be incident_number, created_at, resolved_at or urgency, optionally :asc or :desc; got ${JSON.stringify(part)}`
      );
    }
    return { field: field as IncidentSortField, descending: direction === 'desc' };
  });
}
