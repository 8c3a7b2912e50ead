/**
 * Keeping the peer's local advertisements equal to the registers' truth.
 *
 * - Immediate notification: a created, changed or deleted register is sent to
 *   the peer at once (advertise or withdraw). A failure is logged and starts
 *   the retry loop; it never fails the user's request. While the retry loop
 *   runs, changes are not sent one by one: its next full sync carries them.
 * - Full sync: every register with `advertise: true` (sorted by id, with its
 *   real `isPublic` and versions) sent as one `fullSync` bulk request, or in
 *   parts committed as one by the last (`full_sync_request.ts`), so the peer
 *   removes what is missing only once it knows the whole set.
 * - Startup push and retry loop: full syncs with exponential backoff (1 s
 *   doubling up to the ceiling, with jitter) until one succeeds or the
 *   service stops. A full sync the peer refuses as invalid is not retried
 *   (`peer_rejection.ts`): it is reported (status, one error log) and sent
 *   again at the next reconciliation, or once an advertised register changes.
 * - Periodic reconciliation: a full sync every interval (Deno.cron or a
 *   timer, with jitter). An unchanged set produces the same request body, which
 *   the peer answers with counts 0/0/0 and renewed leases, rewriting nothing.
 *
 * Every call to the peer goes through one queue, so two never overlap and a
 * withdrawal always reaches the peer after any full sync that read the
 * register before it was deleted.
 *
 * Telemetry: each full sync runs in a `register.reconcile` span (its calls
 * to the peer carry its trace context); with `metrics`, the figures of
 * `./metrics.ts`. How attempts are logged: `./attempts.ts`.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import { settlesWithin } from "../../shared/async.ts";
import { type Backoff, createBackoff } from "../../shared/backoff.ts";
import type { PeerClient } from "../../shared/client/mod.ts";
import { type Clock, systemClock } from "../../shared/clock.ts";
import type { BulkAdvertiseResponse } from "../../shared/contracts/advertisements.ts";
import type { ResyncStatus } from "../../shared/contracts/registers.ts";
import { AppError, toAppError } from "../../shared/errors.ts";
import type { Periodic, Scheduler } from "../../shared/schedule.ts";
import { failSpan, inSpan, type ServiceMetrics } from "../../shared/telemetry/mod.ts";
import type { Register, RegisterStore } from "../store/mod.ts";
import {
  type Attempt,
  attemptAttributes,
  logFailure,
  logSuccess,
  type SyncTrigger,
} from "./attempts.ts";
import { sendFullSync } from "./full_sync_request.ts";
import { defineReconciliationMetrics, type ReconciliationRecorder } from "./metrics.ts";
import { notificationFor } from "./notification.ts";
import { asRejection, isRejection } from "./peer_rejection.ts";

export type { SyncTrigger };

/** Options of {@link PeerSync}. */
export interface PeerSyncOptions {
  /** Waits and repetitions. */
  scheduler: Scheduler;
  /** Reconciliation interval in ms. */
  intervalMs: number;
  /** Ceiling of the retry backoff in ms. */
  retryMaxMs: number;
  /** Jitter of retry delays as a fraction (default 0.2; tests use 0). */
  retryJitter?: number;
  /** How long one request of a full sync may take before it counts as failed, in ms (default 30 000). */
  pushTimeoutMs?: number;
  /** Most registers of any request to the peer, for tests (default: see `sendFullSync`). */
  partSize?: number;
  /** How long a user's request waits for its notification, in ms (default 2000); it goes on after. */
  notifyWaitMs?: number;
  /** The clock (default: the system clock). */
  clock?: Clock;
  /** Where sync events are logged. */
  logger: Logger;
  /** Where its metrics are defined and recorded (none without). */
  metrics?: ServiceMetrics;
}

