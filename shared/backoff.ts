/**
 * Retry delays: cockatiel's exponential backoff, starting at one delay and
 * doubling up to a ceiling, with random jitter of ±20% so that clients
 * retrying after the same outage spread out.
 *
 * Cockatiel's retry policy itself is not used for long waits: its delay
 * cannot be cancelled, so a service stopping mid-wait would hang, and tests
 * could not drive it without real time. Callers wait through a
 * {@link Scheduler} instead and take each delay from here.
 *
 * @module
 */
import { ExponentialBackoff, type GeneratorFn, type IBackoff, noJitterGenerator } from "cockatiel";

/** Options of {@link createBackoff}. */
export interface BackoffOptions {
  /** First delay in ms (default 1000). */
  initialMs?: number;
  /** Ceiling in ms. */
  maxMs: number;
  /** Jitter as a fraction of each delay (default 0.2; 0 for none). */
  jitter?: number;
  /** Random numbers in [0, 1) (default `Math.random`). */
  random?: () => number;
}

/** A sequence of delays: read `delayMs`, then call `next()` for the following one. */
export interface Backoff {
  /** This delay in ms. */
  readonly delayMs: number;
  /** The following delay. */
  next(): Backoff;
}

/** The first delay of an exponential backoff; each `next()` doubles it up to `maxMs`. */
export function createBackoff(options: BackoffOptions): Backoff {
  const maxMs = options.maxMs;
  const initialMs = Math.min(options.initialMs ?? 1000, maxMs);
  const jitter = options.jitter ?? 0.2;
  const random = options.random ?? Math.random;
  const generator: GeneratorFn<number> = (attempts, generatorOptions) => {
    const [delay, next] = noJitterGenerator(attempts, generatorOptions);
    const spread = delay * jitter * (2 * random() - 1);
    return [Math.min(maxMs, Math.max(0, delay + spread)), next];
  };
  const factory = new ExponentialBackoff({ initialDelay: initialMs, maxDelay: maxMs, generator });
  return wrap(factory.next());
}

function wrap(backoff: IBackoff<unknown>): Backoff {
  return {
    delayMs: backoff.duration,
    next: () => wrap(backoff.next(undefined as never)),
  };
}
