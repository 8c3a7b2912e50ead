/**
 * The Redis advertisement store. Keys follow the contract
 * (`peer:advert:local:{registerId}`, `peer:advert:remote:{peerId}:{registerId}`),
 * values are the advertisements' JSON, and each key's TTL is its lease.
 *
 * The store never waits for Redis: it opens while Redis is down, fails fast
 * with an `unavailable` `AppError` while it cannot reach it, keeps
 * reconnecting in the background and tells {@link RedisAdvertisementStore.onReconnect}
 * listeners each time it is back (the connection rules are in
 * `redis_connection.ts`, shared with the replica store).
 *
 * Reads and writes run one at a time, in order. A load pages through the
 * keys with SCAN (`redis_load.ts`). A write is planned without Redis
 * (`redis_batch_plan.ts`: at most one operation per key); its value writes,
 * expiry-only refreshes and deletions are Lua script calls (and DELs) of a
 * few thousand keys each, sent without waiting for each answer but with a
 * bound on those unanswered (`redis_sender.ts`; the scripts are in
 * `redis_scripts.ts`): a small write is one round
 * trip, a million keys never sit encoded at once nor block Redis for long.
 * Refreshes only `PEXPIRE`; a second round trip writes the values of the
 * refreshed keys that turned out to be missing. A full sync's value writes
 * and deletions go through a journal committed with its record
 * (`redis_journal.ts`): they land all together or not at all, even across a
 * crash.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import type { Redis } from "ioredis";
import { log } from "../../shared/logging.ts";
import { decodeFullSyncRecord } from "./full_sync_codec.ts";
import {
  chunks,
  groupByExpiry,
  missingRefreshes,
  planBatch,
  type RefreshPlan,
  ttlOf,
} from "./redis_batch_plan.ts";
import { openRedisConnection, type RedisConnection, runScript } from "./redis_connection.ts";
import { settleJournal, writeThroughJournal } from "./redis_journal.ts";
import { loadAdvertisements } from "./redis_load.ts";
import { defineStoreCommands, REFRESH_COMMAND, sendPuts } from "./redis_scripts.ts";
import { BoundedSender } from "./redis_sender.ts";
import {
  type AdvertisementStore,
  FULL_SYNC_KEY,
  type FullSyncRecord,
  type StoreBatch,
  type StoredAdvertisement,
  type WriteOutcome,
} from "./types.ts";

export { DEFAULT_COMMAND_TIMEOUT_MS, DEFAULT_MAX_RECONNECT_DELAY_MS } from "./redis_connection.ts";

/** Most keys handled by one script call, so that no call blocks Redis for long. */
export const SCRIPT_CHUNK_SIZE = 5000;

/** Options of {@link openRedisStore}. */
export interface RedisStoreOptions {
  /** Where connection events go (default: `log("peer", "store")`). */
  logger?: Logger;
  /** Time after which a command fails (default `DEFAULT_COMMAND_TIMEOUT_MS`, 2000). */
  commandTimeoutMs?: number;
  /** Longest wait between reconnection attempts (default `DEFAULT_MAX_RECONNECT_DELAY_MS`, 2000). */
  maxReconnectDelayMs?: number;
}

/**
 * Opens the Redis store at `url` (`redis://[user:password@]host:port[/db]`). Returns at once,
 * without waiting for a connection: calls made while Redis is unreachable fail fast with an
 * `unavailable` {@link AppError}, and the store connects in the background.
 */
export function openRedisStore(
  url: string,
  options: RedisStoreOptions = {},
): RedisAdvertisementStore {
  return new RedisAdvertisementStore(url, options);
}

/**
 * {@link AdvertisementStore} on Redis. TTLs are real time: the store measures leases with
 * `Date.now()`, whatever clock its caller uses.
 */
export class RedisAdvertisementStore implements AdvertisementStore {
  /** Always `redis`. */
  readonly kind = "redis";
  readonly #connection: RedisConnection;
  readonly #client: Redis;
  readonly #logger: Logger;
  /** The tail of the queue of reads and writes: one at a time, in order. */
  #queue: Promise<unknown> = Promise.resolve();
  /** Whether what a crash may have left of a full sync was settled since the connection. */
  #journalSettled = false;

