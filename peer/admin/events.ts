/**
 * The admin page's live updates: one watcher per app checks the node every
 * `intervalMs` (a snapshot and its fingerprint, cheap: everything is in
 * memory) while at least one page listens, and hands a new snapshot to every
 * listener when the fingerprint moved, or when `refreshMs` passed without one
 * (so heartbeat figures stay current). A new listener gets a snapshot at
 * once. A slow listener is never waited for: it gets the latest snapshot
 * when it is ready for one, older ones are dropped.
 *
 * Streams end when their client goes away ({@link AdminSubscription.close})
 * and when the service begins to stop (`stopping` aborts): `Deno.serve`'s
 * graceful shutdown waits for open responses, and an event stream never
 * ends by itself.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import { errorMessage } from "../../shared/errors.ts";
import type { AdminSnapshot } from "./schemas.ts";

/** One message for a listener: a snapshot, or a problem making one. */
export type AdminEvent =
  | { event: "snapshot"; data: string }
  | { event: "problem"; data: string };

/** Options of {@link AdminEvents}. */
export interface AdminEventsOptions {
  /** Makes a snapshot of the node. */
  snapshot: () => Promise<AdminSnapshot>;
  /** A snapshot's fingerprint: snapshots are sent when it changes. */
  fingerprint: (snapshot: AdminSnapshot) => string;
  /** Time between checks, in ms (default 250). */
  intervalMs?: number;
  /** Longest time without a snapshot sent, in ms (default 5 000). */
  refreshMs?: number;
  /** Aborted when the service begins to stop: every stream ends, and none starts after. */
  stopping?: AbortSignal | undefined;
  /** Where failures to make a snapshot are logged. */
  logger?: Logger | undefined;
}

/** A listener's subscription. */
export interface AdminSubscription {
  /** Resolves once it is closed: by the client, or by a stop. */
  readonly closed: Promise<void>;
  /** Ends it. */
  close(): void;
}

/** A listener: writes one event to its client. */
export type AdminListener = (event: AdminEvent) => Promise<void>;

/** One listener and what it still has to write. */
class Listener implements AdminSubscription {
  readonly #write: AdminListener;
  readonly #closed = Promise.withResolvers<void>();
  readonly #onClose: (listener: Listener) => void;
  #pending: AdminEvent | undefined;
  #writing = false;
  #open = true;
  /** Whether it got a snapshot yet. */
  served = false;

  constructor(write: AdminListener, onClose: (listener: Listener) => void) {
    this.#write = write;
    this.#onClose = onClose;
  }

  get closed(): Promise<void> {
    return this.#closed.promise;
  }

  /** Queues `event`, replacing one not written yet. */
  send(event: AdminEvent): void {
    if (!this.#open) return;
    this.#pending = event;
    if (event.event === "snapshot") this.served = true;
    if (!this.#writing) void this.#pump();
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#pending = undefined;
    this.#onClose(this);
    this.#closed.resolve();
  }

  async #pump(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#open && this.#pending) {
        const event = this.#pending;
        this.#pending = undefined;
        await this.#write(event);
      }
    } catch {
      this.close();
    } finally {
      this.#writing = false;
    }
  }
}

/** The watcher and its listeners; see the module documentation. */
export class AdminEvents {
  readonly #options: AdminEventsOptions;
  readonly #listeners = new Set<Listener>();
  #watching: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  /** A watcher, idle until the first listener. */
  constructor(options: AdminEventsOptions) {
    this.#options = options;
    options.stopping?.addEventListener("abort", () => this.close(), { once: true });
  }

  /** Listeners now. */
  get listeners(): number {
    return this.#listeners.size;
  }

  /** Adds a listener; it gets a snapshot at once, then each change. */
  subscribe(write: AdminListener): AdminSubscription {
    const listener = new Listener(write, (closed) => this.#remove(closed));
    if (this.#options.stopping?.aborted) {
      listener.close();
      return listener;
    }
    this.#listeners.add(listener);
    this.#startWatching();
    this.#wake?.();
    return listener;
  }

  /** Ends every stream (the service stops). */
  close(): void {
    for (const listener of [...this.#listeners]) listener.close();
  }

  /** Resolves once the watcher has stopped (no listener left); for tests. */
  async idle(): Promise<void> {
    await this.#watching;
  }

  /** Starts the watcher unless it runs; one that ends with a listener back starts again. */
  #startWatching(): void {
    if (this.#watching) return;
    this.#watching = this.#watch().finally(() => {
      this.#watching = undefined;
      if (this.#listeners.size > 0) this.#startWatching();
    });
  }

  #remove(listener: Listener): void {
    this.#listeners.delete(listener);
    if (this.#listeners.size === 0) this.#wake?.();
  }

  async #watch(): Promise<void> {
    const intervalMs = this.#options.intervalMs ?? 250;
    const refreshMs = this.#options.refreshMs ?? 5_000;
    let last: string | undefined;
    let sentAt = 0;
    while (this.#listeners.size > 0) {
      let event: AdminEvent | undefined;
      let changed = false;
      try {
        const snapshot = await this.#options.snapshot();
        const fingerprint = this.#options.fingerprint(snapshot);
        changed = fingerprint !== last || Date.now() - sentAt >= refreshMs;
        last = fingerprint;
        // Written out only when someone gets it (a change, or a listener not served yet).
        if (changed || [...this.#listeners].some((listener) => !listener.served)) {
          event = { event: "snapshot", data: JSON.stringify(snapshot) };
        }
      } catch (error) {
        this.#options.logger?.warning("Admin page: cannot make a snapshot: {error}", {
          error: errorMessage(error),
        });
        changed = true;
        last = undefined;
        event = { event: "problem", data: `Cannot read the node's state: ${errorMessage(error)}` };
      }
      if (changed) sentAt = Date.now();
      for (const listener of this.#listeners) {
        if (event && (changed || !listener.served)) listener.send(event);
      }
      if (this.#listeners.size === 0) break;
      await this.#sleep(intervalMs);
    }
  }

  /** Waits `ms`, or less when woken (a new listener, or the last one gone). */
  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      const wake = () => done();
      this.#wake = wake;
      function done() {
        clearTimeout(timer);
        resolve();
      }
    }).finally(() => this.#wake = undefined);
  }
}
