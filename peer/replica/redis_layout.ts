/**
 * The Redis replica's keys, and how entries are written under them: the
 * entry's JSON (its document aside) in one hash, the document's bytes in
 * another (no field when withheld), the version in a sorted set; the same
 * three for the live replica and for a replacement's staging copy.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { ChainableCommander } from "ioredis";
import { encodeEntryFields } from "./entry_codec.ts";
import type { ReplicaEntry } from "./types.ts";

/** The replica's entry keys (a live set or a staging set). */
export interface ReplicaEntryKeys {
  /** Hash: blueprint id → the entry's JSON without its document. */
  readonly entries: string;
  /** Hash: blueprint id → the document's bytes (no field when withheld). */
  readonly documents: string;
  /** Sorted set: score the version, member the blueprint id. */
  readonly versions: string;
}

/** The live replica's keys. */
export const REPLICA_KEYS: ReplicaEntryKeys & { readonly checkpoint: string } = {
  checkpoint: "peer:replica:checkpoint",
  entries: "peer:replica:entries",
  documents: "peer:replica:documents",
  versions: "peer:replica:versions",
};

/** Where a replacement builds the new replica until its commit. */
export const STAGING_KEYS: ReplicaEntryKeys = {
  entries: "peer:replica:staging:entries",
  documents: "peer:replica:staging:documents",
  versions: "peer:replica:staging:versions",
};

/** Most entries (or removals) sent in one command. */
export const WRITE_CHUNK = 1000;

/**
 * Queues the commands storing entries under `keys` (the last entry of a blueprint wins):
 * entries' JSON, documents (or the removal of a withheld one's) and versions, in chunks.
 */
export function queueUpserts(
  target: ChainableCommander,
  write: { keys: ReplicaEntryKeys; entries: readonly ReplicaEntry[] },
): void {
  const { keys } = write;
  const last = new Map<string, ReplicaEntry>();
  for (const entry of write.entries) last.set(entry.blueprintId, entry);
  for (const chunk of chunks([...last.values()], WRITE_CHUNK)) {
    const fields: string[] = [];
    const documents: (string | Buffer)[] = [];
    const withheld: string[] = [];
    const versions: (string | number)[] = [];
    for (const entry of chunk) {
      fields.push(entry.blueprintId, encodeEntryFields(entry));
      versions.push(entry.version, entry.blueprintId);
      const { document } = entry;
      if (document === undefined) withheld.push(entry.blueprintId);
      else {
        documents.push(
          entry.blueprintId,
          Buffer.from(document.buffer, document.byteOffset, document.byteLength),
        );
      }
    }
    target.hset(keys.entries, ...fields);
    if (documents.length > 0) target.hset(keys.documents, ...documents);
    if (withheld.length > 0) target.hdel(keys.documents, ...withheld);
    target.zadd(keys.versions, ...versions);
  }
}

/** `items` in slices of at most `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
