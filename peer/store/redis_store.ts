/**
 * The Redis advertisement store. Keys follow the contract
 * (`peer:advert:local:{registerId}`, `peer:advert:remote:{peerId}:{registerId}`),
 * values are the advertisements' JSON, and each key's TTL is its lease.
 *
 * The store never waits for Redis: it opens while Redis is down, fails fast
 * with an `unavailable` {@link AppError} while it cannot reach it, keeps
 * reconnecting in the background and tells {@link RedisAdvertisementStore.onReconnect}
 * listeners each time it is back.
 *
 * Writes take one round trip: value writes, expiry-only refreshes and
 * deletions are Lua script calls (and DELs) sent in one pipeline. Refreshes
 * only `PEXPIRE`; a second round trip writes the values of the refreshed keys
 * that turned out to be missing.
 *
 * @module
 */
import { connect as netConnect, type Socket } from "node:net";
import process from "node:process";
import { connect as tlsConnect } from "node:tls";
import type { Logger } from "@logtape/logtape";
import { AbstractConnector, type ChainableCommander, Redis, type RedisOptions } from "ioredis";
import { settlesWithin } from "../../shared/async.ts";
import { AppError } from "../../shared/errors.ts";
import { decodeFullSyncRecord } from "./full_sync_codec.ts";
import { log } from "../../shared/logging.ts";
import {
  type Advertisement,
  advertisementKey,
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

/** Default time after which a Redis command fails, in milliseconds. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 2000;
/** Default longest wait between two reconnection attempts, in milliseconds. */
export const DEFAULT_MAX_RECONNECT_DELAY_MS = 2000;
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
  /** Time after which a command fails (default {@link DEFAULT_COMMAND_TIMEOUT_MS}). */
  commandTimeoutMs?: number;
  /** Longest wait between reconnection attempts (default {@link DEFAULT_MAX_RECONNECT_DELAY_MS}). */
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

/** One key to refresh, with what to write if it turns out to be missing. */
interface RefreshPlan {
  key: string;
  advertisement: Advertisement;
  expiresAt: number;
}

/** One key to write. */
interface SetPlan {
  key: string;
  value: string;
  expiresAt: number;
}

/** Values and TTLs of one SCAN page's keys, as Redis sent them. */
interface FetchedPage {
  keys: string[];
  values: unknown[];
  pttls: unknown[];
  /** When the reply arrived (PTTLs count from then). */
  at: number;
}

/** A batch reduced to at most one operation per key. */
interface BatchPlan {
  sets: SetPlan[];
  refreshes: RefreshPlan[];
  deletes: string[];
  /** Refreshes known to restore an entry the same batch deleted. */
  restored: number;
}

/**
 * {@link AdvertisementStore} on Redis. TTLs are real time: the store measures leases with
 * `Date.now()`, whatever clock its caller uses.
 */
export class RedisAdvertisementStore implements AdvertisementStore {
  /** Always `redis`. */
  readonly kind = "redis";
  readonly #client: Redis;
  readonly #where: string;
  readonly #logger: Logger;
  readonly #commandTimeoutMs: number;
  readonly #listeners: (() => void)[] = [];
  /** Settles when the first connection attempt has (`true` when it reached Redis). */
  readonly #firstAttempt: Promise<boolean>;
  #firstAttemptSettled = false;
  /** The connection was lost (or never made) since it was last ready. */
  #lost = false;
  /** The connection is (or was, until its close event) ready. */
  #wasReady = false;
  #lastError: string | undefined;
  #closed = false;

  /** Creates the store and starts connecting in the background; prefer {@link openRedisStore}. */
  constructor(url: string, options: RedisStoreOptions = {}) {
    this.#where = describeUrl(url);
    this.#logger = options.logger ?? log("peer", "store");
    this.#commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    const maxDelay = options.maxReconnectDelayMs ?? DEFAULT_MAX_RECONNECT_DELAY_MS;
    this.#client = new Redis(url, {
      Connector: QuietStandaloneConnector,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: this.#commandTimeoutMs,
      connectTimeout: Math.max(this.#commandTimeoutMs, 1000),
      retryStrategy: (times) => Math.min(times * 100, maxDelay),
      connectionName: "peer-advertisements",
    });
    this.#client.defineCommand(PUT_COMMAND, { lua: PUT_SCRIPT });
    this.#client.defineCommand(REFRESH_COMMAND, { lua: REFRESH_SCRIPT });
    this.#client.defineCommand(PTTL_COMMAND, { lua: PTTL_SCRIPT });
    this.#client.on("error", (error: Error) => this.#onError(error));
    this.#client.on("close", () => this.#onClose());
    this.#client.on("ready", () => this.#onReady());
    this.#firstAttempt = this.#client.connect().then(() => true, () => false).finally(() => {
      this.#firstAttemptSettled = true;
    });
  }

  /** Whether the connection to Redis is ready for commands. */
  get connected(): boolean {
    // A socket the server has closed stops being writable before ioredis hears of the close.
    return this.#client.status === "ready" && this.#client.stream?.writable === true;
  }

  /** Waits until the connection is ready; `false` when it is not within `timeoutMs`. */
  async ready(timeoutMs: number = this.#commandTimeoutMs): Promise<boolean> {
    if (this.#closed) return false;
    if (this.connected) return true;
    let onReady: (() => void) | undefined;
    const ready = new Promise<void>((resolve) => {
      onReady = resolve;
      this.#client.once("ready", onReady);
    });
    try {
      await settlesWithin(ready, timeoutMs);
    } finally {
      if (onReady) this.#client.off("ready", onReady);
    }
    return this.connected;
  }

  async loadAll(): Promise<StoredAdvertisement[]> {
    await this.#ensureReady("load advertisements");
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
      throw this.#failure("loading advertisements failed", error);
    }
  }

  async write(batch: StoreBatch): Promise<WriteOutcome> {
    await this.#ensureReady("write advertisements");
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
      queueScript(pipeline, PUT_COMMAND, chunk.map((s) => s.key), putArgs(chunk, "", now));
    }
    for (const chunk of refreshChunks) {
      queueScript(pipeline, REFRESH_COMMAND, [], [
        chunk.map((r) => r.key).join("\n"),
        ttlOf(chunk[0]!.expiresAt, now),
      ]);
    }
    for (const chunk of chunks(plan.deletes, SCRIPT_CHUNK_SIZE)) pipeline.del(...chunk);
    const replies = await this.#exec(pipeline, "writing advertisements failed");

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
    await this.#ensureReady("load the full-sync record");
    let value: string | null;
    try {
      value = await this.#client.get(FULL_SYNC_KEY);
    } catch (error) {
      throw this.#failure("loading the full-sync record failed", error);
    }
    return value === null ? undefined : decodeFullSyncRecord(value);
  }

  async saveFullSync(record: FullSyncRecord): Promise<void> {
    await this.#ensureReady("save the full-sync record");
    try {
      await this.#client.set(FULL_SYNC_KEY, JSON.stringify(record));
    } catch (error) {
      throw this.#failure("saving the full-sync record failed", error);
    }
  }

  onReconnect(listener: () => void): void {
    this.#listeners.push(listener);
  }

  /** Closes the connection (QUIT when connected); never waits for an unreachable Redis. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const client = this.#client;
    if (client.status === "end") return;
    const ended = new Promise<void>((resolve) => client.once("end", () => resolve()));
    if (client.status === "ready") {
      try {
        await client.quit();
      } catch {
        client.disconnect();
      }
    } else if (client.status === "connecting" || client.status === "connect") {
      client.disconnect();
    } else {
      // Waiting to reconnect (or never started): no socket is open, nothing to wait for.
      client.disconnect();
      return;
    }
    if (!(await settlesWithin(ended, this.#commandTimeoutMs))) client.disconnect();
  }

  /** Values (MGET) and TTLs (one script call) of some keys, in one round trip. */
  async #fetchPage(keys: string[]): Promise<FetchedPage> {
    const pipeline = this.#client.pipeline();
    pipeline.mget(keys);
    queueScript(pipeline, PTTL_COMMAND, keys, []);
    const [values, pttls] = await this.#exec(pipeline, "loading advertisements failed");
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
        { withoutTtl, undecodable, where: this.#where },
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
      queueScript(pipeline, PUT_COMMAND, chunk.map((r) => r.key), putArgs(chunk, "NX", now));
    }
    const replies = await this.#exec(pipeline, "restoring missing advertisements failed");
    const restored = replies.reduce<number>((sum, n) => sum + Number(n), 0);
    if (restored > 0) {
      this.#logger.info("Restored {restored} advertisements missing from Redis at {where}", {
        restored,
        where: this.#where,
      });
    }
    return restored;
  }

  /** Runs a pipeline; the replies, or the first error as an `unavailable` {@link AppError}. */
  async #exec(pipeline: ChainableCommander, what: string): Promise<unknown[]> {
    let results: [error: Error | null, result: unknown][] | null;
    try {
      results = await pipeline.exec();
    } catch (error) {
      throw this.#failure(what, error);
    }
    if (!results) throw this.#failure(what, new Error("the pipeline was discarded"));
    const replies: unknown[] = [];
    for (const [error, reply] of results) {
      if (error) throw this.#failure(what, error);
      replies.push(reply);
    }
    return replies;
  }

  /** Fails fast unless connected; during the very first connection attempt, waits for it (bounded). */
  async #ensureReady(what: string): Promise<void> {
    if (this.#closed) throw this.#failure(`cannot ${what}: the store is closed`);
    if (this.connected) return;
    if (!this.#firstAttemptSettled) {
      await settlesWithin(this.#firstAttempt, this.#commandTimeoutMs);
      if (this.connected) return;
    }
    const reason = this.#lastError ? `last error: ${this.#lastError}` : this.#client.status;
    throw this.#failure(
      `cannot ${what}: not connected (${reason}); reconnecting in the background`,
    );
  }

  #failure(what: string, cause?: unknown): AppError {
    if (cause instanceof AppError) return cause;
    const reason = cause === undefined
      ? what
      : `${what}: ${cause instanceof Error ? cause.message : String(cause)}`;
    return new AppError("unavailable", `Redis at ${this.#where}: ${reason}`, { cause });
  }

  #onError(error: Error): void {
    const message = error.message || error.name;
    if (this.#lastError === undefined) {
      this.#logger.warn("Redis at {where} is unreachable: {error}", {
        where: this.#where,
        error: message,
      });
    } else {
      this.#logger.debug("Redis at {where}: {error}", { where: this.#where, error: message });
    }
    this.#lastError = message;
  }

  #onClose(): void {
    if (this.#closed) return;
    if (this.#wasReady) {
      this.#logger.warn("Connection to Redis at {where} lost; reconnecting in the background", {
        where: this.#where,
      });
    }
    this.#wasReady = false;
    this.#lastError ??= "connection closed";
    this.#lost = true;
  }

  #onReady(): void {
    this.#lastError = undefined;
    this.#wasReady = true;
    if (!this.#lost) return;
    this.#lost = false;
    this.#logger.info("Connection to Redis at {where} is back", { where: this.#where });
    for (const listener of this.#listeners) {
      try {
        listener();
      } catch (error) {
        this.#logger.error("A reconnect listener failed: {error}", { error });
      }
    }
  }
}

