/**
 * The hub's own figures over gRPC, through our typed clients (grpc-js):
 * FullSync of 10,000 blueprints of 1 KiB to one client, and one publication
 * delivered to 500 subscribed push streams. `hub_bench.ts` times them
 * against etcd.
 *
 * The hub under measurement runs as a separate process (`hub/main.ts`), as
 * etcd does, so that the server and the benchmark's clients do not share one
 * JavaScript thread ({@link spawnBenchHub}); its register is filled before it
 * starts, straight into its SQLite store ({@link populateRegister}), and
 * publications go through `POST /api/system-register/blueprints`. An
 * in-process hub ({@link inProcessBenchHub}, `startHub` of `hub/hub.ts`,
 * publishing through `hub.publish`) is there to tell the server's own cost
 * apart from the HTTP hop and the second process.
 *
 * @module
 */
import { join } from "node:path";
import { SystemRegisterSync } from "../../gen/sorcha/peer/v1/system_register_sync_pb.ts";
import { startHub } from "../../hub/hub.ts";
import {
  ensureGenesis,
  openSqliteSystemRegisterStore,
  SYSTEM_REGISTER_FILE_NAME,
} from "../../hub/system_register/mod.ts";
import { systemClock } from "../../shared/clock.ts";
import { blueprintNotificationDecoder } from "../../shared/contracts/blueprint_notification_decoder.ts";
import { systemRegisterEntryDecoder } from "../../shared/contracts/system_register_entry_decoder.ts";
import {
  BULK_FLOW_CONTROL_WINDOW_BYTES,
  createClient,
  GrpcChannel,
  type ServiceClient,
} from "../../shared/grpc/mod.ts";
import { freePort } from "../fixtures/ports.ts";
import { startService } from "../fixtures/service_process.ts";
import { tempDir } from "../fixtures/wait.ts";
import type { FanoutResult } from "./etcd.ts";

const HUB_ID = "bench";
const HUB_MAIN = new URL("../../hub/main.ts", import.meta.url).pathname;
/** Long enough that no idle keep-alive is sent during a benchmark (the first frame still is one). */
const KEEPALIVE_SECONDS = 3600;
/** Long enough that no periodic integrity check runs during a benchmark. */
const INTEGRITY_CHECK_SECONDS = 86_400;

/**
 * grpc-js shares one connection among all channels to one address unless
 * told otherwise; each channel here gets its own, as separate peers would.
 */
const OWN_CONNECTION = { "grpc.use_local_subchannel_pool": 1 };
const WAIT_TIMEOUT_MS = 10_000;
const encoder = new TextEncoder();

/** A blueprint document of exactly `bytes` bytes once serialised as JSON (at least 64). */
export function blueprintObject(n: number, bytes: number): Record<string, string> {
  const head = JSON.stringify({ title: `Blueprint ${n}`, description: "benchmark", padding: "" });
  const padding = "x".repeat(Math.max(0, bytes - head.length));
  return { title: `Blueprint ${n}`, description: "benchmark", padding };
}

/** {@link blueprintObject} as UTF-8 JSON bytes, as the register stores it. */
export function blueprintDocument(n: number, bytes: number): Uint8Array {
  return encoder.encode(JSON.stringify(blueprintObject(n, bytes)));
}

/** One publication of the benchmarks. */
export interface BenchPublishInput {
  /** The blueprint. */
  blueprintId: string;
  /** Its document, a JSON object. */
  document: Record<string, string>;
  /** Who publishes it. */
  publishedBy: string;
}

/** A hub under measurement. */
export interface BenchHub extends AsyncDisposable {
  /** How it runs, for the report: "separate process" or "in-process". */
  readonly where: string;
  /** The port its gRPC server listens on. */
  readonly grpcPort: number;
  /** Publishes one blueprint version (HTTP for a separate process, `hub.publish` in-process). */
  publish(input: BenchPublishInput): Promise<void>;
}

/**
 * Fills the SQLite system register of `dataDir` with genesis and `count`
 * blueprints of `documentBytes`, before a hub opens it (not timed). Returns
 * the number of entries (genesis included).
 */
export async function populateRegister(
  dataDir: string,
  options: { count: number; documentBytes: number },
): Promise<number> {
  const store = openSqliteSystemRegisterStore(join(dataDir, SYSTEM_REGISTER_FILE_NAME));
  try {
    await ensureGenesis(store, { clock: systemClock, hubId: HUB_ID });
    for (let i = 0; i < options.count; i++) {
      await store.publish({
        blueprintId: `bench-blueprint-${i}`,
        document: blueprintDocument(i, options.documentBytes),
        publishedAt: Date.now(),
        publishedBy: "bench",
        metadata: {},
        publicationTransactionId: `bench-publication-${i}`,
      });
    }
    return (await store.head()).entryCount;
  } finally {
    await store.close();
  }
}

