/**
 * The push side of the hub benchmarks, kept apart from the hub's own modules
 * so that a process measuring it loads only what a subscribing peer loads
 * (the generated contract, the notification decoder, our gRPC client): a
 * publication's notification timed on every one of many subscribed streams.
 *
 * @module
 */
import { SystemRegisterSync } from "../../gen/sorcha/peer/v1/system_register_sync_pb.ts";
import { blueprintNotificationDecoder } from "../../shared/contracts/blueprint_notification_decoder.ts";
import { createClient, GrpcChannel, type ServiceClient } from "../../shared/grpc/mod.ts";
import { within } from "../../shared/async.ts";
import type { FanoutProbe } from "./fanout.ts";

/**
 * grpc-js shares one connection among all channels to one address unless
 * told otherwise; each channel here gets its own, as separate peers would.
 */
export const OWN_CONNECTION = { "grpc.use_local_subchannel_pool": 1 };
const WAIT_TIMEOUT_MS = 10_000;

/** A blueprint document of exactly `bytes` bytes once serialised as JSON (at least 64). */
export function blueprintObject(n: number, bytes: number): Record<string, string> {
  const head = JSON.stringify({ title: `Blueprint ${n}`, description: "benchmark", padding: "" });
  const padding = "x".repeat(Math.max(0, bytes - head.length));
  return { title: `Blueprint ${n}`, description: "benchmark", padding };
}

/** Where a push benchmark publishes and subscribes. */
export interface PushTarget {
  /** The port of the hub's gRPC server (on loopback). */
  readonly grpcPort: number;
  /** Publishes one blueprint version. */
  publish(input: BenchPublishInput): Promise<void>;
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

/**
 * Publishing through a hub's `POST /api/system-register/blueprints` at `url`
 * (the bench hub has no API token); throws unless the hub answers 201.
 */
export function httpPublisher(url: string): PushTarget["publish"] {
  return async (input) => {
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
  };
}

/** Options of {@link prepareHubPushFanout}. */
export interface HubPushFanoutOptions {
  /** Subscribed streams (500 in the benchmark). */
  subscribers: number;
  /** Channels (connections) the streams are spread over (default 10). */
  channels?: number;
  /** Bytes of each published document (default 1024). */
  documentBytes?: number;
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
  // Each stream is a peer of its own: subscriptions are limited per peer. Notifications are
  // taken as they arrive (`listen`), as a subscribing peer takes them.
  const request = { peerId: `bench-peer-${n}`, sessionId: `bench-session-${n}` };
  client.subscribeToPushNotifications(request, { signal }).listen((notification) => {
    const at = performance.now();
    subscribed.resolve();
    if (waiting?.blueprintId === notification.blueprintId) {
      waiting.resolve(at);
      waiting = undefined;
    }
  }).then(() => {
    throw new Error(`subscription ${n} ended`);
  }).catch((reason) => {
    if (signal.aborted) return;
    error = { reason };
    subscribed.reject(reason);
    waiting?.reject(reason);
    waiting = undefined;
  });
  return subscriber;
}

/**
 * `subscribers` push streams on `hub`, spread over `channels` channels (each
 * its own connection, 50 streams each for 500 over 10), each a peer of its
 * own, as a {@link FanoutProbe}: resolves once every stream has its first
 * frame (the keep-alive saying it is subscribed). A publication is one
 * blueprint published (the HTTP POST, for a separate process), timed from
 * just before it to the notification's arrival on each stream.
 */
export async function prepareHubPushFanout(
  hub: PushTarget,
  options: HubPushFanoutOptions,
): Promise<FanoutProbe> {
  const { subscribers: count, channels = 10, documentBytes = 1024 } = options;
  const address = `127.0.0.1:${hub.grpcPort}`;
  const opened = Array.from(
    { length: channels },
    () => new GrpcChannel(address, { channelOptions: OWN_CONNECTION }),
  );
  const stop = new AbortController();
  const close = () => {
    stop.abort();
    for (const channel of opened) channel.close();
  };
  const clients = opened.map((channel) =>
    createClient(SystemRegisterSync, channel, { decoders: [blueprintNotificationDecoder] })
  );
  const subscribers = Array.from(
    { length: count },
    (_, n) => subscribe(clients[n % channels]!, n, stop.signal),
  );
  try {
    await within(Promise.all(subscribers.map((s) => s.subscribed)), {
      ms: WAIT_TIMEOUT_MS,
      what: `${count} subscriptions in place`,
    });
  } catch (error) {
    close();
    throw error;
  }
  return {
    subscribers: count,
    async publishOnce(n) {
      const blueprintId = `bench-push-${n}`;
      const arrivals = Promise.all(subscribers.map((s) => s.next(blueprintId)));
      const input = {
        blueprintId,
        document: blueprintObject(n, documentBytes),
        publishedBy: "bench",
      };
      const began = performance.now();
      await hub.publish(input);
      const at = await within(arrivals, {
        ms: WAIT_TIMEOUT_MS,
        what: `${blueprintId} delivered to every stream`,
      });
      return at.map((t) => t - began);
    },
    [Symbol.asyncDispose]: () => Promise.resolve(close()),
  };
}