/**
 * Reduces a batch to at most one operation per key, with the same outcome as applying its
 * puts in order and then its removals (the in-memory store's semantics).
 */
function planBatch(batch: StoreBatch, now: number): BatchPlan {
  type Op =
    | { kind: "set"; value: string; expiresAt: number }
    | { kind: "refresh"; advertisement: Advertisement; expiresAt: number }
    | { kind: "delete" };
  const ops = new Map<string, Op>();
  let restored = 0;
  for (const item of batch.put) {
    const key = advertisementKey(item.advertisement);
    const previous = ops.get(key);
    if (item.expiresAt <= now) {
      ops.set(key, { kind: "delete" });
    } else if (item.valueChanged) {
      ops.set(key, {
        kind: "set",
        value: encodeAdvertisement(item.advertisement),
        expiresAt: item.expiresAt,
      });
    } else if (previous === undefined) {
      ops.set(key, {
        kind: "refresh",
        advertisement: item.advertisement,
        expiresAt: item.expiresAt,
      });
    } else if (previous.kind === "delete") {
      // Deleted earlier in this batch: written again, as a restore.
      restored++;
      ops.set(key, {
        kind: "set",
        value: encodeAdvertisement(item.advertisement),
        expiresAt: item.expiresAt,
      });
    } else {
      ops.set(key, { ...previous, expiresAt: item.expiresAt });
    }
  }
  for (const key of batch.remove) ops.set(advertisementKey(key), { kind: "delete" });
  const plan: BatchPlan = { sets: [], refreshes: [], deletes: [], restored };
  for (const [key, op] of ops) {
    if (op.kind === "delete") plan.deletes.push(key);
    else if (op.kind === "set") plan.sets.push({ key, value: op.value, expiresAt: op.expiresAt });
    else plan.refreshes.push({ key, advertisement: op.advertisement, expiresAt: op.expiresAt });
  }
  return plan;
}

