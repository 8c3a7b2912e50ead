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
 * Writes take one round trip: value writes, expiry-only refreshes and
 * deletions are Lua script calls (and DELs) sent in one pipeline. Refreshes
 * only `PEXPIRE`; a second round trip writes the values of the refreshed keys
 * that turned out to be missing.
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
  planBatch,
  putArgs,
  type RefreshPlan,
  ttlOf,
} from "./redis_batch_plan.ts";
import { openRedisConnection, queueScript, type RedisConnection } from "./redis_connection.ts";
import {
  type AdvertisementStore,
  decodeAdvertisement,
  encodeAdvertisement,
  FULL_SYNC_KEY,
  type FullSyncRecord,
  parseAdvertisementKey,
  type StoreBatch,
  type StoredAdvertisement,
  type WriteOutcome,
} from "./types.ts";

export { DEFAULT_COMMAND_TIMEOUT_MS, DEFAULT_MAX_RECONNECT_DELAY_MS } from "./redis_connection.ts";

/** Most keys handled by one script call, so that no call blocks Redis for long. */
export const SCRIPT_CHUNK_SIZE = 5000;
/** The SCAN page size hint used by {@link RedisAdvertisementStore.loadAll}. */
export const SCAN_COUNT = 1000;
/** The SCAN pattern matching every advertisement key (and the full-sync key, which is skipped). */
export const ADVERTISEMENT_PATTERN = "peer:advert:*";

/** Options of {@link openRedisStore}. */
export interface RedisStoreOptions {
  /** Where connection events go (default: `log("peer", "store")`). */
  logger?: Logger;
  /** Time after which a command fails (default `DEFAULT_COMMAND_TIMEOUT_MS`, 2000). */
  commandTimeoutMs?: number;
  /** Longest wait between reconnection attempts (default `DEFAULT_MAX_RECONNECT_DELAY_MS`, 2000). */
  maxReconnectDelayMs?: number;
}

// KEYS: advertisement keys. ARGV[1]: "NX" to write only keys that do not exist, "" otherwise;
// ARGV[2i], ARGV[2i+1]: the value and the TTL (ms) of KEYS[i]. Returns the number of keys written.
const PUT_SCRIPT = `
local nx = ARGV[1] == 'NX'
local written = 0
for i, key in ipairs(KEYS) do
  local ok
  if nx then
    ok = redis.call('SET', key, ARGV[2 * i], 'PX', ARGV[2 * i + 1], 'NX')
  else
    ok = redis.call('SET', key, ARGV[2 * i], 'PX', ARGV[2 * i + 1])
  end
  if ok then written = written + 1 end
end
return written
`;

// ARGV[1]: advertisement keys joined by newlines (keys never hold one); ARGV[2]: their new TTL
// (ms). Only moves expiries, never writes a value. Returns the 1-based positions of the keys that
// do not exist. The keys travel as one argument rather than as KEYS: encoding ten thousand
// arguments costs the client more than the whole refresh costs Redis (standalone Redis only,
// like the other multi-key scripts here).
const REFRESH_SCRIPT = `
local missing = {}
local ttl = ARGV[2]
local i = 0
for key in string.gmatch(ARGV[1], '[^\\n]+') do
  i = i + 1
  if redis.call('PEXPIRE', key, ttl) == 0 then missing[#missing + 1] = i end
end
return missing
`;

// KEYS: keys. Returns the PTTL of each (values come with a plain MGET: cheaper than from Lua).
const PTTL_SCRIPT = `
local out = {}
for i, key in ipairs(KEYS) do out[i] = redis.call('PTTL', key) end
return out
`;

const PUT_COMMAND = "peerAdvertPut";
const REFRESH_COMMAND = "peerAdvertRefresh";
const PTTL_COMMAND = "peerAdvertPttl";

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

/** Values and TTLs of one SCAN page's keys, as Redis sent them. */
interface FetchedPage {
  keys: string[];
  values: unknown[];
  pttls: unknown[];
  /** When the reply arrived (PTTLs count from then). */
  at: number;
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

