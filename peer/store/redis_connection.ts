/**
 * The connection to Redis every Redis store of the peer keeps (the
 * advertisement store, the replica store): it never waits for Redis at
 * open, fails fast with an `unavailable` {@link AppError} while Redis is
 * unreachable, reconnects in the background, tells
 * {@link RedisConnection.onReconnect} listeners each time Redis is back, and
 * closes without leaving a timer behind when Redis is down (its socket
 * connector is in `redis_connector.ts`).
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import { type ChainableCommander, Redis } from "ioredis";
import { settlesWithin } from "../../shared/async.ts";
import { AppError, errorMessage } from "../../shared/errors.ts";
import { QuietStandaloneConnector } from "./redis_connector.ts";

/** Default time after which a Redis command fails, in milliseconds. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 2000;
/** Default longest wait between two reconnection attempts, in milliseconds. */
export const DEFAULT_MAX_RECONNECT_DELAY_MS = 2000;

/** Options of {@link openRedisConnection}. */
export interface RedisConnectionOptions {
  /** Where connection events go. */
  logger: Logger;
  /** The client's name on the server (`CLIENT SETNAME`), such as `peer-advertisements`. */
  connectionName: string;
  /** Time after which a command fails (default {@link DEFAULT_COMMAND_TIMEOUT_MS}). */
  commandTimeoutMs?: number;
  /** Longest wait between reconnection attempts (default {@link DEFAULT_MAX_RECONNECT_DELAY_MS}). */
  maxReconnectDelayMs?: number;
}

/**
 * Opens a connection to `url` (`redis://[user:password@]host:port[/db]`). Returns at once: the
 * connection is made in the background.
 */
export function openRedisConnection(url: string, options: RedisConnectionOptions): RedisConnection {
  return new RedisConnection(url, options);
}

/** One ioredis client with the peer's connection rules; see the module documentation. */
export class RedisConnection {
  /** The ioredis client (define scripts on it; run commands after {@link RedisConnection.ensureReady}). */
  readonly client: Redis;
  /** The URL without its credentials, for messages. */
  readonly where: string;
  /** Time after which a command fails, in milliseconds. */
  readonly commandTimeoutMs: number;
  readonly #logger: Logger;
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