/** The TTL (ms, at least 1) of a lease ending at `expiresAt`. */
function ttlOf(expiresAt: number, now: number): number {
  return Math.max(1, Math.ceil(expiresAt - now));
}

function putArgs(entries: SetPlan[], mode: "" | "NX", now: number): (string | number)[] {
  const args: (string | number)[] = [mode];
  for (const entry of entries) args.push(entry.value, ttlOf(entry.expiresAt, now));
  return args;
}

/** Refreshes grouped by lease end, in order of first appearance. */
function groupByExpiry(refreshes: RefreshPlan[]): RefreshPlan[][] {
  const groups = new Map<number, RefreshPlan[]>();
  for (const refresh of refreshes) {
    const group = groups.get(refresh.expiresAt);
    if (group) group.push(refresh);
    else groups.set(refresh.expiresAt, [refresh]);
  }
  return [...groups.values()];
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Calls a script defined with `defineCommand` (EVALSHA, or EVAL the first time on a
 * connection). ioredis adds such commands at run time, so they are not in its types.
 */
function scriptMethod(target: object, name: string): (...args: (string | number)[]) => unknown {
  const method: unknown = Reflect.get(target, name);
  if (typeof method !== "function") throw new Error(`the Redis script ${name} is not defined`);
  return (...args) => method.apply(target, args);
}

/** Adds a script call to a pipeline. */
function queueScript(
  pipeline: ChainableCommander,
  name: string,
  keys: string[],
  args: (string | number)[],
): void {
  scriptMethod(pipeline, name)(keys.length, ...keys, ...args);
}

/** The URL without its credentials, for messages. */
function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = "";
    parsed.password = "";
    return parsed.toString().replace(/\/$/, "");
  } catch {
    return "(unparsable URL)";
  }
}

