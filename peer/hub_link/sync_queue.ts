/**
 * When the replica's syncs run: one at a time, whoever asks (connect,
 * notifications and keep-alives, the periodic timer, the hub's advice, the
 * API). A request made while one runs joins the one follow-up: asked twice,
 * it runs once, full when either asked for full, and skipped when it was
 * needed only up to a version (a notification) that the sync running
 * already reached. After a failure, one retry is scheduled with backoff (1 s
 * doubling to `HUB_RETRY_MAX_SECONDS`, jittered), reset by a success. What a
 * sync does is the replicator's (`replicator.ts`).
 *
 * @module
 */
import { activeContext, type Context, hasTrace, withContext } from "../../shared/telemetry/mod.ts";
import { type Backoff, createBackoff } from "../../shared/backoff.ts";
import type { Scheduler } from "../../shared/schedule.ts";
import type { SyncResult } from "./status.ts";

/** Why a sync was asked for, and whether it must be full. */
export interface SyncRequestOptions {
  /** Replace the replica whatever the cursor says. */
  full?: boolean;
  /**
   * Needed only while the cursor is below this version (a notification of
   * it): a sync that got there first makes this one unnecessary.
   */
  untilVersion?: number;
}

/** Options of {@link SyncQueue}. */
export interface SyncQueueOptions {
  /** Runs one sync; rejects with why it failed. */
  run: (reason: string, full: boolean) => Promise<SyncResult>;
  /** The replica's cursor. */
  cursor: () => number;
  /** The last sync's result, if one succeeded. */
  lastResult: () => SyncResult | null;
  /** Whether a retry is still wanted when its time comes (syncs fail, a hub is connected). */
  retryWanted: () => boolean;
  /** Waits of the retries. */
  scheduler: Scheduler;
  /** Ceiling of the retry backoff, in ms. */
  retryMaxMs: number;
  /** Random numbers in [0, 1), for jitter. */
  random?: () => number;
  /** Told when a run of syncs starts and ends. */
  onChange?: () => void;
}

interface Pending {
  reason: string;
  full: boolean;
  /** Undefined: must run; otherwise needed only while the cursor is below it. */
  untilVersion: number | undefined;
  /** The trace context the sync runs in. */
  context: Context;
  done: PromiseWithResolvers<SyncResult>;
}

/** The queue of syncs; see the module documentation. */
export class SyncQueue {
  readonly #options: SyncQueueOptions;
  readonly #stop = new AbortController();
  #running: Promise<void> | undefined;
  #pending: Pending | undefined;
  #backoff: Backoff;
  #retrying = false;

  /** An idle queue. */
  constructor(options: SyncQueueOptions) {
    this.#options = options;
    this.#backoff = this.#firstBackoff();
  }

  /** Whether a sync runs. */
  get running(): boolean {
    return this.#running !== undefined;
  }

  /**
   * Runs a sync (or joins the follow-up of the one running); resolves with
   * how it went, rejects with why it failed.
   */
  request(reason: string, options: SyncRequestOptions = {}): Promise<SyncResult> {
    const pending = this.#pending;
    const active = activeContext();
    if (pending) {
      pending.full ||= options.full === true;
      if (hasTrace(active)) pending.context = active;
      if (options.untilVersion === undefined) {
        if (pending.untilVersion !== undefined) pending.reason = reason;
        pending.untilVersion = undefined;
      } else if (pending.untilVersion !== undefined) {
        pending.untilVersion = Math.max(pending.untilVersion, options.untilVersion);
      }
      return pending.done.promise;
    }
    return this.#enqueue({
      reason,
      full: options.full === true,
      untilVersion: options.untilVersion,
      context: active,
      done: Promise.withResolvers<SyncResult>(),
    });
  }

  /** A sync succeeded: the next failure is retried after the first delay again. */
  resetBackoff(): void {
    this.#backoff = this.#firstBackoff();
  }

  /** One retry after the backoff, while one is wanted (a sync asked meanwhile runs at once). */
  retryLater(): void {
    if (this.#retrying || this.#stop.signal.aborted) return;
    this.#retrying = true;
    const delay = this.#backoff.delayMs;
    this.#backoff = this.#backoff.next();
    void this.#options.scheduler.sleep(delay, this.#stop.signal).then(() => {
      this.#retrying = false;
      if (this.#stop.signal.aborted || !this.#options.retryWanted()) return;
      void this.request("retry after a failed sync");
    });
  }

  /** Stops retries; a sync running goes on. */
  close(): void {
    this.#stop.abort();
  }

  #enqueue(pending: Pending): Promise<SyncResult> {
    // Nobody may be waiting: a failure is reported through the view and the log.
    pending.done.promise.catch(() => {});
    this.#pending = pending;
    if (!this.#running) this.#running = this.#drain();
    return pending.done.promise;
  }

  /** Runs pending syncs one after another. */
  async #drain(): Promise<void> {
    this.#options.onChange?.();
    while (this.#pending) {
      const pending = this.#pending;
      this.#pending = undefined;
      const last = this.#options.lastResult();
      if (
        !pending.full && pending.untilVersion !== undefined &&
        this.#options.cursor() >= pending.untilVersion &&
        last
      ) {
        pending.done.resolve(last); // a sync that ran meanwhile got there
        continue;
      }
      try {
        const run = () => this.#options.run(pending.reason, pending.full);
        pending.done.resolve(await withContext(pending.context, run));
      } catch (error) {
        pending.done.reject(error);
      }
    }
    this.#running = undefined;
    this.#options.onChange?.();
  }

  #firstBackoff(): Backoff {
    return createBackoff({
      initialMs: 1000,
      maxMs: this.#options.retryMaxMs,
      ...(this.#options.random ? { random: this.#options.random } : {}),
    });
  }
}