/**
 * A temporary data directory holding a register of `count` blueprints
 * (see {@link populateRegister}), removed on dispose.
 */
export async function populatedDataDir(
  options: { count: number; documentBytes: number },
): Promise<{ path: string; entries: number } & AsyncDisposable> {
  const dir = await tempDir("hub-bench-");
  try {
    const entries = await populateRegister(dir.path, options);
    return { path: dir.path, entries, [Symbol.asyncDispose]: () => dir[Symbol.asyncDispose]() };
  } catch (error) {
    await dir[Symbol.asyncDispose]();
    throw error;
  }
}

/**
 * `deno run -A hub/main.ts` on free loopback ports over `dataDir`, without
 * rate limits; resolves once `/readyz` answers (the register was validated).
 * Publishes through `POST /api/system-register/blueprints`.
 */
export async function spawnBenchHub(dataDir: string): Promise<BenchHub> {
  const grpcPort = freePort();
  const service = await startService(HUB_MAIN, {
    env: {
      DATA_DIR: dataDir,
      HUB_ID,
      GRPC_PORT: String(grpcPort),
      GRPC_RATE_LIMIT_PER_SECOND: "0",
      KEEPALIVE_SECONDS: String(KEEPALIVE_SECONDS),
      INTEGRITY_CHECK_INTERVAL_SECONDS: String(INTEGRITY_CHECK_SECONDS),
      LOG_LEVEL: "warning",
    },
    timeoutMs: 60_000,
  });
  const url = `${service.url}/api/system-register/blueprints`;
  return {
    where: "separate process",
    grpcPort,
    async publish(input) {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(input),
      });
      if (response.status !== 201) {
        throw new Error(
          `publishing ${input.blueprintId}: HTTP ${response.status}: ${await response.text()}`,
        );
      }
      await response.body?.cancel();
    },
    async [Symbol.asyncDispose]() {
      const code = await service.stop("SIGTERM");
      if (code !== 0) console.log(`  (the hub exited with ${code}: ${service.stderr().trim()})`);
    },
  };
}

/** `startHub` in this process over `dataDir`, without rate limits; publishes through `hub.publish`. */
export async function inProcessBenchHub(dataDir: string): Promise<BenchHub> {
  const hub = await startHub({
    hubId: HUB_ID,
    dataDir,
    grpcPort: 0,
    rateLimitPerSecond: 0,
    keepAliveSeconds: KEEPALIVE_SECONDS,
    integrityCheckSeconds: INTEGRITY_CHECK_SECONDS,
  });
  return {
    where: "in-process",
    grpcPort: hub.grpcPort,
    async publish(input) {
      await hub.publish({ ...input, document: encoder.encode(JSON.stringify(input.document)) });
    },
    [Symbol.asyncDispose]: () => hub.close(),
  };
}

/** A FullSync of the whole register to one client, to time; dispose to close its channel. */
export interface HubFullSync extends Disposable {
  /** Streams every entry, from the call to the end of the stream; throws unless all arrived. */
  read(): Promise<void>;
}

/**
 * A client of `hub` on a channel of its own, and the FullSync of the whole
 * register (`entries` entries, genesis included) to time.
 */
export function prepareHubFullSync(hub: BenchHub, options: { entries: number }): HubFullSync {
  const { entries } = options;
  // A channel for bulk transfer, as a peer's sync channel (etcd's reader gets the same window).
  const channel = new GrpcChannel(`127.0.0.1:${hub.grpcPort}`, {
    channelOptions: OWN_CONNECTION,
    flowControlWindowBytes: BULK_FLOW_CONTROL_WINDOW_BYTES,
  });
  // As a peer's sync client: entries decoded by the contract's own decoder, not by reflection.
  const client = createClient(SystemRegisterSync, channel, {
    decoders: [systemRegisterEntryDecoder],
  });
  return {
    async read() {
      let received = 0;
      for await (const _entry of client.fullSync({ peerId: "bench-peer", fullSync: true })) {
        received++;
      }
      if (received !== entries) {
        throw new Error(`FullSync streamed ${received} entries, not ${entries}`);
      }
    },
    [Symbol.dispose]: () => channel.close(),
  };
}

