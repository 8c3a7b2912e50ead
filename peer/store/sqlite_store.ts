/**
 * The embedded SQLite advertisement store (`node:sqlite`), for peers without
 * Redis. One table keyed by the contract's key string, in WAL mode; each
 * write is one transaction (a full sync's with its record); expired rows are
 * never loaded and are purged now and then.
 *
 * @module
 */
import type { DatabaseSync, SQLOutputValue, StatementSync } from "node:sqlite";
import { type Clock, systemClock } from "../../shared/clock.ts";
import { openSqliteDatabase } from "../../shared/sqlite.ts";
import { inWriteTransaction, runSqliteWork, sqliteUnavailable } from "../../shared/sqlite_work.ts";
import { AppError } from "../../shared/errors.ts";
import { decodeFullSyncRecord } from "./full_sync_codec.ts";
import {
  type Advertisement,
  advertisementKey,
  type AdvertisementStore,
  decodeAdvertisement,
  encodeAdvertisement,
  FULL_SYNC_KEY,
  type FullSyncRecord,
  type StoreBatch,
  type StoredAdvertisement,
  type WriteOutcome,
} from "./types.ts";

/** Options of {@link openSqliteStore}. */
export interface SqliteStoreOptions {
  /** The clock deciding expiry (default: the system clock). */
  clock?: Clock;
}

/** Least time between two purges of expired rows, in milliseconds. */
export const PURGE_INTERVAL_MS = 60_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS advertisements (
  key TEXT PRIMARY KEY NOT NULL,
  peer_id TEXT,
  register_id TEXT NOT NULL,
  value TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS advertisements_by_expiry ON advertisements (expires_at);
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
) WITHOUT ROWID;
`;

/** Opens (creating it and its directory if needed) the SQLite store at `path`. */
export function openSqliteStore(
  path: string,
  options: SqliteStoreOptions = {},
): SqliteAdvertisementStore {
  return new SqliteAdvertisementStore(path, options);
}

/** The prepared statements of a store. */
interface Statements {
  upsert: StatementSync;
  refresh: StatementSync;
  remove: StatementSync;
  loadLive: StatementSync;
  purge: StatementSync;
  getMeta: StatementSync;
  putMeta: StatementSync;
}

/** {@link AdvertisementStore} in an embedded SQLite database. */
export class SqliteAdvertisementStore implements AdvertisementStore {
  /** Always `sqlite`. */
  readonly kind = "sqlite";
  /** The database file. */
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #clock: Clock;
  readonly #statements: Statements;
  #lastPurge = Number.NEGATIVE_INFINITY;
  #closed = false;

  /** Opens the database; prefer {@link openSqliteStore}. */
  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.path = path;
    this.#clock = options.clock ?? systemClock;
    try {
      this.#db = openSqliteDatabase(path, SCHEMA);
    } catch (error) {
      throw this.#failure("opening the database failed", error);
    }
    try {
      this.#statements = {
        upsert: this.#db.prepare(
          `INSERT INTO advertisements (key, peer_id, register_id, value, expires_at)
           VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (key) DO UPDATE SET peer_id = excluded.peer_id,
             register_id = excluded.register_id, value = excluded.value,
             expires_at = excluded.expires_at`,
        ),
        refresh: this.#db.prepare(
          "UPDATE advertisements SET expires_at = ? WHERE key = ? AND expires_at > ?",
        ),
        remove: this.#db.prepare("DELETE FROM advertisements WHERE key = ?"),
        loadLive: this.#db.prepare(
          "SELECT peer_id, register_id, value, expires_at FROM advertisements WHERE expires_at > ?",
        ),
        purge: this.#db.prepare("DELETE FROM advertisements WHERE expires_at <= ?"),
        getMeta: this.#db.prepare("SELECT value FROM meta WHERE key = ?"),
        putMeta: this.#db.prepare(
          "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        ),
      };
    } catch (error) {
      this.#db.close();
      throw this.#failure("preparing the database failed", error);
    }
  }

  loadAll(): Promise<StoredAdvertisement[]> {
    return this.#run("loading advertisements failed", () => {
      const out: StoredAdvertisement[] = [];
      for (const row of this.#statements.loadLive.all(this.#clock.now())) {
        const entry = toStored(row);
        if (entry) out.push(entry);
      }
      return out;
    });
  }

  write(batch: StoreBatch): Promise<WriteOutcome> {
    return this.#run("writing advertisements failed", () => {
      const now = this.#clock.now();
      const s = this.#statements;
      let restored = 0;
      inWriteTransaction(this.#db, () => {
        for (const item of batch.put) {
          const key = advertisementKey(item.advertisement);
          if (item.expiresAt <= now) {
            s.remove.run(key);
            continue;
          }
          // An expired row counts as missing, as in every store.
          if (!item.valueChanged && s.refresh.run(item.expiresAt, key, now).changes > 0) continue;
          if (!item.valueChanged) restored++;
          s.upsert.run(
            key,
            item.advertisement.peerId ?? null,
            item.advertisement.registerId,
            encodeAdvertisement(item.advertisement),
            item.expiresAt,
          );
        }
        for (const key of batch.remove) s.remove.run(advertisementKey(key));
        // In the same transaction: the record and the changes it describes commit together.
        if (batch.fullSync) s.putMeta.run(FULL_SYNC_KEY, JSON.stringify(batch.fullSync));
        if (now - this.#lastPurge >= PURGE_INTERVAL_MS) {
          s.purge.run(now);
          this.#lastPurge = now;
        }
      });
      return { restored };
    });
  }

  loadFullSync(): Promise<FullSyncRecord | undefined> {
    return this.#run("loading the full-sync record failed", () => {
      const row = this.#statements.getMeta.get(FULL_SYNC_KEY);
      return typeof row?.value === "string" ? decodeFullSyncRecord(row.value) : undefined;
    });
  }

  saveFullSync(record: FullSyncRecord): Promise<void> {
    return this.#run("saving the full-sync record failed", () => {
      this.#statements.putMeta.run(FULL_SYNC_KEY, JSON.stringify(record));
    });
  }

  /** SQLite is never unreachable: the listener is never called. */
  onReconnect(_listener: () => void): void {}

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#db.close();
    }
    return Promise.resolve();
  }

  /** Runs `work`, turning a closed store or an SQLite error into an `unavailable` {@link AppError}. */
  #run<T>(what: string, work: () => T): Promise<T> {
    const closed = this.#closed ? this.#failure(`${what}: the store is closed`) : undefined;
    return runSqliteWork(work, (error) => this.#failure(what, error), closed);
  }

  #failure(what: string, cause?: unknown): AppError {
    return sqliteUnavailable(this.path, what, cause);
  }
}

/** A row as an advertisement; its key columns decide the register and peer. */
function toStored(row: Record<string, SQLOutputValue>): StoredAdvertisement | undefined {
  const { peer_id: peerId, register_id: registerId, value, expires_at: expiresAt } = row;
  if (typeof value !== "string" || typeof registerId !== "string") return undefined;
  const decoded = decodeAdvertisement(value);
  if (!decoded) return undefined;
  const { peerId: _peerId, ...rest } = decoded;
  const advertisement: Advertisement = typeof peerId === "string"
    ? { ...rest, registerId, peerId }
    : { ...rest, registerId };
  return { advertisement, expiresAt: Number(expiresAt) };
}
