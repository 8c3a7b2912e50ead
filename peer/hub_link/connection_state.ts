/**
 * The link's connection state (the contract's `Disconnected`, `Connecting`,
 * `Connected`, `HeartbeatTimeout`, `Isolated`), since when it holds, since
 * when the peer is isolated, and who is told when what the link shows
 * changes. The link (`link.ts`) and the session it serves
 * (`served_session.ts`) move it; `GET /api/connection/status` shows it.
 *
 * @module
 */
import type { Clock } from "../../shared/clock.ts";
import type { ConnectionState } from "./status.ts";

/** The connection state and its listeners; see the module documentation. */
export class ConnectionStateTracker {
  readonly #clock: Clock;
  readonly #listeners = new Set<() => void>();
  #state: ConnectionState = "Disconnected";
  #since: number;
  /** Since when no hub answered a whole round; undefined while one answers. */
  isolatedSince: number | undefined;

  /** `Disconnected` since `since` (by default, now). */
  constructor(clock: Clock, since: number = clock.now()) {
    this.#clock = clock;
    this.#since = since;
  }

  /** The state. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** Since when the state holds, in ms since the epoch. */
  get since(): number {
    return this.#since;
  }

  /** Calls `listener` after every change; returns an unsubscribe. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Tells the listeners that something the link shows changed. */
  changed(): void {
    for (const listener of this.#listeners) listener();
  }

  /** Moves to `state` (nothing when it holds already) and tells the listeners. */
  set(state: ConnectionState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#since = this.#clock.now();
    this.changed();
  }
}
