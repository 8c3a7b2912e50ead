/**
 * The peer's link to its advertisement store: whether the store is taking
 * writes (`ok`) or not (`degraded`), and the recovery that brings it up to
 * date once it answers again.
 *
 * While degraded, no request waits on the store: changes live in memory only.
 * Recovery runs each time the store reports it is reachable again (even when
 * nothing failed meanwhile: it may have come back without its data) and, as a
 * fallback, on a retry timer with exponential backoff and jitter (cockatiel).
 * It repeats until a pass completes with no change made meanwhile, so nothing
 * changed during recovery is left unwritten.
 *
 * @module
 */
import { ExponentialBackoff, type IBackoff } from "cockatiel";
import type { Logger } from "@logtape/logtape";
import type { AdvertisementStore } from "../store/types.ts";

/** The link's state: `starting` before the first load, then `ok` or `degraded`. */
export type StoreState = "starting" | "ok" | "degraded";

/** Options of {@link StoreLink}. */
export interface StoreLinkOptions {
  /** Brings the store up to date with memory; throws while the store is unreachable. */
  recover: () => Promise<void>;
  /** Where state changes are logged. */
  logger: Logger;
  /** First retry delay in ms (default 500). */
  initialRetryDelayMs?: number;
  /** Longest retry delay in ms (default 30 000). */
  maxRetryDelayMs?: number;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Tracks whether the store takes writes and recovers it when it returns. */
export class StoreLink {
  readonly #store: AdvertisementStore;
  readonly #options: StoreLinkOptions;
  readonly #backoff: ExponentialBackoff<unknown>;
  #state: StoreState = "starting";
  #lastError: string | undefined;
  #generation = 0;
  #recovering: Promise<void> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #step: IBackoff<unknown> | undefined;
  #closed = false;

  /** Links to a store; recovery starts whenever the store reports it is reachable again. */
  constructor(store: AdvertisementStore, options: StoreLinkOptions) {
    this.#store = store;
    this.#options = options;
    this.#backoff = new ExponentialBackoff({
      initialDelay: options.initialRetryDelayMs ?? 500,
      maxDelay: options.maxRetryDelayMs ?? 30_000,
    });
    // Also when no write failed meanwhile: a Redis that comes back may have lost its data
    // (restarted without saving it), and the recovery writes memory's state back.
    store.onReconnect(() => {
      if (this.#state !== "starting") void this.recover();
    });
  }

  /** The current state. */
  get state(): StoreState {
    return this.#state;
  }

  /** The last failure's message, while degraded. */
  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** Whether writes should go to the store now (false while degraded or recovering). */
  get writable(): boolean {
    return this.#state === "ok";
  }

  /** Notes that memory changed; a recovery in progress will run another pass. */
  changed(): void {
    this.#generation++;
  }

  /** Marks the store as working (after a successful first load). */
  succeeded(): void {
    if (this.#state !== "ok") {
      if (this.#state === "degraded") {
        this.#options.logger.info("Advertisement store {kind} is back and up to date", {
          kind: this.#store.kind,
        });
      }
      this.#state = "ok";
      this.#lastError = undefined;
      this.#step = undefined;
    }
  }

  /** Marks the store as failing: memory keeps serving and recovery is scheduled. */
  failed(error: unknown, during: string): void {
    this.#lastError = `${during}: ${describe(error)}`;
    if (this.#state !== "degraded") {
      this.#options.logger.warn(
        "Advertisement store {kind} is unreachable ({error}); serving from memory until it returns",
        { kind: this.#store.kind, error: this.#lastError },
      );
    }
    this.#state = "degraded";
    this.#schedule();
  }

  /** Runs recovery now (at most one at a time); resolves when it has finished or failed. */
  recover(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#recovering ??= this.#recoverLoop().finally(() => {
      this.#recovering = undefined;
    });
    return this.#recovering;
  }

  async #recoverLoop(): Promise<void> {
    this.#clearTimer();
    try {
      let generation: number;
      do {
        generation = this.#generation;
        await this.#options.recover();
      } while (generation !== this.#generation && !this.#closed);
      this.succeeded();
    } catch (error) {
      this.failed(error, "recovery");
    }
  }

  #schedule(): void {
    if (this.#closed || this.#timer !== undefined) return;
    this.#step = this.#step ? this.#step.next(undefined) : this.#backoff.next();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.recover();
    }, this.#step.duration);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Resolves when no recovery is running (at once when none is). */
  settled(): Promise<void> {
    return this.#recovering ?? Promise.resolve();
  }

  /** Stops retrying and waits for a recovery in progress. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#clearTimer();
    await this.#recovering;
  }
}
