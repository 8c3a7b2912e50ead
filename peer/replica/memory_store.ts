/**
 * An in-memory replica store for unit tests: the same behaviour as the real
 * stores, entries copied in and out (a caller changing an entry, its
 * metadata or its document's bytes afterwards changes nothing stored), and a
 * switch that makes it unreachable.
 *
 * @module
 */
import { AppError } from "../../shared/errors.ts";
import {
  checkEntry,
  copyCheckpoint,
  copyEntry,
  type ReplicaEntryFields,
  sharedVersion,
} from "./entry_codec.ts";
import { checkListOptions } from "./list_options.ts";
import { ReplacementBase } from "./replacement.ts";
import type {
  ReplicaChange,
  ReplicaCheckpoint,
  ReplicaEntry,
  ReplicaIndexEntry,
  ReplicaListOptions,
  ReplicaReplacement,
  ReplicaStore,
} from "./types.ts";

/** What a message names the store as. */
const WHERE = "memory replica store";

/** In-memory {@link ReplicaStore}, for tests. */
export class MemoryReplicaStore implements ReplicaStore {
  /** Always `memory`. */
  readonly kind = "memory";
  #entries = new Map<string, ReplicaEntry>();
  #checkpoint: ReplicaCheckpoint | undefined;
  #replacement: MemoryReplacement | undefined;
  #reachable = true;
  #closed = false;

  /** Makes the store unreachable (every call fails with `unavailable`) or reachable again. */
  setReachable(reachable: boolean): void {
    this.#reachable = reachable;
  }

  checkpoint(): Promise<ReplicaCheckpoint | undefined> {
    return this.#run(() => this.#checkpoint && copyCheckpoint(this.#checkpoint));
  }

  index(): Promise<ReplicaIndexEntry[]> {
    return this.#run(() =>
      byVersion(this.#entries.values()).map(({ blueprintId, version, checksum }) => ({
        blueprintId,
        version,
        checksum,
      }))
    );
  }

  apply(change: ReplicaChange): Promise<void> {
    return this.#run(() => {
      change.upsert.forEach(checkEntry);
      const next = new Map(this.#entries);
      for (const entry of change.upsert) next.set(entry.blueprintId, copyEntry(entry));
      for (const blueprintId of change.remove) next.delete(blueprintId);
      this.#install(next, change.checkpoint);
    });
  }

  replace(): Promise<ReplicaReplacement> {
    return this.#run(() => {
      this.#replacement?.drop();
      const replacement = new MemoryReplacement({
        guard: () => this.#run(() => undefined),
        install: (entries, checkpoint) => this.#run(() => this.#install(entries, checkpoint)),
      });
      this.#replacement = replacement;
      return replacement;
    });
  }

  get(blueprintId: string): Promise<ReplicaEntry | undefined> {
    return this.#run(() => {
      const entry = this.#entries.get(blueprintId);
      return entry && copyEntry(entry);
    });
  }

  list(options: ReplicaListOptions): Promise<ReplicaEntry[]> {
    return this.#run(() => {
      const { afterVersion, limit } = checkListOptions(options);
      return byVersion(this.#entries.values())
        .filter((entry) => entry.version > afterVersion)
        .slice(0, limit)
        .map(copyEntry);
    });
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#replacement?.drop();
    return Promise.resolve();
  }

  /** Makes `entries` (owned by the store from now on) the replica, with `checkpoint`. */
  #install(entries: Map<string, ReplicaEntry>, checkpoint: ReplicaCheckpoint): void {
    const shared = sharedVersion(entries.values());
    if (shared) {
      throw new AppError(
        "failed_precondition",
        `${WHERE}: version ${shared.version} would be held by both ${
          shared.blueprintIds.join(" and ")
        }`,
      );
    }
    this.#entries = entries;
    this.#checkpoint = copyCheckpoint(checkpoint);
  }

  /** Runs `work` now, as a real store sends a command at once; failures come as rejections. */
  #run<T>(work: () => T): Promise<T> {
    try {
      if (this.#closed) throw new AppError("unavailable", `${WHERE}: the store is closed`);
      if (!this.#reachable) throw new AppError("unavailable", `${WHERE} is unreachable`);
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

/** What a {@link MemoryReplacement} needs of its store. */
interface MemoryReplacementHooks {
  /** Fails when the store cannot be used (closed, unreachable). */
  guard(): Promise<void>;
  /** Makes the entries the replica, with the checkpoint. */
  install(entries: Map<string, ReplicaEntry>, checkpoint: ReplicaCheckpoint): Promise<void>;
}

/** A replacement building the new replica in a map of its own. */
class MemoryReplacement extends ReplacementBase {
  readonly #hooks: MemoryReplacementHooks;
  #entries = new Map<string, ReplicaEntry>();

  constructor(hooks: MemoryReplacementHooks) {
    super(WHERE);
    this.#hooks = hooks;
  }

  protected override async write(entries: readonly ReplicaEntry[]): Promise<void> {
    await this.#hooks.guard();
    entries.forEach(checkEntry);
    this.checkCurrent("add entries to");
    for (const entry of entries) this.#entries.set(entry.blueprintId, copyEntry(entry));
  }

  protected override async swap(checkpoint: ReplicaCheckpoint): Promise<void> {
    await this.#hooks.guard();
    this.checkCurrent("commit");
    await this.#hooks.install(this.#entries, checkpoint);
    this.#entries = new Map();
  }

  protected override discard(): Promise<void> {
    this.#entries = new Map();
    return Promise.resolve();
  }
}

/** Entries in version order. */
function byVersion<T extends ReplicaEntryFields>(entries: Iterable<T>): T[] {
  return [...entries].sort((a, b) => a.version - b.version);
}
