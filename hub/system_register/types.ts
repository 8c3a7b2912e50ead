/**
 * The system register of blueprints: what an entry holds, and the store
 * interface every adapter (embedded SQLite, MongoDB) implements.
 *
 * @module
 */

export { SYSTEM_REGISTER_ID } from "../../shared/contracts/system_register.ts";

/** One published version of a blueprint. */
export interface BlueprintEntry {
  /** The blueprint (≤ 255 characters). */
  blueprintId: string;
  /** The blueprint document: UTF-8 JSON. */
  document: Uint8Array;
  /** When it was published (ms since the epoch). */
  publishedAt: number;
  /** Who published it. */
  publishedBy: string;
  /** Its place in the one sequence across all blueprints, from 1, strictly increasing. */
  version: number;
  /** Whether this is the blueprint's current version (a re-publication makes older ones inactive). */
  isActive: boolean;
  /** The publication's id. */
  publicationTransactionId: string;
  /** `sha256:` and the hex SHA-256 of `document`. */
  checksum: string;
  /** Publisher-supplied labels. */
  metadata: Record<string, string>;
  /** Links this entry to the one before it (see `integrity.ts`). */
  chainHash: string;
}

/** What a publication supplies; the store assigns the version and the chain. */
export interface PublishInput {
  /** The blueprint. */
  blueprintId: string;
  /** Its document (UTF-8 JSON). */
  document: Uint8Array;
  /** When (ms since the epoch). */
  publishedAt: number;
  /** Who. */
  publishedBy: string;
  /** Labels. */
  metadata: Record<string, string>;
  /** The publication's id. */
  publicationTransactionId: string;
}

/** Options of {@link SystemRegisterStore.publish}. */
export interface PublishOptions {
  /** Publish only when no version of the blueprint exists yet (genesis). */
  ifAbsent?: boolean;
  /**
   * Publish only when the blueprint's active entry differs (document,
   * publisher or metadata: see `same_publication.ts`); otherwise return
   * that entry, `created: false`.
   */
  ifChanged?: boolean;
}

/** What a publication did. */
export interface PublishResult {
  /** The entry stored (or, with `ifAbsent` or `ifChanged`, the one already there). */
  entry: BlueprintEntry;
  /** Whether a new entry was stored. */
  created: boolean;
  /** Whether an earlier version of the blueprint was made inactive. */
  replaced: boolean;
}

/** The register's current state. */
export interface SystemRegisterHead {
  /** The highest version (0 when empty). */
  version: number;
  /** Entries stored. */
  entryCount: number;
  /** Active entries (one per blueprint). */
  activeCount: number;
  /** When the last one was published, if any. */
  lastPublishedAt: number | undefined;
}

/** Options of {@link SystemRegisterStore.entries}. */
export interface EntriesOptions {
  /** Only entries after this version (default 0: from the first). */
  afterVersion?: number;
  /** Only active entries (default false). */
  activeOnly?: boolean;
  /** At most this many (default: all). */
  limit?: number;
  /** Entries read per page (default 256): the whole register is never held at once. */
  pageSize?: number;
}

/** Where the system register lives. Versions are assigned atomically, also across processes sharing it. */
export interface SystemRegisterStore {
  /** `sqlite` or `mongodb`. */
  readonly kind: string;
  /** Stores a new version of a blueprint: the next version, chained to the previous entry. */
  publish(input: PublishInput, options?: PublishOptions): Promise<PublishResult>;
  /** The current version and counts. */
  head(): Promise<SystemRegisterHead>;
  /**
   * The highest version (0 when empty), cheaply: hubs poll it to learn of
   * publications made by other hubs sharing the store.
   */
  currentVersion(): Promise<number>;
  /** Entries in version order, read page by page. */
  entries(options?: EntriesOptions): AsyncIterable<BlueprintEntry>;
  /** The active entry of a blueprint. */
  latest(blueprintId: string): Promise<BlueprintEntry | undefined>;
  /** Closes the store. */
  close(): Promise<void>;
}
