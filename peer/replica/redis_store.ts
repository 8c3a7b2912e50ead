/**
 * The Redis replica store. Keys (no TTL: the replica is not a lease):
 * `peer:replica:checkpoint` (the checkpoint's JSON), `peer:replica:entries`
 * (hash: blueprint id → the entry's JSON without its document),
 * `peer:replica:documents` (hash: blueprint id → the document's bytes; no
 * field when withheld) and `peer:replica:versions` (sorted set: score the
 * version, member the blueprint id).
 *
 * Every write is atomic with its checkpoint: `apply` is one MULTI/EXEC; a
 * replacement fills staging keys (`peer:replica:staging:…`) and its commit
 * swaps them in with the checkpoint in one script: it refuses when the
 * staging keys hold fewer blueprints than the checkpoint counts (a Redis that
 * lost writes meanwhile), then UNLINKs the live keys (freed in the
 * background), RENAMEs the staging keys that exist to them (a key the new
 * replica leaves empty was never written), SETs the checkpoint. Every read is one command, a
 * MULTI or a Lua script, so it sees the old replica or the new one, never a
 * mix. A crash mid-replacement leaves staging keys, which the next
 * replacement deletes first.
 *
 * Like the advertisement store, it never waits for Redis
 * (`peer/store/redis_connection.ts`): calls fail fast with an `unavailable`
 * `AppError` while Redis is unreachable, and it reconnects in the background.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import type { Redis } from "ioredis";
import { AppError } from "../../shared/errors.ts";
import { log } from "../../shared/logging.ts";
import { openRedisConnection, queueScript, type RedisConnection } from "../store/mod.ts";
import {
  checkEntry,
  decodeCheckpoint,
  decodeEntryFields,
  encodeCheckpoint,
  type ReplicaEntryFields,
} from "./entry_codec.ts";
import { checkListOptions } from "./list_options.ts";
import {
  chunks,
  COMMIT_COMMAND,
  COMMIT_SCRIPT,
  queueUpserts,
  REPLICA_KEYS,
  STAGING_KEYS,
  WRITE_CHUNK,
} from "./redis_layout.ts";
import { RedisReplacement } from "./redis_replacement.ts";
import type {
  ReplicaChange,
  ReplicaCheckpoint,
  ReplicaEntry,
  ReplicaIndexEntry,
  ReplicaListOptions,
  ReplicaReplacement,
  ReplicaStore,
} from "./types.ts";

/** Options of {@link openRedisReplicaStore}. */
export interface RedisReplicaStoreOptions {
  /** Where connection events go (default: `log("peer", "replica")`). */
  logger?: Logger;
  /** Time after which a command fails (default `DEFAULT_COMMAND_TIMEOUT_MS`, 2000). */
  commandTimeoutMs?: number;
  /** Longest wait between reconnection attempts (default `DEFAULT_MAX_RECONNECT_DELAY_MS`, 2000). */
  maxReconnectDelayMs?: number;
}

// KEYS: versions, entries, documents. ARGV[1]: list entries above this version; ARGV[2]: at most
// this many. Returns each entry's JSON and document (nil when withheld), flat, in version order:
// one script, so a replacement or a change never lands between the steps.
const LIST_SCRIPT = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf', 'LIMIT', 0, ARGV[2])
local out = {}
for i, id in ipairs(ids) do
  out[2 * i - 1] = redis.call('HGET', KEYS[2], id)
  out[2 * i] = redis.call('HGET', KEYS[3], id)
end
return out
`;
const LIST_COMMAND = "peerReplicaList";

/**
 * Opens the replica store on the Redis at `url` (`redis://[user:password@]host:port[/db]`).
 * Returns at once, without waiting for a connection.
 */
export function openRedisReplicaStore(
  url: string,
  options: RedisReplicaStoreOptions = {},
): RedisReplicaStore {
  return new RedisReplicaStore(url, options);
}

/** {@link ReplicaStore} on Redis. */
export class RedisReplicaStore implements ReplicaStore {
  /** Always `redis`. */
  readonly kind = "redis";
  readonly #connection: RedisConnection;
  readonly #client: Redis;
  #replacement: RedisReplacement | undefined;

