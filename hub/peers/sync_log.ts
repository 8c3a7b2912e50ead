/**
 * What the hub knows of each peer's syncing: the last sync it served the
 * peer (kind, time, version reached, outcome) and whether one is running.
 * Bounded: the peers heard from longest ago are forgotten first.
 *
 * @module
 */
import type { Clock } from "../../shared/clock.ts";

/** One peer's sync record. */
export interface SyncRecord {
  /** The peer. */
  peerId: string;
  /** `full` or `incremental`. */
  kind: "full" | "incremental";
  /** When the last sync started (ms since the epoch). */
  startedAt: number;
  /** When it ended, if it has. */
  endedAt: number | undefined;
  /** The highest version it sent. */
  version: number;
  /** Entries it sent. */
  entries: number;
  /** `running`, `completed` or `failed`. */
  outcome: "running" | "completed" | "failed";
  /** Syncs running for the peer now. */
  running: number;
}

/** Per-peer sync records; see the module documentation. */
export class SyncLog {
  readonly #records = new Map<string, SyncRecord>();
  readonly #clock: Clock;
  readonly #limit: number;

  /** Keeps at most `limit` peers (default 10,000). */
  constructor(clock: Clock, options: { limit?: number } = {}) {
    this.#clock = clock;
    this.#limit = options.limit ?? 10_000;
  }

  /** A sync for `peerId` starts; returns the record to report progress on. */
  started(peerId: string, kind: "full" | "incremental", fromVersion: number): SyncRecord {
    const previous = this.#records.get(peerId);
    this.#records.delete(peerId);
    const record: SyncRecord = {
      peerId,
      kind,
      startedAt: this.#clock.now(),
      endedAt: undefined,
      version: fromVersion,
      entries: 0,
      outcome: "running",
      running: (previous?.running ?? 0) + 1,
    };
    this.#records.set(peerId, record);
    while (this.#records.size > this.#limit) {
      this.#records.delete(this.#records.keys().next().value!);
    }
    return record;
  }

  /** The sync described by `record` ended. */
  ended(record: SyncRecord, outcome: "completed" | "failed"): void {
    record.outcome = outcome;
    record.endedAt = this.#clock.now();
    const current = this.#records.get(record.peerId);
    if (current && current !== record) {
      current.running = Math.max(0, current.running - 1);
    } else {
      record.running = Math.max(0, record.running - 1);
    }
  }

  /** The peer's last sync, if any. */
  get(peerId: string): SyncRecord | undefined {
    return this.#records.get(peerId);
  }
}
