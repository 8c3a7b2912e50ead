/**
 * A replacement of the SQLite replica: entries are kept in memory until
 * {@link FLUSH_ENTRIES} or {@link FLUSH_BYTES} are reached, then written to
 * the entry table that is not live in one short transaction; the commit
 * writes the rest and points the checkpoint at that table in one more.
 *
 * @module
 */
import { checkEntry } from "./entry_codec.ts";
import { ReplacementBase } from "./replacement.ts";
import { type EntryRow, entryRow } from "./sqlite_schema.ts";
import type { ReplicaCheckpoint, ReplicaEntry } from "./types.ts";

/** Entries a replacement keeps in memory before writing them in one transaction. */
export const FLUSH_ENTRIES = 1000;
/** Document bytes a replacement keeps in memory before writing them in one transaction. */
export const FLUSH_BYTES = 8 * 1024 * 1024;

/** What a {@link SqliteReplacement} needs of its store. */
export interface SqliteReplacementHooks {
  /** Runs a step as the store runs its calls (closed store, errors). */
  run<T>(what: string, work: () => T): Promise<T>;
  /** Writes rows into the new replica's table in one transaction. */
  flush(rows: EntryRow[]): void;
  /** Writes the last rows and makes the table live with the checkpoint, in one transaction. */
  swap(rows: EntryRow[], checkpoint: ReplicaCheckpoint): void;
  /** Empties the new replica's table (never fails). */
  clear(): Promise<void>;
}

/** A replacement filling the table that is not live. */
export class SqliteReplacement extends ReplacementBase {
  readonly #hooks: SqliteReplacementHooks;
  #pending: EntryRow[] = [];
  #pendingBytes = 0;

  /** A new, open replacement of the store at `where`, writing through `hooks`. */
  constructor(where: string, hooks: SqliteReplacementHooks) {
    super(where);
    this.#hooks = hooks;
  }

  protected override write(entries: readonly ReplicaEntry[]): Promise<void> {
    return this.#hooks.run("adding entries to a replacement failed", () => {
      entries.forEach(checkEntry);
      this.checkCurrent("add entries to");
      const bytes = entries.reduce((sum, entry) => sum + (entry.document?.byteLength ?? 0), 0);
      if (
        this.#pending.length + entries.length < FLUSH_ENTRIES &&
        this.#pendingBytes + bytes < FLUSH_BYTES
      ) {
        // Kept for later: copied, as the caller may reuse its buffers meanwhile.
        for (const entry of entries) this.#pending.push(entryRow(entry, { copy: true }));
        this.#pendingBytes += bytes;
        return;
      }
      // Written now (the caller's buffers are read before this call returns).
      const rows = this.#take();
      for (const entry of entries) rows.push(entryRow(entry));
      this.#hooks.flush(rows);
    });
  }

  protected override swap(checkpoint: ReplicaCheckpoint): Promise<void> {
    return this.#hooks.run("committing a replacement failed", () => {
      this.checkCurrent("commit");
      this.#hooks.swap(this.#take(), checkpoint);
    });
  }

  protected override discard(): Promise<void> {
    this.#take();
    return this.superseded ? Promise.resolve() : this.#hooks.clear();
  }

  #take(): EntryRow[] {
    const rows = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    return rows;
  }
}
