/**
 * The peer's replica of the hub's system register: its entries (each
 * blueprint's active entry) and the checkpoint describing them, and the
 * store interface every adapter (Redis, embedded SQLite, in-memory)
 * implements.
 *
 * One process writes a replica (the hub link); others may read it at the
 * same time (the peer's HTTP API). Every write is atomic with the checkpoint
 * it leads to, so after a crash at any instant the checkpoint describes
 * exactly the entries the store holds: never an entry it lacks, never a
 * version it has not got.
 *
 * @module
 */

/** One blueprint's active entry, as replicated. */
export interface ReplicaEntry {
  /** The blueprint (≤ 255 characters). */
  blueprintId: string;
  /** Its version in the register's one sequence. */
  version: number;
  /** When it was published (ms since the epoch). */
  publishedAt: number;
  /** Who published it. */
  publishedBy: string;
  /** The publication's id. */
  publicationTransactionId: string;
  /** `sha256:` and the hex SHA-256 of the document (verified on arrival). */
  checksum: string;
  /** Publisher labels. */
  metadata: Record<string, string>;
  /**
   * The document, UTF-8 JSON bytes; undefined when the hub withheld it
   * because it is larger than this peer takes (see `documentSize`).
   */
  document: Uint8Array | undefined;
  /** The document's size in bytes (also when withheld). */
  documentSize: number;
}

/** How a replica was last brought up to date. */
export type SyncKind = "full" | "incremental";

/** What the replica holds, written atomically with the entries it describes. */
export interface ReplicaCheckpoint {
  /** The replica holds the hub's active set as of this version (the sync cursor). */
  version: number;
  /** Entries the replica holds. */
  blueprints: number;
  /** The digest of the entries held (`shared/contracts/active_set_digest.ts`). */
  digest: string;
  /** The id of the hub of the last sync (`central_node_id`). */
  hubId: string;
  /** The address (`host:port`) of that hub. */
  hubAddress: string;
  /** The network's identity: the chain hash of the register's genesis entry. */
  genesisChecksum: string;
  /** When the last sync ended (ms since the epoch). */
  lastSyncAt: number;
  /** What the last sync was. */
  lastSyncKind: SyncKind;
}

/** An entry's identity, enough to rebuild the replica's digest and index. */
export interface ReplicaIndexEntry {
  /** The blueprint. */
  blueprintId: string;
  /** Its version. */
  version: number;
  /** Its checksum. */
  checksum: string;
}

/** A change to the replica: applied with its checkpoint in one atomic step. */
export interface ReplicaChange {
  /** Entries to store; each replaces its blueprint's entry. */
  upsert: readonly ReplicaEntry[];
  /** Blueprints to take out (after the upserts: a blueprint in both lists ends up out). */
  remove: readonly string[];
  /** The checkpoint describing the replica once the change is applied. */
  checkpoint: ReplicaCheckpoint;
}

/** Options of {@link ReplicaStore.list}. */
export interface ReplicaListOptions {
  /** Only entries above this version (0: from the first). */
  afterVersion: number;
  /** At most this many. */
  limit: number;
}

/**
 * A replacement of the whole replica in progress (a full sync): entries are
 * added in parts; {@link ReplicaReplacement.commit} swaps them in with their
 * checkpoint in one atomic step. Until then readers see the old replica; an
 * abort (or a crash) leaves it as it was.
 */
export interface ReplicaReplacement extends AsyncDisposable {
  /** Adds entries to the new replica (each replaces an earlier one of its blueprint). */
  add(entries: readonly ReplicaEntry[]): Promise<void>;
  /** Makes the new replica the replica, with `checkpoint`, atomically. */
  commit(checkpoint: ReplicaCheckpoint): Promise<void>;
  /** Drops the new replica; the old one stays. Disposing an uncommitted replacement aborts it. */
  abort(): Promise<void>;
}

/** Where a replica lives. */
export interface ReplicaStore {
  /** `redis`, `sqlite` or `memory`. */
  readonly kind: "redis" | "sqlite" | "memory";
  /** The checkpoint; undefined for a replica that was never synced. */
  checkpoint(): Promise<ReplicaCheckpoint | undefined>;
  /** Every entry's identity (blueprint, version, checksum), in version order. */
  index(): Promise<ReplicaIndexEntry[]>;
  /** Applies a change and its checkpoint atomically. */
  apply(change: ReplicaChange): Promise<void>;
  /** Starts replacing the whole replica (one replacement at a time; a new one drops an unfinished one). */
  replace(): Promise<ReplicaReplacement>;
  /** A blueprint's entry. */
  get(blueprintId: string): Promise<ReplicaEntry | undefined>;
  /** Entries above a version, in version order. */
  list(options: ReplicaListOptions): Promise<ReplicaEntry[]>;
  /** Closes the store. */
  close(): Promise<void>;
  /**
   * Registers `listener`, called each time the store is reachable again after being unreachable
   * (a server that restarted may have lost what it held). Stores of this process's memory or
   * files have none.
   */
  onReconnect?(listener: () => void): void;
}
