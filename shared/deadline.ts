/**
 * Deadlines as abort signals, timed by an injected {@link Scheduler}: a call
 * given `deadline.signal` is cancelled when the time is up (with a
 * `deadline_exceeded` {@link AppError} as the reason) or when the parent
 * signal aborts. Tests drive the time through a fake scheduler instead of
 * waiting for it.
 *
 * ```ts
 * using d = deadline(scheduler, 5_000, { what: "Connecting to n0", signal: stop });
 * await client.connectToCentralNode(request, { signal: d.signal });
 * ```
 *
 * @module
 */
import { AppError } from "./errors.ts";
import type { Scheduler } from "./schedule.ts";

/** A running deadline; dispose it once the call is done (its timer stops). */
export interface Deadline extends Disposable {
  /** Aborts when the time is up or the parent signal aborts. */
  readonly signal: AbortSignal;
}

/** Options of {@link deadline}. */
export interface DeadlineOptions {
  /** What is timed, for the error: `{what}: no answer within 5 s`. */
  what: string;
  /** Aborting it aborts the deadline's signal too (with its reason). */
  signal?: AbortSignal | undefined;
}

/** A deadline `ms` from now (see the module documentation). */
export function deadline(scheduler: Scheduler, ms: number, options: DeadlineOptions): Deadline {
  const controller = new AbortController();
  const timer = new AbortController();
  const parent = options.signal;
  const onParent = () => controller.abort(parent?.reason);
  if (parent?.aborted) controller.abort(parent.reason);
  else parent?.addEventListener("abort", onParent, { once: true });
  void scheduler.sleep(ms, timer.signal).then(() => {
    if (timer.signal.aborted || controller.signal.aborted) return;
    controller.abort(
      new AppError("deadline_exceeded", `${options.what}: no answer within ${ms / 1000} s`),
    );
  });
  return {
    signal: controller.signal,
    [Symbol.dispose]() {
      timer.abort();
      parent?.removeEventListener("abort", onParent);
    },
  };
}