/** Pushes the registers' truth to the peer; see the module documentation. */
export class PeerSync {
  readonly #store: RegisterStore;
  readonly #peer: PeerClient;
  readonly #options: PeerSyncOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #metrics: ReconciliationRecorder | undefined;
  readonly #stop = new AbortController();
  /** The tail of the queue of peer calls. */
  #queue: Promise<unknown> = Promise.resolve();
  /** A queued manual sync not yet started, which later requests join. */
  #queuedManual: Promise<BulkAdvertiseResponse> | undefined;
  #running = false;
  #retryLoop: Promise<void> | undefined;
  /** When the retry loop's wait ends; set only while it waits out a backoff delay. */
  #retryDueAt: number | undefined;
  /** Changes not sent one by one because a retry was waiting; a full sync must read after them. */
  #skippedChanges = 0;
  /** Wakes the retry loop's wait when another sync succeeded meanwhile. */
  #wake: AbortController | undefined;
  #periodic: Periodic | undefined;
  #last: Attempt | undefined;
  #lastSuccess: Attempt | undefined;
  #consecutiveFailures = 0;
  /** The last rejection logged at error level, so that one repeated is logged once. */
  #rejectionLogged: string | undefined;
  /** A full sync queued because a register changed after a rejection. */
  #resyncAfterChange: Promise<unknown> | undefined;
  /** Notifications still under way (for close). */
  readonly #pending = new Set<Promise<unknown>>();

  /** Creates the sync; nothing is sent before {@link PeerSync.start}. */
  constructor(store: RegisterStore, peer: PeerClient, options: PeerSyncOptions) {
    this.#store = store;
    this.#peer = peer;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.logger;
    this.#metrics = options.metrics &&
      defineReconciliationMetrics(options.metrics, () => this.status());
  }

