/**
 * The hub's own figures over gRPC, through our typed clients (grpc-js):
 * FullSync of 10,000 blueprints of 1 KiB to one client, and one publication
 * delivered to 500 subscribed push streams. The hub is loaded at run time
 * ({@link loadStartHub}): while `hub/hub.ts` does not exist, the group says
 * so and runs without these two.
 *
 * @module
 */
import { SystemRegisterSync } from "../../gen/sorcha/peer/v1/system_register_sync_pb.ts";
import { createClient, GrpcChannel, type ServiceClient } from "../../shared/grpc/mod.ts";
import { tempDir } from "../fixtures/wait.ts";
import type { FanoutResult } from "./etcd.ts";
import { median, time } from "./report.ts";

/** What the benchmarks publish on a hub: `hub.publish(input)`. */
export interface BenchPublishInput {
  /** The blueprint. */
  blueprintId: string;
  /** Its document, UTF-8 JSON. */
  document: Uint8Array;
  /** Who publishes it. */
  publishedBy: string;
}

/** The part of a running hub the benchmarks use. */
export interface BenchHub extends AsyncDisposable {
  /** The port its gRPC server listens on. */
  readonly grpcPort: number;
  /** Publishes one blueprint version to the system register (and notifies subscribers). */
  publish(input: BenchPublishInput): Promise<unknown>;
}

/** `startHub` of `hub/hub.ts`, as the benchmarks call it. */
export type StartHub = (options: {
  dataDir: string;
  hubId: string;
  grpcPort: number;
  httpPort: number;
}) => Promise<BenchHub>;

/**
 * Where the hub lives. Imported by a computed specifier so that type checks
 * pass while it does not exist yet; once it does, a static
 * `import { startHub } from "../../hub/hub.ts"` can replace {@link loadStartHub}.
 */
const HUB_MODULE = new URL("../../hub/hub.ts", import.meta.url);

