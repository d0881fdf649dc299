/**
 * What a busy, imperfect PagerDuty does to a client: a rate limit per token
 * over a sliding window, and seeded faults (server errors, slow answers,
 * dropped connections, truncated bodies).
 */
import { mulberry32 } from '../random.ts';

export interface FaultOptions {
  /** Seed of the fault draws; the same seed and request sequence fail the same way. */
  seed?: number;
  /** Share of requests answered 500, 502 or 503. */
  serverErrorRate?: number;
  /** Share of requests answered after `slowMs`. */
  slowRate?: number;
  /** Delay of a slow answer; default 2000 ms. */
  slowMs?: number;
  /** Share of requests whose connection is destroyed before any response. */
  dropRate?: number;
  /** Share of responses cut in half after a full content-length header. */
  truncateRate?: number;
}

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  resetSeconds: number;
}

/** A sliding-window log per token: admitted requests count, refused ones do not. */
export class RateLimiter {
  private readonly admitted = new Map<string, number[]>();

  constructor(
    public limit: number,
    private readonly windowMs: number
  ) {}

  take(key: string, nowMs: number): RateDecision {
    let times = this.admitted.get(key);
    if (!times) {
      this.admitted.set(key, (times = []));
    }
    while (times.length > 0 && times[0]! <= nowMs - this.windowMs) {
      times.shift();
    }
    const allowed = times.length < this.limit;
    if (allowed) {
      times.push(nowMs);
    }
    const oldest = times[0];
    return {
      allowed,
      limit: this.limit,
      remaining: Math.max(0, this.limit - times.length),
      resetSeconds:
        oldest === undefined
          ? Math.ceil(this.windowMs / 1000)
          : Math.max(1, Math.ceil((oldest + this.windowMs - nowMs) / 1000)),
    };
  }
}

export type Fault = { kind: 'none' | 'drop' | 'truncate' } | { kind: 'error'; status: number };

export class FaultInjector {
  private random: () => number = () => 0;
  private faults: FaultOptions = {};

  configure(faults: FaultOptions | undefined): void {
    this.faults = faults ?? {};
    this.random = mulberry32(this.faults.seed ?? 1);
  }

  draw(): { fault: Fault; delayMs: number } {
    const f = this.faults;
    const r = this.random();
    const delayMs = this.random() < (f.slowRate ?? 0) ? (f.slowMs ?? 2000) : 0;
    let edge = f.serverErrorRate ?? 0;
    if (r < edge) {
      return { fault: { kind: 'error', status: [500, 502, 503][Math.floor(this.random() * 3)]! }, delayMs };
    }
    edge += f.dropRate ?? 0;
    if (r < edge) {
      return { fault: { kind: 'drop' }, delayMs };
    }
    edge += f.truncateRate ?? 0;
    if (r < edge) {
      return { fault: { kind: 'truncate' }, delayMs };
    }
    return { fault: { kind: 'none' }, delayMs };
  }
}
