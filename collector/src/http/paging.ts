/**
 * The paging styles of the sources' list endpoints, beside the client that
 * sends the requests: offset paging over a time window that is split when
 * the API caps the offset (PagerDuty), and next-page tokens (Jira). A new
 * source describes one request; these walk the pages.
 */

export interface TimeWindow {
  since: Date;
  until: Date;
}

/** One page of an offset-paged list. */
export interface OffsetPage<T> {
  items: T[];
  more: boolean;
  /** The number of records in the whole window, when it was asked for (first page). */
  total: number | null;
}

export interface OffsetPaging<T> {
  pageSize: number;
  /** The API refuses offset + limit past this. */
  maxOffsetPlusLimit: number;
  /** One request; `withTotal` asks for the window's record count. */
  fetch(window: TimeWindow, offset: number, withTotal: boolean): Promise<OffsetPage<T>>;
  /** Told each (sub)window's record count, for progress. */
  onTotal?: (total: number) => void;
  /** Names the list in errors, e.g. 'PagerDuty /incidents'. */
  what: string;
}

/**
 * Pages through [since, until). The first page asks for the total; a window
 * holding more than the offset cap is split in halves, recursively, and one
 * that grows past the cap while it is read is read again in halves (upserts
 * make that safe). Pages come out in window order.
 */
export async function* offsetPages<T>(window: TimeWindow, paging: OffsetPaging<T>): AsyncGenerator<T[]> {
  const { pageSize, maxOffsetPlusLimit } = paging;
  const first = await paging.fetch(window, 0, true);
  if (first.total !== null && first.total > maxOffsetPlusLimit) {
    const halves = splitWindow(window);
    if (!halves) {
      throw new Error(
        `${paging.what} has ${first.total} records in the one-second window at ${window.since.toISOString()}; it cannot be paged under the ${maxOffsetPlusLimit}-offset cap`
      );
    }
    for (const half of halves) {
      yield* offsetPages(half, paging);
    }
    return;
  }
  paging.onTotal?.(first.total ?? first.items.length);
  yield first.items;
  let page = first;
  for (let offset = pageSize; page.more; offset += pageSize) {
    if (offset + pageSize > maxOffsetPlusLimit) {
      const halves = splitWindow(window);
      if (!halves) {
        throw new Error(
          `${paging.what} window at ${window.since.toISOString()} exceeds the ${maxOffsetPlusLimit}-offset cap`
        );
      }
      for (const half of halves) {
        yield* offsetPages(half, paging);
      }
      return;
    }
    page = await paging.fetch(window, offset, false);
    yield page.items;
  }
}

/**
 * Pages that each name the next (`nextPageToken`): `fetch` gets the token of
 * the page to read (none for the first) and returns the page and the next
 * token, none after the last page.
 */
export async function* tokenPages<P>(
  fetch: (token: string | undefined) => Promise<{ page: P; next: string | undefined }>,
  what: string
): AsyncGenerator<P> {
  const seen = new Set<string>();
  let token: string | undefined;
  for (;;) {
    const { page, next } = await fetch(token);
    yield page;
    if (next === undefined) {
      return;
    }
    // A token seen before would page forever; real APIs never do that, a broken proxy might.
    if (seen.has(next)) {
      throw new Error(`${what} returned the same nextPageToken twice`);
    }
    seen.add(next);
    token = next;
  }
}

/** Halves of a window on whole seconds, or undefined when it cannot be split further. */
export function splitWindow(window: TimeWindow): [TimeWindow, TimeWindow] | undefined {
  const seconds = Math.floor((window.until.getTime() - window.since.getTime()) / 1000);
  if (seconds < 2) {
    return undefined;
  }
  const middle = new Date(window.since.getTime() + Math.floor(seconds / 2) * 1000);
  return [
    { since: window.since, until: middle },
    { since: middle, until: window.until },
  ];
}

/** Consecutive windows of at most `maxDays` covering [since, until); one window without a maximum. */
export function chunkWindow(window: TimeWindow, maxDays?: number): TimeWindow[] {
  if (window.since >= window.until) {
    return [];
  }
  if (maxDays === undefined) {
    return [window];
  }
  const step = maxDays * 86_400_000;
  const windows: TimeWindow[] = [];
  for (let start = window.since.getTime(); start < window.until.getTime(); start += step) {
    windows.push({ since: new Date(start), until: new Date(Math.min(start + step, window.until.getTime())) });
  }
  return windows;
}

/**
 * Yields the pages of `source` in order while it reads up to `depth` pages
 * ahead, so requests go on while the consumer writes: a batch written
 * every few thousand records does not hold up the fetch of the next pages.
 * Requests stay serial. A failure of the source comes out after the pages
 * read before it; a consumer that stops early closes the source.
 */
export async function* readAhead<T>(source: AsyncIterator<T>, depth: number): AsyncGenerator<T> {
  const ready: T[] = [];
  let failure: { error: unknown } | undefined;
  let finished = false;
  let stopped = false;
  let pageReady: (() => void) | undefined;
  let roomFreed: (() => void) | undefined;
  const wakeConsumer = () => {
    pageReady?.();
    pageReady = undefined;
  };
  const wakeReader = () => {
    roomFreed?.();
    roomFreed = undefined;
  };

  const reader = async () => {
    try {
      while (!stopped) {
        if (ready.length >= depth) {
          await new Promise<void>((resolve) => (roomFreed = resolve));
          continue;
        }
        const result = await source.next();
        if (result.done) {
          return;
        }
        ready.push(result.value);
        wakeConsumer();
      }
      await source.return?.();
    } catch (error) {
      failure = { error };
    } finally {
      finished = true;
      wakeConsumer();
    }
  };
  // It never rejects: its failure is handed to the consumer in order.
  void reader();

  try {
    for (;;) {
      if (ready.length > 0) {
        const page = ready.shift()!;
        wakeReader();
        yield page;
      } else if (failure) {
        throw failure.error;
      } else if (finished) {
        return;
      } else {
        await new Promise<void>((resolve) => (pageReady = resolve));
      }
    }
  } finally {
    stopped = true;
    wakeReader();
  }
}