/** Options of {@link measureHubPushFanout}. */
export interface HubPushFanoutOptions {
  /** Subscribed streams (500 in the benchmark). */
  subscribers: number;
  /** Channels (connections) the streams are spread over (default 10). */
  channels?: number;
  /** Timed publications; each is delivered to every subscriber. */
  publications: number;
  /** Bytes of each published document (default 1024). */
  documentBytes?: number;
  /** Publications before the timed ones, not timed (default 2). */
  warmUps?: number;
}

/** One subscribed stream and the wait for a given blueprint's notification on it. */
interface Subscriber {
  /** Resolves once the stream's first frame (a keep-alive: "subscribed") arrived. */
  subscribed: Promise<void>;
  /** Resolves with the arrival time of the next notification of `blueprintId`. */
  next(blueprintId: string): Promise<number>;
}

function subscribe(
  client: ServiceClient<typeof SystemRegisterSync>,
  n: number,
  signal: AbortSignal,
): Subscriber {
  // One pending promise at a time, settled directly (no Promise.race with a failure promise,
  // which would leave a reaction behind on every call).
  let waiting:
    | { blueprintId: string; resolve: (at: number) => void; reject: (e: unknown) => void }
    | undefined;
  let error: { reason: unknown } | undefined;
  let subscribed!: { resolve: () => void; reject: (e: unknown) => void };
  const subscriber: Subscriber = {
    subscribed: new Promise<void>((resolve, reject) => subscribed = { resolve, reject }),
    next: (blueprintId) =>
      error
        ? Promise.reject(error.reason)
        : new Promise<number>((resolve, reject) => waiting = { blueprintId, resolve, reject }),
  };
  (async () => {
    // Each stream is a peer of its own: subscriptions are limited per peer.
    const request = { peerId: `bench-peer-${n}`, sessionId: `bench-session-${n}` };
    for await (const notification of client.subscribeToPushNotifications(request, { signal })) {
      const at = performance.now();
      subscribed.resolve();
      if (waiting?.blueprintId === notification.blueprintId) {
        waiting.resolve(at);
        waiting = undefined;
      }
    }
    throw new Error(`subscription ${n} ended`);
  })().catch((reason) => {
    if (signal.aborted) return;
    error = { reason };
    subscribed.reject(reason);
    waiting?.reject(reason);
    waiting = undefined;
  });
  return subscriber;
}

/** Rejects after `ms` unless `promise` settles first. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `subscribers` push streams on `hub`, spread over `channels` channels (each
 * its own connection, 50 streams each for 500 over 10), each a peer of its
 * own; once every stream has its first frame (the keep-alive saying it is
 * subscribed), `warmUps` publications, then `publications` timed ones, one
 * after the other: from just before the publication (the HTTP POST, for a
 * separate process) to the notification's arrival on each stream (the next
 * publication waits for all of them). Returns every stream's latency of
 * every timed publication.
 */
export async function measureHubPushFanout(
  hub: BenchHub,
  options: HubPushFanoutOptions,
): Promise<FanoutResult> {
  const { subscribers: count, channels = 10, publications, documentBytes = 1024, warmUps = 2 } =
    options;
  const address = `127.0.0.1:${hub.grpcPort}`;
  const opened = Array.from(
    { length: channels },
    () => new GrpcChannel(address, { channelOptions: OWN_CONNECTION }),
  );
  const stop = new AbortController();
  try {
    const clients = opened.map((channel) =>
      createClient(SystemRegisterSync, channel, { decoders: [blueprintNotificationDecoder] })
    );
    const subscribers = Array.from(
      { length: count },
      (_, n) => subscribe(clients[n % channels]!, n, stop.signal),
    );
    await within(
      Promise.all(subscribers.map((s) => s.subscribed)),
      WAIT_TIMEOUT_MS,
      `${count} subscriptions in place`,
    );
    const latenciesMs: number[] = [];
    for (let n = 0; n < warmUps + publications; n++) {
      const blueprintId = `bench-push-${n}`;
      const arrivals = Promise.all(subscribers.map((s) => s.next(blueprintId)));
      const input = {
        blueprintId,
        document: blueprintObject(n, documentBytes),
        publishedBy: "bench",
      };
      const began = performance.now();
      await hub.publish(input);
      const at = await within(
        arrivals,
        WAIT_TIMEOUT_MS,
        `${blueprintId} delivered to every stream`,
      );
      if (n >= warmUps) latenciesMs.push(...at.map((t) => t - began));
    }
    return { latenciesMs, subscribers: count, publications };
  } finally {
    stop.abort();
    for (const channel of opened) channel.close();
  }
}
