/**
 * Replica entries as they travel to the SQLite replica's writer worker
 * (`sqlite_writer_worker.ts`): a part of a replacement as columns written as
 * one JSON text, and its documents' bytes copied one after another into one
 * buffer that is transferred, not cloned. Posting a message clones each value
 * in it one by one: the columns of a thousand entries as arrays took some
 * 1.5 µs an entry of the sending thread, the same as one text about a third
 * of that. The copy of the documents leaves the caller free to reuse its
 * buffers as soon as the entries are handed over.
 *
 * @module
 */
import type { StatementSync } from "node:sqlite";
import type { ReplicaEntry } from "./types.ts";

/** Document bytes of one {@link RowBatch} at most (beside one larger document alone). */
export const BATCH_BYTES = 8 * 1024 * 1024;

/** Entries as columns, in the order given (the last of a blueprint wins). */
interface RowColumns {
  /** Blueprint ids. */
  blueprintIds: string[];
  /** Versions. */
  versions: number[];
  /** Publication times (ms since the epoch). */
  publishedAt: number[];
  /** Publishers. */
  publishedBy: string[];
  /** Publication ids. */
  publicationTransactionIds: string[];
  /** Checksums. */
  checksums: string[];
  /** Publisher labels. */
  metadata: Record<string, string>[];
  /** Document sizes (also of withheld documents). */
  documentSizes: number[];
  /** Where each document starts in the batch's documents; -1 when it was withheld. */
  documentStarts: number[];
}

/** A part of a replacement, ready to post. */
export interface RowBatch {
  /** The entries' {@link RowColumns} as JSON text. */
  columns: string;
  /** The documents' bytes, one after another (the buffer may be longer). */
  documents: ArrayBuffer;
  /** Bytes of documents in {@link RowBatch.documents}. */
  bytes: number;
}

/**
 * `entries` as batches of at most {@link BATCH_BYTES} of documents each (the documents copied
 * into a buffer from `allocate`, of at least the bytes asked: the caller may reuse its own
 * buffers once this returns); post each with its `documents` in the transfer list.
 */
export function rowBatches(
  entries: readonly ReplicaEntry[],
  allocate: (bytes: number) => ArrayBuffer = (bytes) => new ArrayBuffer(bytes),
): RowBatch[] {
  const batches: RowBatch[] = [];
  let from = 0;
  while (from < entries.length) {
    let to = from;
    let bytes = 0;
    while (to < entries.length) {
      const size = entries[to]!.document?.byteLength ?? 0;
      if (to > from && bytes + size > BATCH_BYTES) break;
      bytes += size;
      to++;
    }
    batches.push(batchOf(entries.slice(from, to), { bytes, documents: allocate(bytes) }));
    from = to;
  }
  return batches;
}

function batchOf(
  entries: readonly ReplicaEntry[],
  into: { bytes: number; documents: ArrayBuffer },
): RowBatch {
  const count = entries.length;
  const columns: RowColumns = {
    blueprintIds: new Array(count),
    versions: new Array(count),
    publishedAt: new Array(count),
    publishedBy: new Array(count),
    publicationTransactionIds: new Array(count),
    checksums: new Array(count),
    metadata: new Array(count),
    documentSizes: new Array(count),
    documentStarts: new Array(count),
  };
  const documents = new Uint8Array(into.documents);
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const entry = entries[i]!;
    columns.blueprintIds[i] = entry.blueprintId;
    columns.versions[i] = entry.version;
    columns.publishedAt[i] = entry.publishedAt;
    columns.publishedBy[i] = entry.publishedBy;
    columns.publicationTransactionIds[i] = entry.publicationTransactionId;
    columns.checksums[i] = entry.checksum;
    columns.metadata[i] = entry.metadata;
    columns.documentSizes[i] = entry.documentSize;
    const { document } = entry;
    if (document === undefined) {
      columns.documentStarts[i] = -1;
    } else {
      columns.documentStarts[i] = offset;
      documents.set(document, offset);
      offset += document.byteLength;
    }
  }
  return { columns: JSON.stringify(columns), documents: into.documents, bytes: into.bytes };
}

/**
 * Runs `upsert` (the entry table's, `sqlite_schema.ts`) with each entry of a batch as its
 * parameters, in order.
 */
export function upsertBatch(batch: RowBatch, upsert: StatementSync): void {
  const columns = JSON.parse(batch.columns) as RowColumns;
  const documents = new Uint8Array(batch.documents);
  const { blueprintIds, versions, publishedAt, publishedBy, publicationTransactionIds } = columns;
  const { checksums, metadata, documentSizes, documentStarts } = columns;
  for (let i = 0; i < blueprintIds.length; i++) {
    const start = documentStarts[i]!;
    const size = documentSizes[i]!;
    upsert.run(
      blueprintIds[i]!,
      versions[i]!,
      publishedAt[i]!,
      publishedBy[i]!,
      publicationTransactionIds[i]!,
      checksums[i]!,
      JSON.stringify(metadata[i]!),
      start < 0 ? null : documents.subarray(start, start + size),
      size,
    );
  }
}
