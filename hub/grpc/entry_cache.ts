/**
 * Encoded register entries for the sync streams, kept in memory up to a
 * budget of bytes. A streamed entry's bytes never change (entries are
 * immutable, and streams send active entries only), so the bytes of a
 * version, once encoded, serve every later sync: a full sync of a warm hub
 * reads neither the store nor the encoder. The first sync after a start (or
 * of entries beyond the budget) reads the store: a run of versions not in
 * the cache is read in one range query, page by page.
 *
 * A stream for a peer that takes documents only up to a size sends each
 * entry with a larger document withheld (no document, `document_withheld`;
 * see `entryBytes`): read from the store and encoded for that stream, never
 * cached (the cache holds full entries only, with their documents' sizes).
 *
 * @module
 */
import type { BlueprintEntry, EntriesOptions } from "../system_register/mod.ts";
import { entryBytes } from "./encoding.ts";

/** The default budget: 64 MiB, about 50,000 entries of 1 KiB. */
export const DEFAULT_ENTRY_CACHE_BYTES = 64 * 1024 * 1024;

/** Store reads of at most this many entries at a time. */
const PAGE_SIZE = 1000;

/** One streamed entry: its version and its SystemRegisterEntry bytes. */
export interface EncodedEntry {
  /** The entry's version. */
  version: number;
  /** Its SystemRegisterEntry bytes. */
  bytes: Uint8Array;
  /** Whether its document was left out (larger than the stream's `maxDocumentBytes`). */
  withheld: boolean;
}

/** An entry as the cache holds it. */
export interface CachedEntry {
  /** Its SystemRegisterEntry bytes, with the document. */
  bytes: Uint8Array;
  /** The size of its document, in bytes (whether a stream may send these bytes). */
  documentBytes: number;
}

/** Options of {@link EntryCache.entries}. */
export interface StreamOptions {
  /** Entries with larger documents are sent withheld (default: none is). */
  maxDocumentBytes?: number;
}

/** Encoded entries by version, oldest evicted first once over the budget. */
export class EntryCache {
  readonly #entries = new Map<number, CachedEntry>();
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
    return this.#entries.get(version)?.bytes;
  }

  /** Keeps the entry of `version`, evicting the oldest entries to stay within the budget. */
  put(version: number, entry: CachedEntry): void {
    const size = entry.bytes.byteLength;
    if (size > this.#budgetBytes || this.#entries.has(version)) return;
    for (const [old, held] of this.#entries) {
      if (this.#bytes + size <= this.#budgetBytes) break;
      this.#entries.delete(old);
      this.#bytes -= held.bytes.byteLength;
    }
    this.#entries.set(version, entry);
    this.#bytes += size;
  }

  /**
   * The encoded entries of `versions` (ascending), in order: from the cache,
   * and from `read` (the store) for each run of versions it lacks, or holds
   * with a document above `maxDocumentBytes` (sent withheld). Throws when
   * the store lacks an entry it should hold (never a silent gap).
   */
  async *entries(
    versions: readonly number[],
    read: (options: EntriesOptions) => AsyncIterable<BlueprintEntry>,
    options: StreamOptions = {},
  ): AsyncGenerator<EncodedEntry> {
    const max = options.maxDocumentBytes ?? Number.POSITIVE_INFINITY;
    const servable = (version: number): CachedEntry | undefined => {
      const held = this.#entries.get(version);
      return held !== undefined && held.documentBytes <= max ? held : undefined;
    };
    let i = 0;
    while (i < versions.length) {
      const first = versions[i]!;
      const cached = servable(first);
      if (cached !== undefined) {
        i++;
        yield { version: first, bytes: cached.bytes, withheld: false };
        continue;
      }
      let end = i + 1;
      while (end < versions.length && servable(versions[end]!) === undefined) end++;
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
          const active = entry.isActive ? entry : { ...entry, isActive: true };
          const documentBytes = entry.document.byteLength;
          const withheld = documentBytes > max;
          const bytes = entryBytes(active, { withheld });
          if (!withheld) this.put(entry.version, { bytes, documentBytes });
          found++;
          yield { version: entry.version, bytes, withheld };
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
