/**
 * In-process hubs for integration tests: a hub on a temporary data directory
 * with its gRPC clients, blueprints to publish, stores wrapped to count,
 * hold or fail reads, and subscriptions read in the background.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  type BlueprintNotification,
  NotificationType,
  type SubscriptionRequest,
  type SubscriptionRequestSchema,
  SystemRegisterSync,
} from "../../gen/sorcha/peer/v1/system_register_sync_pb.ts";
import { type Hub, type HubOptions, startHub } from "../../hub/hub.ts";
import type { BlueprintEvent } from "../../hub/notifications/events.ts";
import {
  openSqliteSystemRegisterStore,
  type SqliteSystemRegisterStore,
} from "../../hub/system_register/sqlite_store.ts";
import { SYSTEM_REGISTER_FILE_NAME } from "../../hub/system_register/store.ts";
import type {
  BlueprintEntry,
  EntriesOptions,
  PublishInput,
  PublishOptions,
  PublishResult,
  SystemRegisterHead,
  SystemRegisterStore,
} from "../../hub/system_register/types.ts";
import { AppError, type ErrorCode } from "../../shared/errors.ts";
import { createClient, GrpcChannel, type GrpcChannelOptions } from "../../shared/grpc/mod.ts";

export { NotificationType };
export type { BlueprintNotification, SubscriptionRequest };

const encoder = new TextEncoder();

/** A hub started by {@link startTestHub}; disposing it closes the hub and removes its directory. */
export interface TestHub extends Hub {
  /** Its data directory. */
  readonly dataDir: string;
  /** `127.0.0.1:<grpcPort>`. */
  readonly address: string;
  /** A new channel to it (dispose it: `using channel = hub.channel()`). */
  channel(options?: GrpcChannelOptions): GrpcChannel;
}

/**
 * Starts a hub on `127.0.0.1`, any free gRPC port, without rate limits,
 * on a new temporary data directory unless `dataDir` is given (a given
 * directory is left in place).
 */
export async function startTestHub(options: Partial<HubOptions> = {}): Promise<TestHub> {
  const ownDir = options.dataDir === undefined
    ? await Deno.makeTempDir({ prefix: "sorcha-hub-test-" })
    : undefined;
  const dataDir = options.dataDir ?? ownDir!;
  let hub: Hub;
  try {
    hub = await startHub({ hubId: "hub-test", rateLimitPerSecond: 0, ...options, dataDir });
  } catch (error) {
    if (ownDir) await Deno.remove(ownDir, { recursive: true });
    throw error;
  }
  const address = `127.0.0.1:${hub.grpcPort}`;
  const dispose = async () => {
    await hub.close();
    if (ownDir) await Deno.remove(ownDir, { recursive: true }).catch(() => {});
  };
  return {
    ...hub,
    dataDir,
    address,
    channel: (channelOptions) => new GrpcChannel(address, channelOptions),
    [Symbol.asyncDispose]: dispose,
  };
}

/** A temporary directory removed on dispose (for hubs sharing one). */
export async function tempDataDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "sorcha-hub-test-" });
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }).catch(() => {}),
  };
}

/** Opens the SQLite system register of `dataDir` (the file a hub on it uses). */
export function openDataDirStore(dataDir: string): SqliteSystemRegisterStore {
  return openSqliteSystemRegisterStore(`${dataDir}/${SYSTEM_REGISTER_FILE_NAME}`);
}

/** A SystemRegisterSync client over `channel`. */
export function syncClient(channel: GrpcChannel) {
  return createClient(SystemRegisterSync, channel);
}

/** Every item of `items`. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

/** Asserts `promise` rejects with an AppError of `code` whose message matches `message`. */
export async function rejectsWithCode(
  promise: Promise<unknown>,
  code: ErrorCode,
  message?: RegExp,
): Promise<AppError> {
  let caught: AppError | undefined;
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof AppError, `expected an AppError, got ${error}`);
    assert.equal(error.code, code, `expected ${code}, got ${error.code}: ${error.message}`);
    if (message) assert.match(error.message, message);
    caught = error;
    return true;
  });
  return caught!;
}

