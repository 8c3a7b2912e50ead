/**
 * The SQLite replica's tables and prepared statements: two entry tables of
 * the same shape (`replica_entries_0` and `replica_entries_1`: the blueprint
 * id is the primary key, versions are unique, the document a BLOB (NULL when
 * withheld), the metadata JSON text), and the one-row checkpoint table whose
 * `slot` names the live entry table.
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { ReplicaCheckpoint, ReplicaEntry } from "./types.ts";

/** The page size of a new replica database: entries of a kibibyte or more write a third as many pages. */
export const REPLICA_PAGE_SIZE = 16_384;

/** SQLite's extended result codes for a broken UNIQUE or PRIMARY KEY constraint. */
export const UNIQUE_VIOLATIONS: ReadonlySet<number> = new Set([2067, 1555]);

/** Which entry table: 0 or 1. */
export type Slot = 0 | 1;

/** The two entry tables; the checkpoint's `slot` says which one is live. */
export const ENTRY_TABLES = ["replica_entries_0", "replica_entries_1"] as const;

/** Creates the tables when missing. */
export const REPLICA_SCHEMA = ENTRY_TABLES.map((table) => `
CREATE TABLE IF NOT EXISTS ${table} (
  blueprint_id TEXT PRIMARY KEY NOT NULL,
  version INTEGER NOT NULL,
  published_at INTEGER NOT NULL,
  published_by TEXT NOT NULL,
  publication_transaction_id TEXT NOT NULL,
  checksum TEXT NOT NULL,
  metadata TEXT NOT NULL,
  document BLOB,
  document_size INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS ${table}_by_version ON ${table} (version);
`).join("") + `
CREATE TABLE IF NOT EXISTS replica_checkpoint (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  slot INTEGER NOT NULL CHECK (slot IN (0, 1)),
  version INTEGER NOT NULL,
  blueprints INTEGER NOT NULL,
  digest TEXT NOT NULL,
  hub_id TEXT NOT NULL,
  hub_address TEXT NOT NULL,
  genesis_checksum TEXT NOT NULL,
  last_sync_at INTEGER NOT NULL,
  last_sync_kind TEXT NOT NULL
);
`;

/** The entry columns, in {@link EntryRow} order. */
const ENTRY_COLUMNS = `blueprint_id, version, published_at, published_by,
  publication_transaction_id, checksum, metadata, document, document_size`;

/** An entry as bound to the upsert statement. */
export type EntryRow = [
  blueprintId: string,
  version: number,
  publishedAt: number,
  publishedBy: string,
  publicationTransactionId: string,
  checksum: string,
  metadata: string,
  document: Uint8Array | null,
  documentSize: number,
];

/** The prepared statements of one entry table. */
export interface TableStatements {
  /** Writes an entry ({@link EntryRow}), replacing its blueprint's. */
  upsert: StatementSync;
  /** Deletes a blueprint's entry. */
  remove: StatementSync;
  /** Deletes every entry. */
  clear: StatementSync;
  /** A blueprint's entry. */
  get: StatementSync;
  /** Entries above a version, in version order, at most a number of them. */
  list: StatementSync;
  /** Every entry's blueprint, version and checksum, in version order. */
  index: StatementSync;
}

/** The prepared statements of a store. */
export interface ReplicaStatements {
  /** The statements of each entry table, by slot. */
  tables: [TableStatements, TableStatements];
  /** The live table's slot (no row before the first checkpoint). */
  liveSlot: StatementSync;
  /** The checkpoint's fields. */
  checkpoint: StatementSync;
  /** Writes the checkpoint with the live table's slot. */
  putCheckpoint: StatementSync;
}

/** The slot of the other entry table. */
export function otherSlot(slot: Slot): Slot {
  return slot === 0 ? 1 : 0;
}

/** The parameters of the upsert statement for an entry. */
export function entryRow(entry: ReplicaEntry, options: { copy?: boolean } = {}): EntryRow {
  const document = entry.document === undefined
    ? null
    : options.copy
    ? entry.document.slice()
    : entry.document;
  return [
    entry.blueprintId,
    entry.version,
    entry.publishedAt,
    entry.publishedBy,
    entry.publicationTransactionId,
    entry.checksum,
    JSON.stringify(entry.metadata),
    document,
    entry.documentSize,
  ];
}

/** Prepares the statements of a database holding {@link REPLICA_SCHEMA}. */
export function prepareReplicaStatements(db: DatabaseSync): ReplicaStatements {
  const [first, second] = ENTRY_TABLES.map((table) => ({
    upsert: db.prepare(
      `INSERT INTO ${table} (${ENTRY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (blueprint_id) DO UPDATE SET version = excluded.version,
         published_at = excluded.published_at, published_by = excluded.published_by,
         publication_transaction_id = excluded.publication_transaction_id,
         checksum = excluded.checksum, metadata = excluded.metadata,
         document = excluded.document, document_size = excluded.document_size`,
    ),
    remove: db.prepare(`DELETE FROM ${table} WHERE blueprint_id = ?`),
    // No WHERE: SQLite drops the table's pages at once instead of deleting row by row.
    clear: db.prepare(`DELETE FROM ${table}`),
    get: db.prepare(`SELECT ${ENTRY_COLUMNS} FROM ${table} WHERE blueprint_id = ?`),
    list: db.prepare(
      `SELECT ${ENTRY_COLUMNS} FROM ${table} WHERE version > ? ORDER BY version LIMIT ?`,
    ),
    index: db.prepare(`SELECT blueprint_id, version, checksum FROM ${table} ORDER BY version`),
  }));
  if (!first || !second) throw new Error("two entry tables expected");
  return {
    tables: [first, second],
    liveSlot: db.prepare("SELECT slot FROM replica_checkpoint WHERE id = 1"),
    checkpoint: db.prepare(
      `SELECT version, blueprints, digest, hub_id, hub_address, genesis_checksum, last_sync_at,
         last_sync_kind FROM replica_checkpoint WHERE id = 1`,
    ),
    putCheckpoint: db.prepare(
      `INSERT INTO replica_checkpoint (id, slot, version, blueprints, digest, hub_id, hub_address,
         genesis_checksum, last_sync_at, last_sync_kind) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET slot = excluded.slot, version = excluded.version,
         blueprints = excluded.blueprints, digest = excluded.digest, hub_id = excluded.hub_id,
         hub_address = excluded.hub_address, genesis_checksum = excluded.genesis_checksum,
         last_sync_at = excluded.last_sync_at, last_sync_kind = excluded.last_sync_kind`,
    ),
  };
}

/** The live entry table's slot (0 before the first checkpoint). */
export function liveSlot(statements: ReplicaStatements): Slot {
  return statements.liveSlot.get()?.slot === 1 ? 1 : 0;
}

/** Writes `checkpoint`, naming the table at `slot` live. */
export function putCheckpoint(
  statements: ReplicaStatements,
  checkpoint: ReplicaCheckpoint,
  slot: Slot,
): void {
  statements.putCheckpoint.run(
    slot,
    checkpoint.version,
    checkpoint.blueprints,
    checkpoint.digest,
    checkpoint.hubId,
    checkpoint.hubAddress,
    checkpoint.genesisChecksum,
    checkpoint.lastSyncAt,
    checkpoint.lastSyncKind,
  );
}