  /** Creates the client and starts connecting in the background; prefer {@link openRedisConnection}. */
  constructor(url: string, options: RedisConnectionOptions) {
    this.where = describeUrl(url);
    this.#logger = options.logger;
    this.commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    const maxDelay = options.maxReconnectDelayMs ?? DEFAULT_MAX_RECONNECT_DELAY_MS;
    this.client = new Redis(url, {
      Connector: QuietStandaloneConnector,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: this.commandTimeoutMs,
      connectTimeout: Math.max(this.commandTimeoutMs, 1000),
      retryStrategy: (times) => Math.min(times * 100, maxDelay),
      connectionName: options.connectionName,
    });
    this.client.on("error", (error: Error) => this.#onError(error));
    this.client.on("close", () => this.#onClose());
    this.client.on("ready", () => this.#onReady());
    this.#firstAttempt = this.client.connect().then(() => true, () => false).finally(() => {
      this.#firstAttemptSettled = true;
    });
  }

  /** Whether the connection to Redis is ready for commands. */
  get connected(): boolean {
    // A socket the server has closed stops being writable before ioredis hears of the close.
    return this.client.status === "ready" && this.client.stream?.writable === true;
  }

  /** Whether {@link RedisConnection.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Waits until the connection is ready; `false` when it is not within `timeoutMs`. */
  async ready(timeoutMs: number = this.commandTimeoutMs): Promise<boolean> {
    if (this.#closed) return false;
    if (this.connected) return true;
    let onReady: (() => void) | undefined;
    const ready = new Promise<void>((resolve) => {
      onReady = resolve;
      this.client.once("ready", onReady);
    });
    try {
      await settlesWithin(ready, timeoutMs);
    } finally {
      if (onReady) this.client.off("ready", onReady);
    }
    return this.connected;
  }

  /**
   * Fails fast with an `unavailable` {@link AppError} unless connected (`what`: the action, as
   * in `cannot {what}`); during the very first connection attempt, waits for it (bounded).
   */
  async ensureReady(what: string): Promise<void> {
    if (this.#closed) throw this.failure(`cannot ${what}: the store is closed`);
    if (this.connected) return;
    if (!this.#firstAttemptSettled) {
      await settlesWithin(this.#firstAttempt, this.commandTimeoutMs);
      if (this.connected) return;
    }
    const reason = this.#lastError ? `last error: ${this.#lastError}` : this.client.status;
    throw this.failure(
      `cannot ${what}: not connected (${reason}); reconnecting in the background`,
    );
  }

  /**
   * Runs a pipeline (or a MULTI transaction); the replies, or the first error as an
   * `unavailable` {@link AppError} saying `what` failed.
   */
  async exec(pipeline: ChainableCommander, what: string): Promise<unknown[]> {
    let results: [error: Error | null, result: unknown][] | null;
    try {
      results = await pipeline.exec();
    } catch (error) {
      throw this.failure(what, error);
    }
    if (!results) throw this.failure(what, new Error("the pipeline was discarded"));
    const replies: unknown[] = [];
    for (const [error, reply] of results) {
      if (error) throw this.failure(what, error);
      replies.push(reply);
    }
    return replies;
  }

  /** An `unavailable` {@link AppError} naming this Redis and why `what` failed (an AppError cause is kept as is). */
  failure(what: string, cause?: unknown): AppError {
    if (cause instanceof AppError) return cause;
    const reason = cause === undefined ? what : `${what}: ${errorMessage(cause)}`;
    return new AppError("unavailable", `Redis at ${this.where}: ${reason}`, { cause });
  }

  /** Registers a listener called each time Redis is reachable again after being unreachable. */
  onReconnect(listener: () => void): void {
    this.#listeners.push(listener);
  }

  /** Closes the connection (QUIT when connected); never waits for an unreachable Redis. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const client = this.client;
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
    if (!(await settlesWithin(ended, this.commandTimeoutMs))) client.disconnect();
  }

  #onError(error: Error): void {
    const message = error.message || error.name;
    if (this.#lastError === undefined) {
      this.#logger.warn("Redis at {where} is unreachable: {error}", {
        where: this.where,
        error: message,
      });
    } else {
      this.#logger.debug("Redis at {where}: {error}", { where: this.where, error: message });
    }
    this.#lastError = message;
  }

  #onClose(): void {
    if (this.#closed) return;
    if (this.#wasReady) {
      this.#logger.warn("Connection to Redis at {where} lost; reconnecting in the background", {
        where: this.where,
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
    this.#logger.info("Connection to Redis at {where} is back", { where: this.where });
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
 * Calls a script defined with `defineCommand` (EVALSHA, or EVAL the first time on a
 * connection) on a pipeline, a transaction or the client. ioredis adds such commands at run
 * time, so they are not in its types; `name` may end in `Buffer` for binary replies.
 */
export function queueScript(
  target: ChainableCommander,
  name: string,
  call: { keys: string[]; args: (string | number)[] },
): void {
  const method: unknown = Reflect.get(target, name);
  if (typeof method !== "function") throw new Error(`the Redis script ${name} is not defined`);
  method.apply(target, [call.keys.length, ...call.keys, ...call.args]);
}

/**
 * Calls a script defined with `defineCommand` on the client itself, as {@link queueScript} does
 * on a pipeline; resolves with its reply.
 */
export function runScript(
  client: Redis,
  name: string,
  call: { keys: string[]; args: (string | number)[] },
): Promise<unknown> {
  const method: unknown = Reflect.get(client, name);
  if (typeof method !== "function") throw new Error(`the Redis script ${name} is not defined`);
  return method.apply(client, [call.keys.length, ...call.keys, ...call.args]) as Promise<unknown>;
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
