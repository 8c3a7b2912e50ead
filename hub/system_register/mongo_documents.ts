/**
 * How the MongoDB system-register store keeps an entry: the document of one
 * {@link BlueprintEntry} in the `sorcha_system_register_blueprints`
 * collection, the mapping both ways, and the collection's indexes (see
 * `mongo_store.ts` for how publications use them).
 *
 * @module
 */
import { Binary, type IndexDescription } from "mongodb";
import type { BlueprintEntry } from "./types.ts";

/**
 * The collection's indexes, created at open:
 * - `version_unique`: one entry per version (where concurrent publications serialize);
 * - `publishedAt`: the last publication time of `head()`;
 * - `isActive_version`: active entries in version order;
 * - `blueprintId_active_unique`: `blueprintId` unique **among active entries only**
 *   (`partialFilterExpression: {isActive: true}`): a re-published blueprint keeps its older
 *   versions as inactive entries, so it cannot be unique over all of them;
 * - `blueprintId_version`: a blueprint's versions, highest first;
 * - `firstOf_unique`: a blueprint is published `ifAbsent` (genesis) once.
 */
export const SYSTEM_REGISTER_INDEXES: readonly IndexDescription[] = [
  { key: { version: 1 }, name: "version_unique", unique: true },
  { key: { publishedAt: 1 }, name: "publishedAt" },
  { key: { isActive: 1, version: 1 }, name: "isActive_version" },
  {
    key: { blueprintId: 1 },
    name: "blueprintId_active_unique",
    unique: true,
    partialFilterExpression: { isActive: true },
  },
  { key: { blueprintId: 1, version: -1, isActive: 1 }, name: "blueprintId_version" },
  {
    key: { firstOf: 1 },
    name: "firstOf_unique",
    unique: true,
    partialFilterExpression: { firstOf: { $exists: true } },
  },
];

/** A {@link BlueprintEntry} as a MongoDB document. */
export interface BlueprintDocument {
  /** See {@link BlueprintEntry.version}. */
  version: number;
  /** See {@link BlueprintEntry.blueprintId}. */
  blueprintId: string;
  /** See {@link BlueprintEntry.document}. */
  document: Binary;
  /** See {@link BlueprintEntry.publishedAt}. */
  publishedAt: number;
  /** See {@link BlueprintEntry.publishedBy}. */
  publishedBy: string;
  /** See {@link BlueprintEntry.isActive}. */
  isActive: boolean;
  /** See {@link BlueprintEntry.publicationTransactionId}. */
  publicationTransactionId: string;
  /** See {@link BlueprintEntry.checksum}. */
  checksum: string;
  /** See {@link BlueprintEntry.metadata}. */
  metadata: Record<string, string>;
  /** See {@link BlueprintEntry.chainHash}. */
  chainHash: string;
  /** The blueprint id, only on an entry stored `ifAbsent` (unique). */
  firstOf?: string;
}

/** An entry as its document (`firstOf` set for an `ifAbsent` publication). */
export function toDocument(entry: BlueprintEntry, firstOf: string | undefined): BlueprintDocument {
  const document: BlueprintDocument = { ...entry, document: new Binary(entry.document) };
  if (firstOf !== undefined) document.firstOf = firstOf;
  return document;
}

/** A document as an entry (only the entry's fields; the document's bytes copied). */
export function toEntry(document: BlueprintDocument): BlueprintEntry {
  return {
    blueprintId: document.blueprintId,
    document: new Uint8Array(document.document.value()),
    publishedAt: document.publishedAt,
    publishedBy: document.publishedBy,
    version: document.version,
    isActive: document.isActive,
    publicationTransactionId: document.publicationTransactionId,
    checksum: document.checksum,
    metadata: { ...document.metadata },
    chainHash: document.chainHash,
  };
}
