/**
 * The parts of full syncs sent in parts (`syncId`, `part`, `lastPart`),
 * kept aside until the last one arrives: nothing is applied before, so the
 * union is applied as one full sync, atomically, and a sync cut off half-way
 * changes nothing. Parts must come in order, from 0. The parts of a sync
 * whose next part does not come within the timeout are dropped (a sender that
 * died, a peer that restarted), as are the oldest syncs beyond a few at once.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import type { Clock } from "../../shared/clock.ts";
import { AppError } from "../../shared/errors.ts";
import type { Scheduler } from "../../shared/schedule.ts";
import type { LocalItem } from "./local_set.ts";

/** How long the parts of an unfinished sync are kept after its latest part, by default. */
export const DEFAULT_PART_TIMEOUT_MS = 120_000;
/** Most unfinished syncs kept at once; a new one beyond drops the one least recently continued. */
export const MAX_PENDING_SYNCS = 4;

/** One part of a full sync, as received. */
export interface SyncPart {
  /** The sync it belongs to. */
  syncId: string;
  /** Its number: 0 for the first. */
  part: number;
  /** Whether it is the last. */
  lastPart?: boolean | undefined;
  /** Its items. */
  advertisements: LocalItem[];
}

/** A whole sync, once its last part has come. */
export interface WholeSync {
  /** Every part's items, in order. */
  items: LocalItem[];
  /** Names the item at an index of `items` by its part: `part 2 advertisements[17]`. */
  describe(index: number): string;
}

/** An unfinished sync, as `GET /api/registers/sync-state` shows it. */
export interface PendingSyncView {
  /** Its id. */
  syncId: string;
  /** Parts received (0 to `parts - 1`). */
  parts: number;
  /** Items received. */
  items: number;
  /** When its parts are dropped unless the next one comes (ISO 8601). */
  expiresAt: string;
}

/** Options of {@link SyncParts}. */
export interface SyncPartsOptions {
  /** Decides expiry. */
  clock: Clock;
  /** Wakes the expiry when nothing else comes. */
  scheduler: Scheduler;
  /** How long parts are kept after a sync's latest part, in ms. */
  timeoutMs: number;
  /** Where dropped syncs are reported. */
  logger: Logger;
}

interface Pending {
  syncId: string;
  parts: LocalItem[][];
  items: number;
  expiresAt: number;
}

/** Parts of full syncs not yet whole; see the module documentation. */
export class SyncParts {
  readonly #options: SyncPartsOptions;
  /** By id, the least recently continued first. */
  readonly #pending = new Map<string, Pending>();
  readonly #stop = new AbortController();
  /** Ends the expiry's wait when no sync is left to expire. */
  #wake: AbortController | undefined;

  /** Keeps nothing yet. */
  constructor(options: SyncPartsOptions) {
    this.#options = options;
  }

  /**
   * Takes one part. Returns the whole sync when it is the last, `undefined` otherwise. Part 0
   * starts the sync (again, if its id is known); any other part must be the next one of a sync
   * held here, else the sync is dropped and a `failed_precondition` error says to send it again.
   */
  take(part: SyncPart): WholeSync | undefined {
    this.#expire();
    const now = this.#options.clock.now();
    let pending = this.#pending.get(part.syncId);
    if (part.part === 0) {
      pending = { syncId: part.syncId, parts: [], items: 0, expiresAt: 0 };
    } else if (pending === undefined || pending.parts.length !== part.part) {
      this.#pending.delete(part.syncId);
      const held = pending
        ? `parts 0 to ${pending.parts.length - 1} were received, part ${part.part} is not the next`
        : `its earlier parts are not here (they expired ${
          this.#options.timeoutMs / 1000
        } s after their last part, or the peer restarted)`;
      throw new AppError(
        "failed_precondition",
        `Cannot take part ${part.part} of full sync "${part.syncId}": ${held}; send the sync again from part 0`,
      );
    }
    this.#pending.delete(part.syncId);
    pending.parts.push(part.advertisements);
    pending.items += part.advertisements.length;
    if (part.lastPart) {
      this.#rearm();
      return whole(pending.parts);
    }
    pending.expiresAt = now + this.#options.timeoutMs;
    // Re-inserted: the map stays in order of the latest part.
    this.#pending.set(part.syncId, pending);
    for (const [syncId, oldest] of this.#pending) {
      if (this.#pending.size <= MAX_PENDING_SYNCS) break;
      this.#drop(syncId, `more than ${MAX_PENDING_SYNCS} full syncs in parts at once`, oldest);
    }
    this.#rearm();
    return undefined;
  }

  /** The unfinished syncs, least recently continued first; expired ones are skipped (not dropped). */
  pending(): PendingSyncView[] {
    const now = this.#options.clock.now();
    return [...this.#pending.values()].filter((p) => p.expiresAt > now).map((p) => ({
      syncId: p.syncId,
      parts: p.parts.length,
      items: p.items,
      expiresAt: new Date(p.expiresAt).toISOString(),
    }));
  }

  /** Drops every part and stops the expiry's wait. */
  close(): void {
    this.#stop.abort();
    this.#pending.clear();
  }

  #expire(): void {
    const now = this.#options.clock.now();
    for (const [syncId, pending] of this.#pending) {
      if (pending.expiresAt <= now) {
        this.#drop(syncId, `no part for ${this.#options.timeoutMs / 1000} s`, pending);
      }
    }
  }

  #drop(syncId: string, why: string, pending: Pending): void {
    this.#pending.delete(syncId);
    this.#options.logger.warn(
      "Dropped the {parts} parts ({items} items) of full sync {syncId}: {why}",
      { parts: pending.parts.length, items: pending.items, syncId, why },
    );
  }

  /** Waits for the earliest expiry while a sync is unfinished; stops waiting when none is. */
  #rearm(): void {
    this.#wake?.abort();
    this.#wake = undefined;
    if (this.#pending.size === 0 || this.#stop.signal.aborted) return;
    const first = Math.min(...[...this.#pending.values()].map((p) => p.expiresAt));
    const wake = new AbortController();
    this.#wake = wake;
    const signal = AbortSignal.any([this.#stop.signal, wake.signal]);
    void this.#options.scheduler.sleep(Math.max(0, first - this.#options.clock.now()), signal)
      .then(() => {
        if (signal.aborted) return;
        this.#wake = undefined;
        this.#expire();
        this.#rearm();
      });
  }
}

/** The union of a sync's parts, with a way to name an item by its part. */
function whole(parts: LocalItem[][]): WholeSync {
  const starts: number[] = [];
  let count = 0;
  for (const part of parts) {
    starts.push(count);
    count += part.length;
  }
  return {
    items: parts.length === 1 ? parts[0]! : parts.flat(),
    describe(index) {
      let part = starts.length - 1;
      while (part > 0 && starts[part]! > index) part--;
      return `part ${part} advertisements[${index - starts[part]!}]`;
    },
  };
}
