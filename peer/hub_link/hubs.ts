/**
 * The configured hubs and what this peer knows of each: its state, its last
 * error, when it last answered, failures in a row, and fail-back probes
 * answered in a row. Also the order of a connection round: from a starting
 * hub through the list, wrapping around, so the hub just failed is tried last.
 *
 * @module
 */
import type { HubAddress } from "./hub_address.ts";
import type { HubState, HubView } from "./status.ts";

/** One hub and its state (mutable; owned by the link). */
export interface HubRecord extends HubAddress {
  /** See {@link HubState}. */
  state: HubState;
  /** The id the hub gave itself, once it answered. */
  centralNodeId: string | undefined;
  /** The last failure, in words. */
  lastError: string | undefined;
  /** When it failed last. */
  lastErrorAt: number | undefined;
  /** When it last answered. */
  lastContactAt: number | undefined;
  /** Failures in a row. */
  consecutiveFailures: number;
  /** Fail-back probes answered in a row. */
  probeStreak: number;
}

/** The hubs in priority order, from `HUB_NODES`. */
export class HubDirectory {
  readonly #hubs: HubRecord[];

  /** Records for `hubs`, all on standby. */
  constructor(hubs: readonly HubAddress[]) {
    this.#hubs = hubs.map((hub) => ({
      ...hub,
      state: "standby",
      centralNodeId: undefined,
      lastError: undefined,
      lastErrorAt: undefined,
      lastContactAt: undefined,
      consecutiveFailures: 0,
      probeStreak: 0,
    }));
  }

  /** How many hubs. */
  get size(): number {
    return this.#hubs.length;
  }

  /** The hub at `priority`. */
  at(priority: number): HubRecord {
    const hub = this.#hubs[priority];
    if (!hub) throw new RangeError(`no hub at priority ${priority}`);
    return hub;
  }

  /** The hubs of one round, starting at `start` (see {@link roundOrder}). */
  round(start: number): HubRecord[] {
    return roundOrder(this.#hubs.length, start).map((i) => this.#hubs[i]!);
  }

  /** The hubs listed before `priority` (fail-back candidates), best first. */
  above(priority: number): HubRecord[] {
    return this.#hubs.slice(0, priority);
  }

  /** Records an answer from `hub`. */
  answered(hub: HubRecord, at: number, centralNodeId?: string): void {
    hub.lastContactAt = at;
    hub.consecutiveFailures = 0;
    if (centralNodeId) hub.centralNodeId = centralNodeId;
  }

  /** Records a failure of `hub`. */
  failed(hub: HubRecord, error: string, options: { at: number; rateLimited?: boolean }): void {
    hub.state = options.rateLimited ? "rate-limited" : "failed";
    hub.lastError = error;
    hub.lastErrorAt = options.at;
    hub.consecutiveFailures++;
  }

  /** The name to show for `hub`: its own id once known, else its address. */
  name(hub: HubRecord): string {
    return hub.centralNodeId ? `${hub.centralNodeId} (${hub.address})` : hub.address;
  }

  /** Every hub, as the status shows them. */
  views(): HubView[] {
    return this.#hubs.map((hub) => ({
      address: hub.address,
      priority: hub.priority,
      state: hub.state,
      centralNodeId: hub.centralNodeId ?? null,
      lastError: hub.lastError ?? null,
      lastErrorAt: hub.lastErrorAt ?? null,
      lastContactAt: hub.lastContactAt ?? null,
      consecutiveFailures: hub.consecutiveFailures,
      probeStreak: hub.probeStreak,
    }));
  }
}

/**
 * The positions of one round over `count` hubs starting at `start`:
 * `start, start + 1, …, count - 1, 0, …, start - 1` (each once).
 */
export function roundOrder(count: number, start: number): number[] {
  const first = ((start % count) + count) % count;
  return Array.from({ length: count }, (_, i) => (first + i) % count);
}
