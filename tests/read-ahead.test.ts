import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { readAhead } from '../collector/src/http/paging.ts';

/** A source of `count` pages that records when each was read and whether it was closed. */
function pages(count: number, options: { failAt?: number } = {}) {
  const state = { read: [] as number[], closed: false };
  async function* generate(): AsyncGenerator<number> {
    try {
      for (let page = 0; page < count; page += 1) {
        await sleep(1);
        if (page === options.failAt) {
          throw new Error(`page ${page} failed`);
        }
        state.read.push(page);
        yield page;
      }
    } finally {
      state.closed = true;
    }
  }
  return { source: generate(), state };
}

describe('readAhead', () => {
  it('yields every page in order while reading up to depth pages ahead of a slow consumer', async () => {
    const { source, state } = pages(20);
    const seen: number[] = [];
    let mostAhead = 0;
    for await (const page of readAhead(source, 5)) {
      // The consumer writes slowly: the reader goes on meanwhile, never more than 5 (+1 in hand) ahead.
      await sleep(15);
      mostAhead = Math.max(mostAhead, state.read.length - (page + 1));
      seen.push(page);
    }
    expect(seen).toEqual([...Array(20).keys()]);
    expect(mostAhead).toBeGreaterThanOrEqual(4);
    expect(mostAhead).toBeLessThanOrEqual(6);
  });

  it("hands over the pages read before a source's failure, then the failure", async () => {
    const { source } = pages(10, { failAt: 4 });
    const seen: number[] = [];
    await expect(async () => {
      for await (const page of readAhead(source, 3)) {
        seen.push(page);
      }
    }).rejects.toThrow('page 4 failed');
    expect(seen).toEqual([0, 1, 2, 3]);
  });

  it('closes the source and reads no further when the consumer stops', async () => {
    const { source, state } = pages(1000);
    await expect(async () => {
      for await (const page of readAhead(source, 3)) {
        if (page === 2) {
          throw new Error('write failed');
        }
      }
    }).rejects.toThrow('write failed');
    await sleep(50);
    expect(state.closed).toBe(true);
    expect(state.read.length).toBeLessThanOrEqual(2 + 3 + 2);
  });
});