/** `startHub` of `hub/hub.ts`, or undefined while that module does not exist. */
export async function loadStartHub(): Promise<StartHub | undefined> {
  try {
    await Deno.stat(HUB_MODULE);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  const module = await import(HUB_MODULE.href) as { startHub?: StartHub };
  if (typeof module.startHub !== "function") throw new Error("hub/hub.ts exports no startHub");
  return module.startHub;
}

/**
 * grpc-js shares one connection among all channels to one address unless
 * told otherwise; each channel here gets its own, as separate peers would.
 */
const OWN_CONNECTION = { "grpc.use_local_subchannel_pool": 1 };
const WAIT_TIMEOUT_MS = 10_000;
const encoder = new TextEncoder();

/** A blueprint document of exactly `bytes` bytes of UTF-8 JSON (at least 64). */
export function blueprintDocument(n: number, bytes: number): Uint8Array {
  const head = JSON.stringify({ title: `Blueprint ${n}`, description: "benchmark", padding: "" });
  const padding = "x".repeat(Math.max(0, bytes - head.length));
  return encoder.encode(
    JSON.stringify({ title: `Blueprint ${n}`, description: "benchmark", padding }),
  );
}

/** A hub on ephemeral ports in a temporary data directory, removed on dispose. */
async function benchHub(startHub: StartHub): Promise<BenchHub> {
  const dir = await tempDir("hub-bench-");
  try {
    const hub = await startHub({ dataDir: dir.path, hubId: "bench", grpcPort: 0, httpPort: 0 });
    return {
      grpcPort: hub.grpcPort,
      publish: (input) => hub.publish(input),
      async [Symbol.asyncDispose]() {
        await hub[Symbol.asyncDispose]();
        await dir[Symbol.asyncDispose]();
      },
    };
  } catch (error) {
    await dir[Symbol.asyncDispose]();
    throw error;
  }
}

/** Options of {@link measureHubFullSync}. */
export interface HubFullSyncOptions {
  /** Blueprints published before the reads (10,000 in the benchmark). */
  count: number;
  /** Bytes of each document (1024 in the benchmark). */
  documentBytes: number;
  /** Timed FullSyncs; the figure is their median (default 5). */
  runs?: number;
  /** FullSyncs before the timed ones (default 1). */
  warmUps?: number;
}

/** What {@link measureHubFullSync} measured. */
export interface HubFullSyncResult {
  /** The median time of one FullSync, from the call to its last entry, in ms. */
  medianMs: number;
  /** Each timed FullSync, in ms. */
  runsMs: number[];
  /** Entries each FullSync streamed (the published ones and any genesis blueprints). */
  entries: number;
}

/**
 * HUB FIGURE (needs `hub/hub.ts`): publishes `count` blueprints of
 * `documentBytes` (not timed), then times FullSync of the whole register to
 * one client on its own channel, several times.
 */
export async function measureHubFullSync(
  startHub: StartHub,
  options: HubFullSyncOptions,
): Promise<HubFullSyncResult> {
  const { count, documentBytes, runs = 5, warmUps = 1 } = options;
  await using hub = await benchHub(startHub);
  for (let i = 0; i < count; i++) {
    await hub.publish({
      blueprintId: `bench-blueprint-${i}`,
      document: blueprintDocument(i, documentBytes),
      publishedBy: "bench",
    });
  }
  using channel = new GrpcChannel(`127.0.0.1:${hub.grpcPort}`, { channelOptions: OWN_CONNECTION });
  const client = createClient(SystemRegisterSync, channel);
  let entries = 0;
  const fullSync = async () => {
    let received = 0;
    for await (const _entry of client.fullSync({ peerId: "bench-peer", fullSync: true })) {
      received++;
    }
    if (received < count) throw new Error(`FullSync streamed ${received} entries, not ${count}`);
    entries = received;
  };
  for (let i = 0; i < warmUps; i++) await fullSync();
  const runsMs: number[] = [];
  for (let i = 0; i < runs; i++) runsMs.push(await time(fullSync));
  return { medianMs: median(runsMs), runsMs, entries };
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
  /** Publications after every subscriber is known to be subscribed, not timed (default 2). */
  warmUps?: number;
}

/** One subscribed stream and the wait for a given blueprint's notification on it. */
interface Subscriber {
  /** Notifications of bench publications received. */
  seen: number;
  /** Resolves with the arrival time of the next notification of `blueprintId`. */
  next(blueprintId: string): Promise<number>;
  /** The stream's error, if it failed. */
  failure: unknown;
}

function subscribe(
  client: ServiceClient<typeof SystemRegisterSync>,
  n: number,
  signal: AbortSignal,
): Subscriber {
  let waiting: { blueprintId: string; resolve: (at: number) => void } | undefined;
  const subscriber: Subscriber = {
    seen: 0,
    failure: undefined,
    next: (blueprintId) => new Promise((resolve) => waiting = { blueprintId, resolve }),
  };
  (async () => {
    const request = { peerId: `bench-peer-${n}`, sessionId: `bench-session-${n}` };
    for await (const notification of client.subscribeToPushNotifications(request, { signal })) {
      const at = performance.now();
      if (!notification.blueprintId.startsWith("bench-push-")) continue; // keep-alives, genesis
      subscriber.seen++;
      if (waiting?.blueprintId === notification.blueprintId) {
        waiting.resolve(at);
        waiting = undefined;
      }
    }
  })().catch((error) => {
    if (!signal.aborted) subscriber.failure = error;
  });
  return subscriber;
}

/** Waits until `check` holds, polling; throws the first subscriber failure at once. */
async function until(
  what: string,
  check: () => boolean,
  subscribers: Subscriber[],
  timeoutMs: number,
): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    const failed = subscribers.find((s) => s.failure !== undefined);
    if (failed) throw new Error(`a subscription failed while ${what}`, { cause: failed.failure });
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

/**
 * HUB FIGURE (needs `hub/hub.ts`): `subscribers` push streams spread over
 * `channels` channels (each its own connection, 50 streams each for 500 over
 * 10); publications until every stream has received one (so every
 * subscription is known to be registered), `warmUps` more, then
 * `publications` timed ones, one after the other: from just before
 * `hub.publish` to the notification's arrival on each stream (the next
 * publication waits for all of them). Returns every stream's latency of
 * every timed publication.
 */
export async function measureHubPushFanout(
  startHub: StartHub,
  options: HubPushFanoutOptions,
): Promise<FanoutResult> {
  const { subscribers: count, channels = 10, publications, documentBytes = 1024, warmUps = 2 } =
    options;
  await using hub = await benchHub(startHub);
  const address = `127.0.0.1:${hub.grpcPort}`;
  const opened = Array.from(
    { length: channels },
    () => new GrpcChannel(address, { channelOptions: OWN_CONNECTION }),
  );
  const stop = new AbortController();
  try {
    const clients = opened.map((channel) => createClient(SystemRegisterSync, channel));
    const subscribers = Array.from(
      { length: count },
      (_, n) => subscribe(clients[n % channels]!, n, stop.signal),
    );
    let published = 0;
    const publish = (blueprintId: string) =>
      hub.publish({
        blueprintId,
        document: blueprintDocument(published++, documentBytes),
        publishedBy: "bench",
      });
    // Publish until every stream has seen a publication: all are subscribed.
    let ready = false;
    for (let attempt = 0; attempt < 50 && !ready; attempt++) {
      await publish(`bench-push-ready-${attempt}`);
      ready = await until(
        "subscribing",
        () => subscribers.every((s) => s.seen > 0),
        subscribers,
        200,
      );
    }
    if (!ready) throw new Error("not every stream received a notification");
    const latenciesMs: number[] = [];
    for (let n = 0; n < warmUps + publications; n++) {
      const blueprintId = `bench-push-${n}`;
      const arrivals = Promise.all(subscribers.map((s) => s.next(blueprintId)));
      const began = performance.now();
      await publish(blueprintId);
      let at: number[] | undefined;
      void arrivals.then((times) => at = times);
      if (
        !await until(
          `${blueprintId} was delivered`,
          () => at !== undefined,
          subscribers,
          WAIT_TIMEOUT_MS,
        )
      ) {
        throw new Error(`${blueprintId} did not reach every stream within ${WAIT_TIMEOUT_MS} ms`);
      }
      if (n >= warmUps) latenciesMs.push(...at!.map((t) => t - began));
    }
    return { latenciesMs, subscribers: count, publications };
  } finally {
    stop.abort();
    for (const channel of opened) channel.close();
  }
}