/** sha256 of `bytes` as the contract writes it: `sha256:<hex>`. */
export function sha256Checksum(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/**
 * A blueprint document (UTF-8 JSON) with a title, its description padded
 * so the document has about `bytes` when given.
 */
export function blueprintDocument(
  blueprintId: string,
  options: { revision?: number; bytes?: number } = {},
): Uint8Array {
  const document: Record<string, unknown> = {
    id: blueprintId,
    title: `Blueprint ${blueprintId}`,
    revision: options.revision ?? 1,
  };
  if (options.bytes) {
    document.description = `About ${blueprintId} `.padEnd(Math.max(0, options.bytes - 80), "x");
  }
  return encoder.encode(JSON.stringify(document));
}

/**
 * Publishes `blueprintId` on `hub` (revision 1 by default); fails when it
 * makes no new version (the same publication is active already).
 */
export async function publishBlueprint(
  hub: Pick<Hub, "publish">,
  blueprintId: string,
  options: {
    revision?: number;
    bytes?: number;
    publishedBy?: string;
    metadata?: Record<string, string>;
  } = {},
): Promise<BlueprintEvent> {
  const outcome = await hub.publish({
    blueprintId,
    document: blueprintDocument(blueprintId, options),
    publishedBy: options.publishedBy ?? "tester",
    metadata: options.metadata ?? {},
  });
  assert.ok(outcome.created, `${blueprintId} is active already: no new version`);
  return outcome;
}

/**
 * A store passed to a hub as `store:` that delegates to another, counting
 * the entries read through `entries()`, and, when armed, holding reads at a
 * gate or failing them after a number of entries.
 */
export class WrappedStore implements SystemRegisterStore {
  readonly inner: SystemRegisterStore;
  /** Entries handed out by `entries()` so far (reset it at will). */
  entriesRead = 0;
  /** When set, `entries()` throws after handing out this many entries of one call. */
  failAfter: number | undefined;
  /**
   * When set, `entries()` waits on it after handing out `gateAfter` entries of
   * one call (before failing, when `failAfter` is the same number).
   */
  gate: Promise<void> | undefined;
  /** See {@link WrappedStore.gate}. */
  gateAfter = 1;

  /** Wraps `inner`. */
  constructor(inner: SystemRegisterStore) {
    this.inner = inner;
  }

  get kind(): string {
    return this.inner.kind;
  }

  publish(input: PublishInput, options?: PublishOptions): Promise<PublishResult> {
    return this.inner.publish(input, options);
  }

  head(): Promise<SystemRegisterHead> {
    return this.inner.head();
  }

  currentVersion(): Promise<number> {
    return this.inner.currentVersion();
  }

  async *entries(options?: EntriesOptions): AsyncIterable<BlueprintEntry> {
    const failAfter = this.failAfter;
    const gate = this.gate;
    let handed = 0;
    for await (const entry of this.inner.entries(options)) {
      if (gate && handed === this.gateAfter) await gate;
      if (failAfter !== undefined && handed >= failAfter) {
        throw new AppError("unavailable", `disk I/O error after ${handed} entries (injected)`);
      }
      handed++;
      this.entriesRead++;
      yield entry;
    }
  }

  latest(blueprintId: string): Promise<BlueprintEntry | undefined> {
    return this.inner.latest(blueprintId);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** One frame of a subscription as a test reads it. */
export type Frame = BlueprintNotification;

/** Whether `frame` is a keep-alive (type UNKNOWN, sequence 0). */
export function isKeepAlive(frame: Frame): boolean {
  return frame.type === NotificationType.UNKNOWN && frame.sequenceNumber === 0n;
}

/**
 * A subscription read in the background as fast as frames come: `frames`
 * fills up, {@link Subscription.waitFor} waits on it (by event, not by
 * polling), `error` holds how it ended if it failed. Dispose it to cancel.
 */
export class Subscription implements AsyncDisposable {
  readonly frames: Frame[] = [];
  error: unknown;
  ended = false;
  readonly #controller = new AbortController();
  readonly #done: Promise<void>;
  #waiters: (() => void)[] = [];

  /** Subscribes through `channel` with `request` and reads on until cancelled. */
  constructor(
    channel: GrpcChannel,
    request: MessageInitShape<typeof SubscriptionRequestSchema>,
  ) {
    const stream = syncClient(channel).subscribeToPushNotifications(request, {
      signal: this.#controller.signal,
    });
    this.#done = (async () => {
      try {
        for await (const frame of stream) {
          this.frames.push(frame);
          this.#wake();
        }
      } catch (error) {
        if (!this.#controller.signal.aborted) this.error = error;
      } finally {
        this.ended = true;
        this.#wake();
      }
    })();
  }

  /** The notifications received (keep-alives left out). */
  get events(): Frame[] {
    return this.frames.filter((frame) => !isKeepAlive(frame));
  }

  /** Resolves once `check` holds; rejects when the stream ends first or after `timeoutMs`. */
  async waitFor(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (this.ended) {
        throw new Error(`the subscription ended (${this.error ?? "no error"}) before ${what}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }

  /** Resolves once the first frame (the keep-alive meaning "subscribed") has arrived. */
  subscribed(): Promise<void> {
    return this.waitFor("the first frame arrives", () => this.frames.length > 0);
  }

  /** Resolves once `count` notifications (not keep-alives) have arrived. */
  eventCount(count: number): Promise<void> {
    return this.waitFor(`${count} notifications arrive`, () => this.events.length >= count);
  }

  /** Resolves when the stream has ended (rejects after `timeoutMs`). */
  async finished(timeoutMs = 10_000): Promise<void> {
    await this.waitFor("the subscription ends", () => this.ended, timeoutMs);
    await this.#done;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#controller.abort();
    await this.#done;
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }
}

/**
 * A subscription through `channel` that takes its first frame (the
 * keep-alive meaning "subscribed") and then reads no more, as a client that
 * stopped reading; `readOn()` reads on to the end (rejecting with the error
 * that ended it).
 */
export async function stalledSubscription(
  channel: GrpcChannel,
  peerId: string,
): Promise<{ readOn(): Promise<void> }> {
  const frames = syncClient(channel).subscribeToPushNotifications({ peerId })[
    Symbol.asyncIterator
  ]();
  const first = await frames.next();
  if (first.done || !isKeepAlive(first.value)) {
    throw new Error(`the subscription of ${peerId} did not start with a keep-alive`);
  }
  return {
    async readOn() {
      for (let next = await frames.next(); !next.done; next = await frames.next());
    },
  };
}