  /** Creates the store and starts connecting in the background; prefer {@link openRedisStore}. */
  constructor(url: string, options: RedisStoreOptions = {}) {
    this.#logger = options.logger ?? log("peer", "store");
    this.#connection = openRedisConnection(url, {
      ...options,
      logger: this.#logger,
      connectionName: "peer-advertisements",
    });
    this.#client = this.#connection.client;
    defineStoreCommands(this.#client);
    // A Redis that comes back may hold what a crash (of this peer) left of a full sync.
    this.#connection.onReconnect(() => this.#journalSettled = false);
  }

  /** Whether the connection to Redis is ready for commands. */
  get connected(): boolean {
    return this.#connection.connected;
  }

  /** Waits until the connection is ready; `false` when it is not within `timeoutMs`. */
  ready(timeoutMs?: number): Promise<boolean> {
    return this.#connection.ready(timeoutMs);
  }

  loadAll(): Promise<StoredAdvertisement[]> {
    return this.#serially(() => this.#loadAll());
  }

  async #loadAll(): Promise<StoredAdvertisement[]> {
    await this.#connection.ensureReady("load advertisements");
    await this.#settleJournal();
    return await loadAdvertisements(this.#connection, this.#logger);
  }

  write(batch: StoreBatch): Promise<WriteOutcome> {
    return this.#serially(() => this.#write(batch));
  }

  async #write(batch: StoreBatch): Promise<WriteOutcome> {
    await this.#connection.ensureReady("write advertisements");
    await this.#settleJournal();
    const now = Date.now();
    const plan = planBatch(batch, now);
    const record = batch.fullSync;
    const sender = new BoundedSender(this.#connection, "writing advertisements failed");
    // Lease renewals only move the expiries of values that stay: they go first, outside any
    // journal (a crash between them and the changes leaves the same values either way). Those
    // sharing a lease end (all of one bulk request) go together; each chunk has one TTL.
    const refreshChunks = groupByExpiry(plan.refreshes).flatMap((group) =>
      chunks(group, SCRIPT_CHUNK_SIZE)
    );
    const refreshed: Promise<unknown>[] = [];
    for (const chunk of refreshChunks) {
      const keys = chunk.map((r) => r.key).join("\n");
      const args = [keys, ttlOf(chunk[0]!.expiresAt, now)];
      const sent = await sender.send(
        keys.length,
        () => runScript(this.#client, REFRESH_COMMAND, { keys: [], args }),
      );
      refreshed.push(sent.reply);
    }
    if (record && plan.sets.length + plan.deletes.length > 0) {
      // A full sync's changes and record: all or nothing (redis_journal.ts).
      await writeThroughJournal(this.#connection, {
        sets: plan.sets,
        deletes: plan.deletes,
        record,
      });
    } else {
      for (const chunk of chunks(plan.sets, SCRIPT_CHUNK_SIZE)) {
        await sendPuts(sender, { client: this.#client, chunk, mode: "" });
      }
      for (const chunk of chunks(plan.deletes, SCRIPT_CHUNK_SIZE)) {
        await sender.send(chunk.length * 64, () => this.#client.del(...chunk));
      }
      if (record) {
        await sender.send(0, () => this.#client.set(FULL_SYNC_KEY, JSON.stringify(record)));
      }
    }
    await sender.drain();
    const missing = missingRefreshes(refreshChunks, await Promise.all(refreshed));
    return { restored: plan.restored + await this.#restore(missing) };
  }

  loadFullSync(): Promise<FullSyncRecord | undefined> {
    return this.#serially(() => this.#loadFullSync());
  }

  async #loadFullSync(): Promise<FullSyncRecord | undefined> {
    await this.#connection.ensureReady("load the full-sync record");
    await this.#settleJournal();
    let value: string | null;
    try {
      value = await this.#client.get(FULL_SYNC_KEY);
    } catch (error) {
      throw this.#connection.failure("loading the full-sync record failed", error);
    }
    return value === null ? undefined : decodeFullSyncRecord(value);
  }

  saveFullSync(record: FullSyncRecord): Promise<void> {
    return this.#serially(async () => {
      await this.#connection.ensureReady("save the full-sync record");
      await this.#settleJournal();
      try {
        await this.#client.set(FULL_SYNC_KEY, JSON.stringify(record));
      } catch (error) {
        throw this.#connection.failure("saving the full-sync record failed", error);
      }
    });
  }

  onReconnect(listener: () => void): void {
    this.#connection.onReconnect(listener);
  }

  /** Closes the connection (QUIT when connected); never waits for an unreachable Redis. */
  close(): Promise<void> {
    return this.#connection.close();
  }

  /** Runs `work` after every read and write queued before it. */
  #serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => {});
    return run;
  }

  /**
   * Finishes (or drops) what a crash left of a full sync, once after each connection, before
   * anything is read or written: the store shows a full sync whole or not at all.
   */
  async #settleJournal(): Promise<void> {
    if (this.#journalSettled) return;
    const finished = await settleJournal(this.#connection);
    this.#journalSettled = true;
    if (finished) {
      this.#logger.info(
        "Finished writing the full sync of {at} ({processed} items), which a crash had interrupted, in Redis at {where}",
        { at: finished.at, processed: finished.counts.processed, where: this.#connection.where },
      );
    }
  }

  /** Writes the values of refreshed keys found missing (unless written since); returns how many. */
  async #restore(missing: RefreshPlan[]): Promise<number> {
    const now = Date.now();
    const live = missing.filter((entry) => entry.expiresAt > now);
    if (live.length === 0) return 0;
    const sender = new BoundedSender(this.#connection, "restoring missing advertisements failed");
    const replies: Promise<unknown>[] = [];
    for (const chunk of chunks(live, SCRIPT_CHUNK_SIZE)) {
      replies.push((await sendPuts(sender, { client: this.#client, chunk, mode: "NX" })).reply);
    }
    await sender.drain();
    const restored = (await Promise.all(replies)).reduce<number>((sum, n) => sum + Number(n), 0);
    if (restored > 0) {
      this.#logger.info("Restored {restored} advertisements missing from Redis at {where}", {
        restored,
        where: this.#connection.where,
      });
    }
    return restored;
  }
}
