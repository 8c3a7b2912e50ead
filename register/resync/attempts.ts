/**
 * One full sync with the peer, as `PeerSync` keeps it, what its span says
 * of it ({@link attemptAttributes}), and how it is logged: a failure at warning, a refusal (the peer says the request is
 * invalid) at error once, then at debug while it repeats; a success at info
 * when it changed something, recovered from failures or was not a routine
 * interval run (else at debug), with the peer's counts.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import type { Attributes } from "../../shared/telemetry/mod.ts";
import type { BulkAdvertiseResponse } from "../../shared/contracts/advertisements.ts";
import type { AppError } from "../../shared/errors.ts";

/** What started a full sync. */
export type SyncTrigger = "startup" | "interval" | "manual" | "retry";

/** The outcome of one full sync. */
export interface Attempt {
  /** What started it. */
  trigger: SyncTrigger;
  /** When it ended (clock ms). */
  finishedAt: number;
  /** How long it took. */
  durationMs: number;
  /** Registers sent, once read. */
  registerCount: number | null;
  /** Why it failed. */
  error: AppError | undefined;
  /** The peer refused the request as invalid: not retried. */
  rejected: boolean;
  /** The peer's counts, after a success. */
  result: BulkAdvertiseResponse | undefined;
  /** How many skipped changes had happened when the registers were read. */
  changesSeen: number;
}

/**
 * Logs a failed attempt, the `failures`-th in a row; returns the refusal
 * now logged at error level (`rejectionLogged` is the last one).
 */
export function logFailure(
  log: Logger,
  attempt: Attempt,
  state: { failures: number; rejectionLogged: string | undefined },
): string | undefined {
  const facts = {
    trigger: attempt.trigger,
    failures: state.failures,
    error: attempt.error?.message ?? "",
    ms: Math.round(attempt.durationMs),
  };
  if (!attempt.rejected) {
    log.warn("Full sync with the peer failed ({trigger}, attempt {failures}): {error}", facts);
    return state.rejectionLogged;
  }
  // Logged at error level once; the same refusal again (each interval) only at debug.
  const level = facts.error === state.rejectionLogged ? "debug" : "error";
  log[level]("Full sync with the peer refused ({trigger}): {error}", facts);
  return facts.error;
}

/** Logs a successful attempt, which ended `recoveredAfter` failures in a row (0: none). */
export function logSuccess(log: Logger, attempt: Attempt, recoveredAfter: number): void {
  const r = attempt.result!;
  const changed = r.added + r.updated + r.removed > 0;
  const facts = {
    trigger: attempt.trigger,
    count: attempt.registerCount,
    added: r.added,
    updated: r.updated,
    removed: r.removed,
    unchanged: r.unchanged,
    ms: Math.round(attempt.durationMs),
    failures: recoveredAfter,
  };
  const counts =
    "{count} registers, {added} added, {updated} updated, {removed} removed, {unchanged} unchanged in {ms} ms";
  if (recoveredAfter > 0) {
    log.info(
      `Full sync with the peer recovered after {failures} failed attempts ({trigger}): ${counts}`,
      facts,
    );
    return;
  }
  log[changed || attempt.trigger !== "interval" ? "info" : "debug"](
    `Full sync with the peer ({trigger}): ${counts}`,
    facts,
  );
}

/**
 * The attributes of a `register.reconcile` span once its attempt ended:
 * `sorcha.reconcile.outcome` (ok or failed), `sorcha.reconcile.registers`
 * (sent) and the peer's counts `sorcha.reconcile.added`, `.updated`,
 * `.removed`, `.unchanged`.
 */
export function attemptAttributes(attempt: Attempt): Attributes {
  const r = attempt.result;
  return {
    "sorcha.reconcile.outcome": attempt.error ? "failed" : "ok",
    ...(attempt.registerCount !== null
      ? { "sorcha.reconcile.registers": attempt.registerCount }
      : {}),
    ...(r
      ? {
        "sorcha.reconcile.added": r.added,
        "sorcha.reconcile.updated": r.updated,
        "sorcha.reconcile.removed": r.removed,
        "sorcha.reconcile.unchanged": r.unchanged,
      }
      : {}),
  };
}
