/**
 * Checking, copying and encoding replica entries and checkpoints, shared by
 * the replica stores: what an entry must be before a store takes it, the JSON
 * text an entry's fields (its document aside) and a checkpoint are stored
 * as, and reading them back.
 *
 * @module
 */
import { AppError } from "../../shared/errors.ts";
import { quoteInput } from "../../shared/quote.ts";
import type { ReplicaCheckpoint, ReplicaEntry, SyncKind } from "./types.ts";

/** An entry without its document: what is stored beside the document's bytes. */
export type ReplicaEntryFields = Omit<ReplicaEntry, "document">;

/** The longest blueprint id, in characters. */
export const MAX_BLUEPRINT_ID_LENGTH = 255;

/**
 * Throws an `invalid_argument` {@link AppError} unless `entry` can be stored: a blueprint id of
 * 1 to {@link MAX_BLUEPRINT_ID_LENGTH} characters, a version and a document size that are
 * whole numbers from 0, and a document (when not withheld) of `documentSize` bytes.
 */
export function checkEntry(entry: ReplicaEntry): void {
  const { blueprintId, version, documentSize, document } = entry;
  const fail = (why: string): never => {
    throw new AppError("invalid_argument", `replica entry ${quoteInput(blueprintId)}: ${why}`);
  };
  if (
    typeof blueprintId !== "string" || blueprintId.length === 0 ||
    blueprintId.length > MAX_BLUEPRINT_ID_LENGTH
  ) fail(`the blueprint id must have 1 to ${MAX_BLUEPRINT_ID_LENGTH} characters`);
  if (!isWholeNumber(version)) fail(`version ${version} is not a whole number from 0`);
  if (!isWholeNumber(documentSize)) fail(`documentSize ${documentSize} is not a whole number`);
  if (document !== undefined && document.byteLength !== documentSize) {
    fail(`its document has ${document.byteLength} bytes, but documentSize says ${documentSize}`);
  }
}

/**
 * The first pair of blueprints sharing a version among `entries` (each entry is its blueprint's
 * active one, so the register's one sequence gives each its own version); undefined when none.
 */
export function sharedVersion(
  entries: Iterable<ReplicaEntryFields>,
): { version: number; blueprintIds: [string, string] } | undefined {
  const holders = new Map<number, string>();
  for (const entry of entries) {
    const holder = holders.get(entry.version);
    if (holder !== undefined) {
      return { version: entry.version, blueprintIds: [holder, entry.blueprintId] };
    }
    holders.set(entry.version, entry.blueprintId);
  }
  return undefined;
}

/** A copy of an entry sharing nothing with it (document bytes and metadata included). */
export function copyEntry(entry: ReplicaEntry): ReplicaEntry {
  return {
    ...entryFields(entry),
    document: entry.document === undefined ? undefined : entry.document.slice(),
  };
}

/** An entry's fields (its document aside), copied, without any other property the object has. */
export function entryFields(entry: ReplicaEntryFields): ReplicaEntryFields {
  return {
    blueprintId: entry.blueprintId,
    version: entry.version,
    publishedAt: entry.publishedAt,
    publishedBy: entry.publishedBy,
    publicationTransactionId: entry.publicationTransactionId,
    checksum: entry.checksum,
    metadata: { ...entry.metadata },
    documentSize: entry.documentSize,
  };
}

/** A copy of a checkpoint, without any other property the object has. */
export function copyCheckpoint(checkpoint: ReplicaCheckpoint): ReplicaCheckpoint {
  return {
    version: checkpoint.version,
    blueprints: checkpoint.blueprints,
    digest: checkpoint.digest,
    hubId: checkpoint.hubId,
    hubAddress: checkpoint.hubAddress,
    genesisChecksum: checkpoint.genesisChecksum,
    lastSyncAt: checkpoint.lastSyncAt,
    lastSyncKind: checkpoint.lastSyncKind,
  };
}

/** The JSON text of an entry's fields (its document aside). */
export function encodeEntryFields(entry: ReplicaEntryFields): string {
  // The fields listed (not the object as is, which may carry more).
  return JSON.stringify(entryFields(entry));
}

/** Reads back {@link encodeEntryFields}' text; undefined when it is not an entry's. */
export function decodeEntryFields(text: string): ReplicaEntryFields | undefined {
  const value = parseObject(text);
  if (!value) return undefined;
  const metadata = metadataOf(value.metadata);
  if (
    typeof value.blueprintId !== "string" || !isWholeNumber(value.version) ||
    typeof value.publishedAt !== "number" || typeof value.publishedBy !== "string" ||
    typeof value.publicationTransactionId !== "string" || typeof value.checksum !== "string" ||
    !metadata || !isWholeNumber(value.documentSize)
  ) return undefined;
  return {
    blueprintId: value.blueprintId,
    version: value.version,
    publishedAt: value.publishedAt,
    publishedBy: value.publishedBy,
    publicationTransactionId: value.publicationTransactionId,
    checksum: value.checksum,
    metadata,
    documentSize: value.documentSize,
  };
}

/** Reads back publisher labels stored as JSON text; undefined when they are not labels. */
export function decodeMetadata(text: string): Record<string, string> | undefined {
  return metadataOf(parseObject(text));
}

/** The JSON text of a checkpoint. */
export function encodeCheckpoint(checkpoint: ReplicaCheckpoint): string {
  return JSON.stringify(copyCheckpoint(checkpoint));
}

/** Reads back {@link encodeCheckpoint}'s text; undefined when it is not a checkpoint's. */
export function decodeCheckpoint(text: string): ReplicaCheckpoint | undefined {
  const value = parseObject(text);
  if (!value) return undefined;
  const kind = syncKindOf(value.lastSyncKind);
  if (
    !isWholeNumber(value.version) || !isWholeNumber(value.blueprints) ||
    typeof value.digest !== "string" || typeof value.hubId !== "string" ||
    typeof value.hubAddress !== "string" || typeof value.genesisChecksum !== "string" ||
    typeof value.lastSyncAt !== "number" || kind === undefined
  ) return undefined;
  return {
    version: value.version,
    blueprints: value.blueprints,
    digest: value.digest,
    hubId: value.hubId,
    hubAddress: value.hubAddress,
    genesisChecksum: value.genesisChecksum,
    lastSyncAt: value.lastSyncAt,
    lastSyncKind: kind,
  };
}

/** A stored sync kind; undefined when it is not one. */
export function syncKindOf(value: unknown): SyncKind | undefined {
  return value === "full" || value === "incremental" ? value : undefined;
}

function isWholeNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? value as Record<string, unknown>
      : undefined;
  } catch {
    return undefined;
  }
}

function metadataOf(value: unknown): Record<string, string> | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const labels = Object.entries(value);
  if (!labels.every(([, label]) => typeof label === "string")) return undefined;
  // fromEntries defines each label as an own property (a `__proto__` label stays a label).
  return Object.fromEntries(labels) as Record<string, string>;
}