  /** Creates the store and starts connecting in the background; prefer {@link openRedisReplicaStore}. */
  constructor(url: string, options: RedisReplicaStoreOptions = {}) {
    this.#connection = openRedisConnection(url, {
      ...options,
      logger: options.logger ?? log("peer", "replica"),
      connectionName: "peer-replica",
    });
    this.#client = this.#connection.client;
    this.#client.defineCommand(LIST_COMMAND, { lua: LIST_SCRIPT });
    this.#client.defineCommand(COMMIT_COMMAND, { lua: COMMIT_SCRIPT });
  }

  /** Whether the connection to Redis is ready for commands. */
  get connected(): boolean {
    return this.#connection.connected;
  }

  /** Waits until the connection is ready; `false` when it is not within `timeoutMs`. */
  ready(timeoutMs?: number): Promise<boolean> {
    return this.#connection.ready(timeoutMs);
  }

  async checkpoint(): Promise<ReplicaCheckpoint | undefined> {
    await this.#connection.ensureReady("read the replica's checkpoint");
    let text: string | null;
    try {
      text = await this.#client.get(REPLICA_KEYS.checkpoint);
    } catch (error) {
      throw this.#connection.failure("reading the replica's checkpoint failed", error);
    }
    if (text === null) return undefined;
    return decodeCheckpoint(text) ?? this.#corrupt("the checkpoint");
  }

  async index(): Promise<ReplicaIndexEntry[]> {
    await this.#connection.ensureReady("read the replica's index");
    let all: Record<string, string>;
    try {
      // One command: a snapshot.
      all = await this.#client.hgetall(REPLICA_KEYS.entries);
    } catch (error) {
      throw this.#connection.failure("reading the replica's index failed", error);
    }
    return Object.entries(all)
      .map(([blueprintId, text]) => {
        const { version, checksum } = this.#decodeFields(blueprintId, text);
        return { blueprintId, version, checksum };
      })
      .sort((a, b) => a.version - b.version);
  }

  async apply(change: ReplicaChange): Promise<void> {
    change.upsert.forEach(checkEntry);
    await this.#connection.ensureReady("apply a change to the replica");
    const multi = this.#client.multi();
    queueUpserts(multi, { keys: REPLICA_KEYS, entries: change.upsert });
    for (const ids of chunks(change.remove, WRITE_CHUNK)) {
      multi.hdel(REPLICA_KEYS.entries, ...ids);
      multi.hdel(REPLICA_KEYS.documents, ...ids);
      multi.zrem(REPLICA_KEYS.versions, ...ids);
    }
    multi.set(REPLICA_KEYS.checkpoint, encodeCheckpoint(change.checkpoint));
    await this.#connection.exec(multi, "applying a change to the replica failed");
  }

  async replace(): Promise<ReplicaReplacement> {
    this.#replacement?.drop();
    const replacement = new RedisReplacement(this.#connection);
    this.#replacement = replacement;
    await this.#connection.ensureReady("start replacing the replica");
    // What a crash (or an unfinished replacement) left.
    const pipeline = this.#client.pipeline();
    pipeline.del(STAGING_KEYS.entries, STAGING_KEYS.documents, STAGING_KEYS.versions);
    await this.#connection.exec(pipeline, "clearing the staging keys failed");
    return replacement;
  }

  async get(blueprintId: string): Promise<ReplicaEntry | undefined> {
    await this.#connection.ensureReady("read a replica entry");
    const multi = this.#client.multi();
    multi.hget(REPLICA_KEYS.entries, blueprintId);
    multi.hgetBuffer(REPLICA_KEYS.documents, blueprintId);
    const [fields, document] = await this.#connection.exec(
      multi,
      "reading a replica entry failed",
    );
    if (typeof fields !== "string") return undefined;
    return this.#entry(blueprintId, { fields, document });
  }

  async list(options: ReplicaListOptions): Promise<ReplicaEntry[]> {
    const { afterVersion, limit } = checkListOptions(options);
    await this.#connection.ensureReady("list replica entries");
    if (limit === 0) return [];
    const pipeline = this.#client.pipeline();
    queueScript(pipeline, `${LIST_COMMAND}Buffer`, {
      keys: [REPLICA_KEYS.versions, REPLICA_KEYS.entries, REPLICA_KEYS.documents],
      args: [afterVersion, limit],
    });
    const [reply] = await this.#connection.exec(pipeline, "listing replica entries failed");
    const flat = Array.isArray(reply) ? reply : [];
    const out: ReplicaEntry[] = [];
    const decoder = new TextDecoder();
    for (let i = 0; i < flat.length; i += 2) {
      const fields: unknown = flat[i];
      if (!(fields instanceof Uint8Array)) this.#corrupt("the versions (an entry is missing)");
      out.push(this.#entry(undefined, { fields: decoder.decode(fields), document: flat[i + 1] }));
    }
    return out;
  }

  /** Registers `listener`, called each time Redis is reachable again after being unreachable. */
  onReconnect(listener: () => void): void {
    this.#connection.onReconnect(listener);
  }

  /** Closes the connection (QUIT when connected); never waits for an unreachable Redis. */
  close(): Promise<void> {
    this.#replacement?.drop();
    return this.#connection.close();
  }

  #entry(
    blueprintId: string | undefined,
    stored: { fields: string; document: unknown },
  ): ReplicaEntry {
    const fields = this.#decodeFields(blueprintId, stored.fields);
    const { document } = stored;
    return {
      ...fields,
      // A copy: the reply's buffer may be a view of a larger one.
      document: document instanceof Uint8Array ? new Uint8Array(document) : undefined,
    };
  }

  #decodeFields(blueprintId: string | undefined, text: string): ReplicaEntryFields {
    const fields = decodeEntryFields(text);
    if (!fields || (blueprintId !== undefined && fields.blueprintId !== blueprintId)) {
      return this.#corrupt(`the entry of ${JSON.stringify(blueprintId ?? fields?.blueprintId)}`);
    }
    return fields;
  }

  #corrupt(what: string): never {
    throw new AppError("internal", `Redis at ${this.#connection.where}: ${what} is not readable`);
  }
}
