/**
 * Per-peer rate limits: a token bucket per key (the peer id). Each request
 * takes a token; tokens come back at `ratePerSecond` up to `burst`. A request
 * finding the bucket empty is refused with resource_exhausted, saying when
 * to retry. Buckets that refilled completely are forgotten when the map
 * grows past `maxKeys`.
 *
 * @module
 */
import type { Clock } from "../../shared/clock.ts";
import { AppError } from "../../shared/errors.ts";

/** Options of {@link RateLimiter}. */
export interface RateLimitOptions {
  /** Sustained requests per second per key; 0 disables the limit. */
  ratePerSecond: number;
  /** Requests a key may make at once after being idle. */
  burst: number;
  /** Time source. */
  clock: Clock;
  /** Keys tracked before idle ones are forgotten (default 10,000). */
  maxKeys?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Token buckets per key; see the module documentation. */
export class RateLimiter {
  readonly #options: Required<RateLimitOptions>;
  readonly #buckets = new Map<string, Bucket>();

  /** Creates a limiter with no keys yet. */
  constructor(options: RateLimitOptions) {
    this.#options = { maxKeys: 10_000, ...options };
  }

  /** Takes a token for `key`, or throws resource_exhausted `<action>: …`. */
  take(key: string, action: string): void {
    const { ratePerSecond, burst, clock } = this.#options;
    if (ratePerSecond <= 0) return;
    const now = clock.now();
    const bucket = this.#buckets.get(key) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * ratePerSecond);
    bucket.at = now;
    if (bucket.tokens < 1) {
      this.#buckets.set(key, bucket);
      const retryMs = Math.ceil(((1 - bucket.tokens) / ratePerSecond) * 1000);
      throw new AppError(
        "resource_exhausted",
        `${action}: rate limit of ${ratePerSecond} requests per second (burst ${burst}) exceeded; retry in ${retryMs} ms`,
        { details: { retryAfterMs: retryMs } },
      );
    }
    bucket.tokens -= 1;
    this.#buckets.set(key, bucket);
    if (this.#buckets.size > this.#options.maxKeys) this.#forgetIdle(now);
  }

  /** Keys tracked. */
  get size(): number {
    return this.#buckets.size;
  }

  #forgetIdle(now: number): void {
    const { ratePerSecond, burst } = this.#options;
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * ratePerSecond >= burst) {
        this.#buckets.delete(key);
      }
    }
  }
}

/** Counts running calls per key and refuses one past `limit` (concurrent syncs of one peer). */
export class ConcurrencyLimiter {
  readonly #running = new Map<string, number>();
  readonly #limit: number;

  /** At most `limit` at once per key. */
  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Takes a slot for `key`, or throws resource_exhausted; dispose the result to give it back. */
  acquire(key: string, action: string): Disposable {
    const running = this.#running.get(key) ?? 0;
    if (running >= this.#limit) {
      throw new AppError(
        "resource_exhausted",
        `${action}: it already has ${running} sync streams open (at most ${this.#limit} at once)`,
      );
    }
    this.#running.set(key, running + 1);
    let released = false;
    return {
      [Symbol.dispose]: () => {
        if (released) return;
        released = true;
        const left = (this.#running.get(key) ?? 1) - 1;
        if (left > 0) this.#running.set(key, left);
        else this.#running.delete(key);
      },
    };
  }

  /** Calls running for `key`. */
  running(key: string): number {
    return this.#running.get(key) ?? 0;
  }
}
