/**
 * Time-driven work as a dependency: code that waits or repeats takes a
 * {@link Scheduler}, so tests drive it by hand instead of sleeping.
 *
 * The system scheduler repeats work with `Deno.cron` when the interval is a
 * whole number of minutes that divides an hour (or of hours that divides a
 * day), and with a timer otherwise (sub-minute intervals in tests, 90 s,
 * 7 min). Every run starts after a random delay (jitter) of up to a tenth of
 * the interval, at most 30 s, so replicas that share a tick do not all call
 * out at the same instant. Runs of one task never overlap.
 *
 * @module
 */
import { type Clock, systemClock } from "./clock.ts";

/** A repeating task started by {@link Scheduler.every}. */
export interface Periodic {
  /** `cron` (Deno.cron) or `timer`. */
  readonly kind: "cron" | "timer";
  /** The cron expression, or `every <n> s` for a timer. */
  readonly schedule: string;
  /** When the next run is due (before its jitter), in ms since the epoch; undefined once stopped. */
  nextRunAt(): number | undefined;
}

/** Options of {@link Scheduler.every}. */
export interface EveryOptions {
  /** Stops the repetition (and a run's pending jitter delay). */
  signal: AbortSignal;
}

/** Waiting and repeating. */
export interface Scheduler {
  /** Resolves after `ms`, or at once when `signal` aborts (it never rejects). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Runs `task` every `intervalMs` until `options.signal` aborts; runs never overlap. */
  every(
    name: string,
    intervalMs: number,
    task: () => Promise<void>,
    options: EveryOptions,
  ): Periodic;
}

/** Largest jitter before a run, in ms. */
export const MAX_JITTER_MS = 30_000;

/** The jitter bound for an interval: a tenth of it, at most {@link MAX_JITTER_MS}. */
export function jitterBound(intervalMs: number): number {
  return Math.min(intervalMs / 10, MAX_JITTER_MS);
}

/**
 * The `Deno.cron` expression that repeats every `intervalMs`, when one does
 * so evenly: whole minutes dividing an hour, whole hours dividing a day.
 * Undefined otherwise (a timer is used).
 */
export function cronScheduleFor(intervalMs: number): string | undefined {
  const minutes = intervalMs / 60_000;
  if (!Number.isInteger(minutes) || minutes < 1) return undefined;
  if (minutes < 60) return 60 % minutes === 0 ? `*/${minutes} * * * *` : undefined;
  const hours = minutes / 60;
  if (!Number.isInteger(hours) || 24 % hours !== 0) return undefined;
  return hours === 24 ? "0 0 * * *" : `0 */${hours} * * *`;
}

/** The next time (ms since the epoch, UTC) after `now` at which `every intervalMs` cron fires. */
export function nextCronTick(now: number, intervalMs: number): number {
  return Math.floor(now / intervalMs) * intervalMs + intervalMs;
}

/** Options of {@link createSystemScheduler}. */
export interface SystemSchedulerOptions {
  /** The clock (default: the system clock). */
  clock?: Clock;
  /** Random numbers in [0, 1) for jitter (default `Math.random`). */
  random?: () => number;
  /** Use timers only, never `Deno.cron` (default false). */
  timersOnly?: boolean;
}

let cronNames = 0;

/** The real scheduler: timers, and `Deno.cron` for intervals it can express. */
export function createSystemScheduler(options: SystemSchedulerOptions = {}): Scheduler {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;

  function sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  function every(
    name: string,
    intervalMs: number,
    task: () => Promise<void>,
    { signal }: EveryOptions,
  ): Periodic {
    const jitter = () => random() * jitterBound(intervalMs);
    const cron = options.timersOnly ? undefined : cronScheduleFor(intervalMs);
    if (cron) {
      // Deno.cron names are unique per process; the counter keeps test apps apart.
      Deno.cron(`${name}-${++cronNames}`, cron, { signal }, async () => {
        await sleep(jitter(), signal);
        if (!signal.aborted) await task().catch(() => {/* tasks report their own failures */});
      });
      return {
        kind: "cron",
        schedule: cron,
        nextRunAt: () => signal.aborted ? undefined : nextCronTick(clock.now(), intervalMs),
      };
    }
    let next: number | undefined = clock.now() + intervalMs;
    void (async () => {
      while (!signal.aborted) {
        await sleep(next! - clock.now() + jitter(), signal);
        if (signal.aborted) break;
        try {
          await task();
        } catch {
          // Tasks report their own failures; one failure must not stop the repetition.
        }
        next = clock.now() + intervalMs;
      }
      next = undefined;
    })();
    return {
      kind: "timer",
      schedule: `every ${intervalMs / 1000} s`,
      nextRunAt: () => signal.aborted ? undefined : next,
    };
  }

  return { sleep, every };
}
