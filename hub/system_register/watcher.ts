/**
 * Follows the register as it grows, whichever hub appends to it: reads the
 * entries after the last version seen, checks each against the chain (its
 * checksum, and its chain hash following the previous entry), names each
 * `published` (a blueprint's first version) or `updated`, and hands it on.
 * Hubs sharing a store learn of each other's publications by polling the
 * cheap `currentVersion()`; a hub's own publication is followed at once
 * through {@link RegisterWatcher.check}. A store that cannot be read is
 * logged once (warning) until it can be again (info);
 * {@link RegisterWatcher.lastReadAt} tells when the store was last read.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import { errorMessage } from "../../shared/errors.ts";
import type { BlueprintEvent } from "../notifications/events.ts";
import { ActiveDigest } from "./active_digest.ts";
import { ActiveVersions } from "./active_versions.ts";
import { entryProblem, GENESIS_CHAIN_HASH, type IntegrityReport } from "./integrity.ts";
import type { BlueprintEntry, SystemRegisterStore } from "./types.ts";

/** Entries of one check handed on between two waits for the notifications' pace. */
const DEFAULT_PACE_EVERY = 256;

/** Where the watcher starts: what an initial scan found. */
export interface WatchStart {
  /** The last version seen. */
  version: number;
  /** Its chain hash. */
  chainHash: string;
  /** Each blueprint's highest version (its active entry), kept up as entries are read. */
  active: ActiveVersions;
  /** The active set's digest, now and after each recent version, kept up as entries are read. */
  digest: ActiveDigest;
  /** The chain hash of the entry with version 1 ("" until there is one). */
  genesisChecksum: string;
}

/** Options of {@link RegisterWatcher}. */
export interface WatcherOptions {
  /** Called for each new entry, in version order. */
  onEvent: (event: BlueprintEvent) => void;
  /** Called when a new entry breaks the chain. */
  onCorrupt: (report: IntegrityReport & { ok: false }) => void;
  /** Logs the store turning unreadable and readable again (the next check retries). */
  logger?: Logger;
  /** The time of {@link RegisterWatcher.lastReadAt}, in ms (default `Date.now`). */
  now?: () => number;
  /**
   * Awaited after every `paceEvery` entries of one check (a burst of another
   * hub's publications), before handing on more: the notifications' pace.
   */
  pace?: () => Promise<void>;
  /** Entries handed on between two waits for `pace` (default 256; keep it under a subscriber's queue limit). */
  paceEvery?: number;
}

/** Keeps `start`'s active versions, digest and genesis checksum up with `entry` (read in version order). */
function follow(start: WatchStart, entry: BlueprintEntry): void {
  start.active.add(entry.blueprintId, entry.version);
  start.digest.add(entry.blueprintId, entry.version, entry.checksum);
  if (entry.version === 1) start.genesisChecksum = entry.chainHash;
}

/** Scans the whole register once, validating it; gives the watcher's start and the report. */
export async function scanRegister(
  store: SystemRegisterStore,
): Promise<{ start: WatchStart; report: IntegrityReport }> {
  const start: WatchStart = {
    version: 0,
    chainHash: GENESIS_CHAIN_HASH,
    active: new ActiveVersions(),
    digest: new ActiveDigest(),
    genesisChecksum: "",
  };
  const began = performance.now();
  let entries = 0;
  let report: IntegrityReport | undefined;
  for await (const entry of store.entries({ pageSize: 1024 })) {
    entries++;
    follow(start, entry);
    if (!report) {
      const problem = entryProblem(entry, start);
      if (problem) {
        report = {
          ok: false,
          entries,
          version: entry.version,
          blueprintId: entry.blueprintId,
          problem,
          ms: 0,
        };
      }
    }
    start.version = entry.version;
    start.chainHash = entry.chainHash;
  }
  const ms = performance.now() - began;
  return {
    start,
    report: report ? { ...report, ms } : { ok: true, entries, version: start.version, ms },
  };
}

/** Follows new entries; see the module documentation. */
export class RegisterWatcher {
  readonly #store: SystemRegisterStore;
  readonly #options: WatcherOptions;
  readonly #last: WatchStart;
  readonly #now: () => number;
  #running: Promise<void> | undefined;
  #again = false;
  #lastReadAt: number;
  /** When the store first failed to be read, while it keeps failing. */
  #failingSince: number | undefined;

  /** Starts following after `start` (and keeps `start.active` and `start.digest` up). */
  constructor(store: SystemRegisterStore, start: WatchStart, options: WatcherOptions) {
    this.#store = store;
    this.#last = { ...start };
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#lastReadAt = this.#now();
  }

  /**
   * When the store was last read to the end (new entries, or none): the
   * initial scan at first (ms, on the `now` clock).
   */
  get lastReadAt(): number {
    return this.#lastReadAt;
  }

  /** The last version seen. */
  get version(): number {
    return this.#last.version;
  }

  /** The active versions, as of the last entry seen. */
  get active(): ActiveVersions {
    return this.#last.active;
  }

  /** The active set's digest, as of the last entry seen, and after each recent version. */
  get digest(): ActiveDigest {
    return this.#last.digest;
  }

  /** The chain hash of the entry with version 1 ("" while the register is empty). */
  get genesisChecksum(): string {
    return this.#last.genesisChecksum;
  }

  /**
   * Reads what was appended since the last check. Checks never overlap: a
   * call during one makes it run once more, and resolves after that.
   */
  check(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      try {
        do {
          this.#again = false;
          await this.#read();
        } while (this.#again);
      } finally {
        this.#running = undefined;
      }
    })();
    return this.#running;
  }

  /** Reads new entries if the store's version moved; store errors are logged, not thrown. */
  async #read(): Promise<void> {
    try {
      await this.#readNew();
      this.#lastReadAt = this.#now();
      if (this.#failingSince !== undefined) {
        this.#options.logger?.info(
          "System register store readable again after {seconds} s",
          { seconds: Math.round((this.#lastReadAt - this.#failingSince) / 100) / 10 },
        );
        this.#failingSince = undefined;
      }
    } catch (error) {
      const first = this.#failingSince === undefined;
      this.#failingSince ??= this.#now();
      // Logged once as the store turns unreadable; each retry after that only at debug.
      this.#options.logger?.[first ? "warning" : "debug"](
        "Cannot read new system register entries: {error}",
        { error: errorMessage(error), version: this.#last.version },
      );
    }
  }

  /** Reads and hands on the entries after the last version seen, if the store's version moved. */
  async #readNew(): Promise<void> {
    if (await this.#store.currentVersion() <= this.#last.version) return;
    const { pace, paceEvery = DEFAULT_PACE_EVERY } = this.#options;
    let handed = 0;
    for await (const entry of this.#store.entries({ afterVersion: this.#last.version })) {
      const problem = entryProblem(entry, this.#last);
      if (problem) {
        this.#options.onCorrupt({
          ok: false,
          entries: 0,
          version: entry.version,
          blueprintId: entry.blueprintId,
          problem,
          ms: 0,
        });
      }
      const known = this.#last.active.has(entry.blueprintId);
      follow(this.#last, entry);
      this.#last.version = entry.version;
      this.#last.chainHash = entry.chainHash;
      this.#options.onEvent({ entry, kind: known ? "updated" : "published" });
      if (pace && ++handed % paceEvery === 0) await pace();
    }
  }
}