  /** Starts the startup push (retried until it succeeds) and the periodic reconciliation. */
  start(): void {
    if (this.#periodic || this.#stop.signal.aborted) return;
    this.#periodic = this.#options.scheduler.every(
      "sorcha-register-resync",
      this.#options.intervalMs,
      () => this.#onInterval(),
      { signal: this.#stop.signal },
    );
    this.#log.info("Reconciliation with the peer at {peerUrl}: {schedule}", {
      peerUrl: this.#peer.baseUrl,
      schedule: this.#periodic.schedule,
    });
    this.#startRetrying("startup", false);
  }

  /** Whether a full sync has succeeded since the start. */
  get synced(): boolean {
    return this.#lastSuccess !== undefined;
  }

  /**
   * Tells the peer about one register's change: `before` is undefined for a
   * creation, `after` for a deletion. Waits at most `notifyWaitMs` (the call
   * goes on in the background) and never throws: a failure is logged and
   * healed by the retry loop.
   */
  async notify(before: Register | undefined, after: Register | undefined): Promise<void> {
    const call = notificationFor(this.#peer, { before, after, signal: this.#stop.signal });
    if (!call || this.#stop.signal.aborted) return;
    // While a retry waits, the peer is known to be away, and the retry's full sync will read
    // the registers after this change: calling now would only queue calls that time out.
    if (this.#retryDueAt !== undefined) {
      this.#skippedChanges++;
      return;
    }
    const done = this.#enqueue(async () => {
      try {
        await call();
      } catch (error) {
        const appError = toAppError(error, "unavailable");
        this.#log.warn("Could not tell the peer about register {registerId}: {error}", {
          registerId: (after ?? before)!.id,
          error: appError.message,
        });
        this.#startRetrying("retry", true);
      }
    });
    this.#pending.add(done);
    void done.finally(() => this.#pending.delete(done));
    this.#resyncIfRejected();
    await settlesWithin(done, this.#options.notifyWaitMs ?? 2000);
  }

  /** After a rejected full sync, a change sends a new one (the set differs); changes share it. */
  #resyncIfRejected(): void {
    if (!this.#last?.rejected || this.#resyncAfterChange || this.#retryLoop) return;
    const run = this.#enqueue(async () => {
      this.#resyncAfterChange = undefined;
      const attempt = await this.#fullSync("retry");
      if (attempt.error && !attempt.rejected) this.#startRetrying("retry", true);
    });
    this.#resyncAfterChange = run;
    this.#pending.add(run);
    void run.finally(() => this.#pending.delete(run));
  }

  /**
   * Runs one full sync now (after any call under way) and returns the peer's
   * counts. Requests made while one is queued share it. On failure the retry
   * loop starts and the error is thrown.
   */
  syncNow(): Promise<BulkAdvertiseResponse> {
    if (this.#stop.signal.aborted) {
      return Promise.reject(new AppError("unavailable", "The register service is stopping"));
    }
    if (this.#queuedManual) return this.#queuedManual;
    const run = this.#enqueue(async () => {
      this.#queuedManual = undefined;
      const attempt = await this.#fullSync("manual");
      if (attempt.error) {
        if (!attempt.rejected) this.#startRetrying("retry", true);
        throw attempt.error;
      }
      return attempt.result!;
    });
    this.#queuedManual = run;
    return run;
  }

  /** The state `GET /api/resync/status` shows. */
  status(): ResyncStatus {
    const last = this.#last;
    const iso = (ms: number | undefined) => ms === undefined ? null : new Date(ms).toISOString();
    const retrying = this.#retryLoop !== undefined;
    return {
      peerUrl: this.#peer.baseUrl,
      intervalSeconds: this.#options.intervalMs / 1000,
      schedule: this.#periodic?.schedule ?? "not started",
      running: this.#running,
      retrying,
      lastSyncAt: iso(last?.finishedAt),
      lastStatus: !last ? "never" : last.error ? "failed" : "succeeded",
      lastTrigger: last?.trigger ?? null,
      lastDurationMs: last ? Math.round(last.durationMs) : null,
      registerCount: last?.registerCount ?? null,
      lastError: last?.error?.message ?? null,
      lastResult: this.#lastSuccess?.result ?? null,
      lastSuccessAt: iso(this.#lastSuccess?.finishedAt),
      consecutiveFailures: this.#consecutiveFailures,
      nextDueAt: iso(retrying ? this.#retryDueAt : this.#periodic?.nextRunAt()),
    };
  }

  /** The peer link's state for `/readyz`. */
  readiness(): { state: "ok" | "degraded" | "starting"; url: string; lastError?: string } {
    const url = this.#peer.baseUrl;
    if (!this.#last) return { state: "starting", url };
    if (this.#consecutiveFailures === 0) return { state: "ok", url };
    return { state: "degraded", url, lastError: this.#last.error?.message ?? "" };
  }

  /** Resolves once no call to the peer is queued or under way (a retry may still be waiting). */
  async settled(): Promise<void> {
    let tail: Promise<unknown>;
    do {
      tail = this.#queue;
      await tail;
    } while (tail !== this.#queue);
  }

  /** Stops retries and repetitions and waits for the call under way. */
  async close(): Promise<void> {
    this.#stop.abort();
    this.#wake?.abort();
    await Promise.allSettled([this.#queue, this.#retryLoop, ...this.#pending]);
  }

  /** Runs `task` after every call queued before it. */
  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => {});
    return run;
  }

  async #onInterval(): Promise<void> {
    if (this.#retryLoop || this.#running) {
      this.#log.debug("Reconciliation skipped: a sync with the peer is already under way");
      return;
    }
    const attempt = await this.#enqueue(() => this.#fullSync("interval"));
    if (attempt.error && !attempt.rejected) this.#startRetrying("retry", true);
  }

  /** Starts the retry loop unless it runs; `waitFirst` when an attempt has just failed. */
  #startRetrying(trigger: SyncTrigger, waitFirst: boolean): void {
    if (this.#retryLoop || this.#stop.signal.aborted) return;
    this.#retryLoop = this.#retryUntilSynced(trigger, waitFirst).finally(() => {
      this.#retryLoop = undefined;
      this.#retryDueAt = undefined;
    });
  }

  async #retryUntilSynced(firstTrigger: SyncTrigger, waitFirst: boolean): Promise<void> {
    let backoff: Backoff = createBackoff({
      maxMs: this.#options.retryMaxMs,
      ...(this.#options.retryJitter !== undefined ? { jitter: this.#options.retryJitter } : {}),
    });
    let trigger = firstTrigger;
    let wait = waitFirst;
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      if (wait) {
        const since = this.#lastSuccess;
        this.#retryDueAt = this.#clock.now() + backoff.delayMs;
        this.#log.info("Next full sync with the peer in {seconds} s", {
          seconds: Math.round(backoff.delayMs / 100) / 10,
        });
        this.#wake = new AbortController();
        await this.#options.scheduler.sleep(
          backoff.delayMs,
          AbortSignal.any([signal, this.#wake.signal]),
        );
        this.#retryDueAt = undefined;
        this.#wake = undefined;
        backoff = backoff.next();
        if (signal.aborted) return;
        // Another full sync succeeded meanwhile: done, if it read the registers after every
        // change that was not sent on its own.
        const success = this.#lastSuccess;
        if (success !== since && success && success.changesSeen >= this.#skippedChanges) return;
      }
      wait = true;
      const attempt = await this.#enqueue(() => this.#fullSync(trigger));
      // Done, or refused as invalid: sending it again unchanged would be refused again.
      if (!attempt.error || attempt.rejected) return;
      trigger = "retry";
    }
  }

  /**
   * One full sync, in a `register.reconcile` span (attributes: trigger,
   * outcome, registers sent and the peer's counts): read every advertised
   * register, send them as one full sync (in parts if many).
   */
  #fullSync(trigger: SyncTrigger): Promise<Attempt> {
    return inSpan("register.reconcile", async (span) => {
      const attempt = await this.#attempt(trigger);
      span.setAttributes(attemptAttributes(attempt));
      if (attempt.error) failSpan(span, attempt.error);
      return attempt;
    }, { attributes: { "sorcha.reconcile.trigger": trigger } });
  }

  async #attempt(trigger: SyncTrigger): Promise<Attempt> {
    const started = performance.now();
    this.#running = true;
    let registerCount: number | null = null;
    let result: BulkAdvertiseResponse | undefined;
    let error: AppError | undefined;
    const changesSeen = this.#skippedChanges;
    try {
      const registers = await this.#store.listAdvertised();
      registerCount = registers.length;
      result = await sendFullSync(this.#peer, registers, {
        signal: this.#stop.signal,
        timeoutMs: this.#options.pushTimeoutMs ?? 30_000,
        partSize: this.#options.partSize,
      });
    } catch (caught) {
      error = this.#stop.signal.aborted
        ? new AppError("unavailable", "Full sync cancelled: the register service is stopping")
        : toAppError(caught, "unavailable");
    } finally {
      this.#running = false;
    }
    const rejected = error !== undefined && isRejection(error);
    if (rejected) error = asRejection(error!); // not retried: it would be refused again
    const attempt: Attempt = {
      trigger,
      finishedAt: this.#clock.now(),
      durationMs: performance.now() - started,
      registerCount,
      error,
      rejected,
      result,
      changesSeen,
    };
    this.#record(attempt);
    return attempt;
  }

  #record(attempt: Attempt): void {
    this.#last = attempt;
    this.#metrics?.record({ ...attempt, failed: attempt.error !== undefined });
    if (attempt.error) {
      this.#rejectionLogged = logFailure(this.#log, attempt, {
        failures: ++this.#consecutiveFailures,
        rejectionLogged: this.#rejectionLogged,
      });
      return;
    }
    const recoveredAfter = this.#consecutiveFailures;
    this.#consecutiveFailures = 0;
    this.#rejectionLogged = undefined;
    this.#lastSuccess = attempt;
    this.#wake?.abort();
    logSuccess(this.#log, attempt, recoveredAfter);
  }
}
