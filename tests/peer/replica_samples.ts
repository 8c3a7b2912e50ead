/**
 * Sample replica entries and checkpoints for the replica store tests (and the
 * crash writer process): every field set, documents of chosen bytes, and the
 * checkpoint describing a set of entries.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { digestOf } from "../../shared/contracts/active_set_digest.ts";
import type { ReplicaCheckpoint, ReplicaEntry } from "../../peer/replica/types.ts";

const encoder = new TextEncoder();

/** `sha256:` and the hex SHA-256 of `bytes`. */
export function checksumOf(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** Blueprint `bp-{n}` at version `n + 1` with a small JSON document, unless `overrides` say otherwise. */
export function sampleEntry(n: number, overrides: Partial<ReplicaEntry> = {}): ReplicaEntry {
  const document = encoder.encode(JSON.stringify({ title: `Blueprint ${n}`, actions: [] }));
  return {
    blueprintId: `bp-${n}`,
    version: n + 1,
    publishedAt: Date.UTC(2026, 0, 1) + n,
    publishedBy: n % 2 === 0 ? "operator" : "hub:n0",
    publicationTransactionId: `tx-${n.toString(16).padStart(8, "0")}`,
    checksum: checksumOf(document),
    metadata: { category: `c${n % 3}`, index: String(n) },
    document,
    documentSize: document.byteLength,
    ...overrides,
  };
}

/** `entry` with `document` as its document (and its size and checksum to match). */
export function withDocument(entry: ReplicaEntry, document: Uint8Array): ReplicaEntry {
  return { ...entry, document, documentSize: document.byteLength, checksum: checksumOf(document) };
}

/** `entry` with its document withheld (its size and checksum kept). */
export function withheld(entry: ReplicaEntry): ReplicaEntry {
  return { ...entry, document: undefined };
}

/** A document of `size` bytes, each byte from `seed` (not valid UTF-8 for most seeds). */
export function binaryDocument(size: number, seed = 0): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (seed + i * 131) & 0xff;
  return bytes;
}

/** The checkpoint describing `entries` (version: the highest of theirs, 0 for none). */
export function checkpointOf(
  entries: readonly ReplicaEntry[],
  overrides: Partial<ReplicaCheckpoint> = {},
): ReplicaCheckpoint {
  return {
    version: entries.reduce((max, entry) => Math.max(max, entry.version), 0),
    blueprints: entries.length,
    digest: digestOf(entries),
    hubId: "n0",
    hubAddress: "127.0.0.1:50051",
    genesisChecksum: `sha256:${"ab".repeat(32)}`,
    lastSyncAt: Date.UTC(2026, 0, 2),
    lastSyncKind: "full",
    ...overrides,
  };
}

/** Entries in version order, as stores list them. */
export function byVersion(entries: readonly ReplicaEntry[]): ReplicaEntry[] {
  return [...entries].sort((a, b) => a.version - b.version);
}

/** The index of `entries` (blueprint, version, checksum), in version order. */
export function indexOf(
  entries: readonly ReplicaEntry[],
): { blueprintId: string; version: number; checksum: string }[] {
  return byVersion(entries).map(({ blueprintId, version, checksum }) => ({
    blueprintId,
    version,
    checksum,
  }));
}