/**
 * ioredis' standalone connector, except that disconnecting an already closed connection arms
 * no timer: the stock one waits `disconnectTimeout` (2 s) to destroy a socket that is already
 * gone, which keeps the process (and tests) alive after closing a store whose Redis is down.
 */
class QuietStandaloneConnector extends AbstractConnector {
  readonly #options: RedisOptions;

  constructor(options: unknown) {
    // ioredis passes the client's resolved options (typed `unknown` by ioredis).
    const resolved = options as RedisOptions;
    super(resolved.disconnectTimeout ?? 2000);
    this.#options = resolved;
  }

  connect(): Promise<Socket> {
    this.connecting = true;
    return new Promise((resolve, reject) => {
      process.nextTick(() => {
        if (!this.connecting) {
          reject(new Error("Connection is closed."));
          return;
        }
        try {
          const { path, host, port, family, tls } = this.#options;
          const target = path ? { path } : {
            ...(port != null ? { port } : {}),
            ...(host != null ? { host } : {}),
            ...(family != null ? { family } : {}),
          };
          const stream = tls
            ? tlsConnect({ ...target, ...tls })
            : netConnect(target as Parameters<typeof netConnect>[0]);
          this.stream = stream;
          stream.once("error", (error: Error) => {
            this.firstError = error;
          });
          resolve(stream);
        } catch (error) {
          reject(error);
        }
      });
    });
  }

  override disconnect(): void {
    if (this.stream?.destroyed) {
      this.connecting = false;
      return;
    }
    super.disconnect();
  }
}