  /** Creates the store and starts connecting in the background; prefer {@link openRedisStore}. */
  constructor(url: string, options: RedisStoreOptions = {}) {
    this.#logger = options.logger ?? log("peer", "store");
    this.#connection = openRedisConnection(url, {
      ...options,
      logger: this.#logger,
      connectionName: "peer-advertisements",
    });
    this.#client = this.#connection.client;
    this.#client.defineCommand(PUT_COMMAND, { lua: PUT_SCRIPT });
    this.#client.defineCommand(REFRESH_COMMAND, { lua: REFRESH_SCRIPT });
    this.#client.defineCommand(PTTL_COMMAND, { lua: PTTL_SCRIPT });
  }

  /** Whether the connection to Redis is ready for commands. */
  get connected(): boolean {
    return this.#connection.connected;
  }

  /** Waits until the connection is ready; `false` when it is not within `timeoutMs`. */
  ready(timeoutMs?: number): Promise<boolean> {
    return this.#connection.ready(timeoutMs);
  }

  async loadAll(): Promise<StoredAdvertisement[]> {
    await this.#connection.ensureReady("load advertisements");
    const pages: Promise<FetchedPage>[] = [];
    // SCAN may return a key more than once.
    const seen = new Set<string>();
    let cursor = "0";
    try {
      do {
        const [next, keys] = await this.#client.scan(
          cursor,
          "MATCH",
          ADVERTISEMENT_PATTERN,
          "COUNT",
          SCAN_COUNT,
        );
        cursor = next;
        const wanted: string[] = [];
        for (const key of keys) {
          if (seen.has(key) || parseAdvertisementKey(key) === undefined) continue;
          seen.add(key);
          wanted.push(key);
        }
        // Each page is fetched while the next SCAN is on its way (ioredis pipelines them), and
        // decoded only at the end, so that Redis never waits for the decoding.
        if (wanted.length > 0) pages.push(this.#fetchPage(wanted));
      } while (cursor !== "0");
      const fetched = await Promise.all(pages);
      return this.#decodePages(fetched);
    } catch (error) {
      await Promise.allSettled(pages);
      throw this.#connection.failure("loading advertisements failed", error);
    }
  }

  async write(batch: StoreBatch): Promise<WriteOutcome> {
    await this.#connection.ensureReady("write advertisements");
    const plan = planBatch(batch, Date.now());
    if (plan.sets.length + plan.refreshes.length + plan.deletes.length === 0) {
      return { restored: plan.restored };
    }
    const pipeline = this.#client.pipeline();
    // Refreshes sharing a lease end (all of one bulk request) go together; each chunk has one TTL.
    const refreshChunks = groupByExpiry(plan.refreshes).flatMap((group) =>
      chunks(group, SCRIPT_CHUNK_SIZE)
    );
    const now = Date.now();
    for (const chunk of chunks(plan.sets, SCRIPT_CHUNK_SIZE)) {
      queueScript(pipeline, PUT_COMMAND, {
        keys: chunk.map((s) => s.key),
        args: putArgs(chunk, "", now),
      });
    }
    for (const chunk of refreshChunks) {
      queueScript(pipeline, REFRESH_COMMAND, {
        keys: [],
        args: [chunk.map((r) => r.key).join("\n"), ttlOf(chunk[0]!.expiresAt, now)],
      });
    }
    for (const chunk of chunks(plan.deletes, SCRIPT_CHUNK_SIZE)) pipeline.del(...chunk);
    const replies = await this.#connection.exec(pipeline, "writing advertisements failed");

    // Replies of the refresh scripts follow those of the put scripts.
    const firstRefresh = Math.ceil(plan.sets.length / SCRIPT_CHUNK_SIZE);
    const missing: RefreshPlan[] = [];
    refreshChunks.forEach((chunk, i) => {
      const positions = replies[firstRefresh + i];
      if (!Array.isArray(positions)) return;
      for (const position of positions) {
        const entry = chunk[Number(position) - 1];
        if (entry) missing.push(entry);
      }
    });
    return { restored: plan.restored + await this.#restore(missing) };
  }

  async loadFullSync(): Promise<FullSyncRecord | undefined> {
    await this.#connection.ensureReady("load the full-sync record");
    let value: string | null;
    try {
      value = await this.#client.get(FULL_SYNC_KEY);
    } catch (error) {
      throw this.#connection.failure("loading the full-sync record failed", error);
    }
    return value === null ? undefined : decodeFullSyncRecord(value);
  }

  async saveFullSync(record: FullSyncRecord): Promise<void> {
    await this.#connection.ensureReady("save the full-sync record");
    try {
      await this.#client.set(FULL_SYNC_KEY, JSON.stringify(record));
    } catch (error) {
      throw this.#connection.failure("saving the full-sync record failed", error);
    }
  }

  onReconnect(listener: () => void): void {
    this.#connection.onReconnect(listener);
  }

  /** Closes the connection (QUIT when connected); never waits for an unreachable Redis. */
  close(): Promise<void> {
    return this.#connection.close();
  }

  /** Values (MGET) and TTLs (one script call) of some keys, in one round trip. */
  async #fetchPage(keys: string[]): Promise<FetchedPage> {
    const pipeline = this.#client.pipeline();
    pipeline.mget(keys);
    queueScript(pipeline, PTTL_COMMAND, { keys, args: [] });
    const [values, pttls] = await this.#connection.exec(pipeline, "loading advertisements failed");
    return {
      keys,
      values: Array.isArray(values) ? values : [],
      pttls: Array.isArray(pttls) ? pttls : [],
      at: Date.now(),
    };
  }

  /** The live advertisements of fetched pages; keys not holding one are skipped. */
  #decodePages(pages: FetchedPage[]): StoredAdvertisement[] {
    const out: StoredAdvertisement[] = [];
    let withoutTtl = 0;
    let undecodable = 0;
    for (const { keys, values, pttls, at } of pages) {
      for (let i = 0; i < keys.length; i++) {
        const value: unknown = values[i];
        const pttl = Number(pttls[i]);
        // Gone since the SCAN (nil, -2), or not a string (MGET gives nil for other types).
        if (typeof value !== "string" || pttl === -2) continue;
        if (pttl < 0) {
          // No TTL (-1): not written by a peer, whose every advertisement has a lease. Left
          // alone rather than loaded with an invented lease that could keep it alive forever.
          withoutTtl++;
          continue;
        }
        const id = parseAdvertisementKey(keys[i] ?? "");
        const advertisement = decodeAdvertisement(value);
        if (!id || !advertisement) {
          undecodable++;
          continue;
        }
        // The key is the contract: it decides which register and peer the entry is about.
        advertisement.registerId = id.registerId;
        if (id.peerId !== undefined) advertisement.peerId = id.peerId;
        else if (advertisement.peerId !== undefined) delete advertisement.peerId;
        out.push({ advertisement, expiresAt: at + pttl });
      }
    }
    if (withoutTtl > 0 || undecodable > 0) {
      this.#logger.warn(
        "Skipped {withoutTtl} advertisement keys without a TTL and {undecodable} undecodable values in Redis at {where}",
        { withoutTtl, undecodable, where: this.#connection.where },
      );
    }
    return out;
  }

  /** Writes the values of refreshed keys found missing (unless written since); returns how many. */
  async #restore(missing: RefreshPlan[]): Promise<number> {
    const now = Date.now();
    const live = missing.filter((entry) => entry.expiresAt > now);
    if (live.length === 0) return 0;
    const pipeline = this.#client.pipeline();
    const entries = live.map((r) => ({
      key: r.key,
      value: encodeAdvertisement(r.advertisement),
      expiresAt: r.expiresAt,
    }));
    for (const chunk of chunks(entries, SCRIPT_CHUNK_SIZE)) {
      queueScript(pipeline, PUT_COMMAND, {
        keys: chunk.map((r) => r.key),
        args: putArgs(chunk, "NX", now),
      });
    }
    const replies = await this.#connection.exec(
      pipeline,
      "restoring missing advertisements failed",
    );
    const restored = replies.reduce<number>((sum, n) => sum + Number(n), 0);
    if (restored > 0) {
      this.#logger.info("Restored {restored} advertisements missing from Redis at {where}", {
        restored,
        where: this.#connection.where,
      });
    }
    return restored;
  }
}
