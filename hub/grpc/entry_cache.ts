/**
 * Encoded register entries for the sync streams, kept in memory up to a
 * budget of bytes. A streamed entry's bytes never change (entries are
 * immutable, and streams send active entries only), so the bytes of a
 * version, once encoded, serve every later sync: a full sync of a warm hub
 * reads neither the store nor the encoder. The first sync after a start (or
 * of entries beyond the budget) reads the store: a run of versions not in
 * the cache is read in one range query, page by page.
 *
 * @module
 */
import type { BlueprintEntry, EntriesOptions } from "../system_register/types.ts";
import { entryBytes } from "./encoding.ts";

/** The default budget: 64 MiB, about 50,000 entries of 1 KiB. */
export const DEFAULT_ENTRY_CACHE_BYTES = 64 * 1024 * 1024;

/** Store reads of at most this many entries at a time. */
const PAGE_SIZE = 1000;

/** One streamed entry: its version and its SystemRegisterEntry bytes. */
export interface EncodedEntry {
  version: number;
  bytes: Uint8Array;
}

/** Encoded entries by version, oldest evicted first once over the budget. */
export class EntryCache {
  readonly #entries = new Map<number, Uint8Array>();
  readonly #budgetBytes: number;
  #bytes = 0;

  /** A cache of at most `budgetBytes` of encoded entries (0: none kept). */
  constructor(budgetBytes = DEFAULT_ENTRY_CACHE_BYTES) {
    this.#budgetBytes = budgetBytes;
  }

  /** Bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Entries held. */
  get size(): number {
    return this.#entries.size;
  }

  /** The bytes of `version`, when held. */
  get(version: number): Uint8Array | undefined {
    return this.#entries.get(version);
  }

  /** Keeps the bytes of `version`, evicting the oldest entries to stay within the budget. */
  put(version: number, bytes: Uint8Array): void {
    if (bytes.byteLength > this.#budgetBytes || this.#entries.has(version)) return;
    for (const [old, held] of this.#entries) {
      if (this.#bytes + bytes.byteLength <= this.#budgetBytes) break;
      this.#entries.delete(old);
      this.#bytes -= held.byteLength;
    }
    this.#entries.set(version, bytes);
    this.#bytes += bytes.byteLength;
  }

  /**
   * The encoded entries of `versions` (ascending), in order: from the cache,
   * and from `read` (the store) for each run of versions it lacks. Throws
   * when the store lacks an entry it should hold (never a silent gap).
   */
  async *entries(
    versions: readonly number[],
    read: (options: EntriesOptions) => AsyncIterable<BlueprintEntry>,
  ): AsyncGenerator<EncodedEntry> {
    let i = 0;
    while (i < versions.length) {
      const first = versions[i]!;
      const cached = this.#entries.get(first);
      if (cached !== undefined) {
        i++;
        yield { version: first, bytes: cached };
        continue;
      }
      let end = i + 1;
      while (end < versions.length && !this.#entries.has(versions[end]!)) end++;
      const wanted = new Set(versions.slice(i, end));
      const last = versions[end - 1]!;
      const span = last - first + 1;
      let found = 0;
      const range = read({
        afterVersion: first - 1,
        limit: span,
        pageSize: Math.min(span, PAGE_SIZE),
      });
      for await (const entry of range) {
        if (wanted.has(entry.version)) {
          // Active when the stream began (a later publication may have superseded it since).
          const bytes = entryBytes(entry.isActive ? entry : { ...entry, isActive: true });
          this.put(entry.version, bytes);
          found++;
          yield { version: entry.version, bytes };
        }
        if (entry.version >= last) break;
      }
      if (found < wanted.size) {
        throw new Error(
          `${
            wanted.size - found
          } of the entries from version ${first} to ${last} are missing from the store`,
        );
      }
      i = end;
    }
  }
}
