/**
 * etcd as the yardstick of the hub benchmarks: a real `etcd` (apt package
 * `etcd-server`) started on free loopback ports in a temporary data
 * directory, and its figures through the `etcd3` client (grpc-js, the same
 * gRPC stack as our clients): a paginated range read of 10,000 values, and
 * one put seen by 500 watchers.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { Etcd3, type IWatchResponse } from "etcd3";
import { settlesWithin, within } from "../../shared/async.ts";
import { BULK_FLOW_CONTROL_WINDOW_BYTES } from "../../shared/grpc/channel.ts";
import { freePort } from "../fixtures/ports.ts";
import type { FanoutProbe } from "./fanout.ts";

const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;
const POLL_INTERVAL_MS = 50;
/** Puts in flight while loading values (etcd batches their commits). */
const LOAD_CONCURRENCY = 200;
const WATCH_TIMEOUT_MS = 10_000;

/**
 * grpc-js shares one connection among all clients of one address unless
 * told otherwise; each of our clients gets its own connection, as separate
 * peers would have.
 */
const OWN_CONNECTION = { "grpc.use_local_subchannel_pool": 1 };

/** The HTTP/2 flow-control window of our full-sync client, given to etcd's clients alike. */
const FLOW_CONTROL = { "grpc-node.flow_control_window": BULK_FLOW_CONTROL_WINDOW_BYTES };

/** A running `etcd` owned by a benchmark; disposing it kills it and removes its data. */
export interface EtcdHandle extends AsyncDisposable {
  /** `127.0.0.1:{port}`: its client (gRPC) endpoint. */
  readonly endpoint: string;
  /** Its client port on loopback. */
  readonly port: number;
  /** Its data directory. */
  readonly dataDir: string;
}

/** Whether an `etcd` binary is on the PATH. */
export async function etcdAvailable(): Promise<boolean> {
  try {
    const { success } = await new Deno.Command("etcd", {
      args: ["--version"],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}

/** The `etcd --version` line, such as `etcd Version: 3.4.23`, when installed. */
export async function etcdVersion(): Promise<string | undefined> {
  try {
    const { stdout } = await new Deno.Command("etcd", { args: ["--version"] }).output();
    return new TextDecoder().decode(stdout).split("\n")[0]?.trim();
  } catch {
    return undefined;
  }
}

/**
 * Starts a one-member `etcd` on two free loopback ports (client, peer) in a
 * new temporary data directory; resolves once `/health` says it is healthy.
 */
export async function startEtcd(): Promise<EtcdHandle> {
  const port = freePort();
  const peerPort = freePort();
  const dataDir = await Deno.makeTempDir({ prefix: "etcd-bench-" });
  const client = `http://127.0.0.1:${port}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("etcd", {
      args: [
        "--name=bench",
        `--data-dir=${dataDir}/data`,
        `--listen-client-urls=${client}`,
        `--advertise-client-urls=${client}`,
        `--listen-peer-urls=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
        `--initial-cluster=bench=${peer}`,
        "--initial-cluster-state=new",
        "--logger=zap",
        "--log-level=error",
        `--log-outputs=${dataDir}/etcd.log`,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
  } catch (error) {
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    if (error instanceof Deno.errors.NotFound) {
      throw new Error("etcd is not installed (apt-get install -y etcd-server)", { cause: error });
    }
    throw error;
  }
  let exited = false;
  const status = child.status.finally(() => exited = true);
  const stop = async () => {
    if (!exited) {
      child.kill("SIGTERM");
      if (!(await settlesWithin(status, STOP_TIMEOUT_MS))) child.kill("SIGKILL");
    }
    await status;
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  };
  try {
    await waitUntilHealthy(`${client}/health`, () => exited, dataDir);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    endpoint: `127.0.0.1:${port}`,
    port,
    dataDir,
    [Symbol.asyncDispose]: stop,
  };
}

async function waitUntilHealthy(
  url: string,
  exited: () => boolean,
  dataDir: string,
): Promise<void> {
  const deadline = performance.now() + READY_TIMEOUT_MS;
  let lastError: unknown;
  while (performance.now() < deadline) {
    if (exited()) throw new Error(`etcd exited while starting: ${await logTail(dataDir)}`);
    try {
      const response = await fetch(url);
      const body = await response.json() as { health?: unknown };
      if (body.health === "true" || body.health === true) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
  throw new Error(
    `etcd was not healthy within ${READY_TIMEOUT_MS} ms (last error: ${lastError}): ${await logTail(
      dataDir,
    )}`,
  );
}

async function logTail(dataDir: string): Promise<string> {
  try {
    const text = await Deno.readTextFile(`${dataDir}/etcd.log`);
    return text.trim().split("\n").slice(-5).join(" | ");
  } catch {
    return "(no log)";
  }
}

/**
 * An `etcd3` client of `handle` on a connection of its own; with `bulk`, with
 * the flow-control window of our full-sync client.
 */
function connect(handle: Pick<EtcdHandle, "endpoint">, options: { bulk?: boolean } = {}): Etcd3 {
  return new Etcd3({
    hosts: `http://${handle.endpoint}`,
    grpcOptions: { ...OWN_CONNECTION, ...(options.bulk ? FLOW_CONTROL : {}) },
  });
}

/** The key after every key that starts with `prefix` (etcd's `range_end` of a prefix). */
function prefixEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix);
  end[end.length - 1]! += 1;
  return end;
}

/** Options of {@link prepareEtcdRangeRead}. */
export interface EtcdRangeReadOptions {
  /** Values stored and read (10,000 in the benchmark). */
  count: number;
  /** Bytes of each value (1024 in the benchmark). */
  valueBytes: number;
  /** Keys per Range request (default 1000: about 1 MiB per page, under grpc-js's 4 MiB). */
  pageSize?: number;
}

/** A read of every value stored by {@link prepareEtcdRangeRead}, to time; dispose to close its client. */
export interface EtcdRangeRead extends Disposable {
  /** Reads every value back, page by page; throws unless it read them all. */
  read(): Promise<void>;
  /** Keys per page. */
  readonly pageSize: number;
}

/**
 * Puts `count` values of `valueBytes` bytes under one prefix (not timed),
 * and returns the read to time: all of them back page by page, a Range of
 * `pageSize` keys from just after the last key read, until the prefix is
 * exhausted (etcd's default, linearizable reads).
 */
export async function prepareEtcdRangeRead(
  handle: Pick<EtcdHandle, "endpoint">,
  options: EtcdRangeReadOptions,
): Promise<EtcdRangeRead> {
  const { count, valueBytes, pageSize = 1000 } = options;
  const prefix = "bench/range/";
  const client = connect(handle, { bulk: true });
  try {
    const value = Buffer.alloc(valueBytes, "x");
    const keys = Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(8, "0")}`);
    for (let i = 0; i < keys.length; i += LOAD_CONCURRENCY) {
      await Promise.all(
        keys.slice(i, i + LOAD_CONCURRENCY).map((key) => client.put(key).value(value)),
      );
    }
  } catch (error) {
    client.close();
    throw error;
  }
  const end = prefixEnd(prefix);
  return {
    pageSize,
    async read() {
      let from = Buffer.from(prefix);
      let read = 0;
      for (;;) {
        const page = await client.kv.range({ key: from, range_end: end, limit: String(pageSize) });
        read += page.kvs.length;
        const last = page.kvs.at(-1);
        if (!page.more || last === undefined) break;
        from = Buffer.concat([last.key, Buffer.from([0])]);
      }
      if (read !== count) throw new Error(`read ${read} values from etcd, not ${count}`);
    },
    [Symbol.dispose]: () => client.close(),
  };
}

/** Options of {@link prepareEtcdWatchFanout}. */
export interface EtcdWatchFanoutOptions {
  /** Watchers (500 in the benchmark). */
  watchers: number;
  /** Client connections the watchers are spread over (default 10, as our 10 channels). */
  connections?: number;
  /** Bytes of each put's value (default 256, about a notification's size). */
  valueBytes?: number;
}

/** One watch stream holding one watcher, and the wait for its next event. */
interface WatchStream {
  /** Resolves once the watch is created. */
  created: Promise<void>;
  /** Resolves on the next event of key `key` (set before the put). */
  next(key: string): Promise<number>;
  cancel(): void;
}

/**
 * One watch of `key` on a watch stream of its own: etcd3's `client.watch()`
 * multiplexes all watchers of a client on one stream, which would be 1
 * HTTP/2 stream where our hub serves 500; so each watcher opens its own Watch
 * call (`client.watchClient.watch()`), as each subscriber of ours has its own
 * server stream. Arrival is stamped in the `data` handler.
 */
async function openWatch(client: Etcd3, key: string): Promise<WatchStream> {
  const stream = await client.watchClient.watch();
  let created!: () => void;
  let failed!: (error: unknown) => void;
  const createdPromise = new Promise<void>((resolve, reject) => {
    created = resolve;
    failed = reject;
  });
  let waiting: { key: string; resolve: (at: number) => void } | undefined;
  stream.on("data", (response: IWatchResponse) => {
    const at = performance.now();
    if (response.created) created();
    for (const event of response.events) {
      if (waiting && event.kv.value.toString().trimEnd() === waiting.key) {
        waiting.resolve(at);
        waiting = undefined;
      }
    }
  });
  stream.on("error", (error: Error) => failed(error));
  stream.write({ create_request: { key: Buffer.from(key) } });
  return {
    created: createdPromise,
    next: (expected) => new Promise((resolve) => waiting = { key: expected, resolve }),
    cancel: () => stream.cancel(),
  };
}

/**
 * `watchers` watch streams on one key, spread over `connections` client
 * connections, as a {@link FanoutProbe}: a publication is one put of a value
 * naming it, timed from just before the put to its event's arrival at each
 * watcher.
 */
export async function prepareEtcdWatchFanout(
  handle: Pick<EtcdHandle, "endpoint">,
  options: EtcdWatchFanoutOptions,
): Promise<FanoutProbe> {
  const { watchers, connections = 10, valueBytes = 256 } = options;
  const key = "bench/watch/blueprint";
  const clients = Array.from({ length: connections }, () => connect(handle));
  const streams: WatchStream[] = [];
  const close = () => {
    for (const stream of streams) stream.cancel();
    for (const client of clients) client.close();
  };
  try {
    for (let i = 0; i < watchers; i++) {
      streams.push(await openWatch(clients[i % connections]!, key));
    }
    await within(Promise.all(streams.map((s) => s.created)), {
      ms: WATCH_TIMEOUT_MS,
      what: "watches created",
    });
  } catch (error) {
    close();
    throw error;
  }
  const writer = clients[0]!;
  return {
    subscribers: watchers,
    async publishOnce(n) {
      // The value names the publication; padded to the size of a notification.
      const marker = `publication-${n}`;
      const arrivals = streams.map((s) => s.next(marker));
      const value = Buffer.alloc(valueBytes, " ");
      value.write(marker);
      const began = performance.now();
      await writer.put(key).value(value);
      const at = await within(Promise.all(arrivals), {
        ms: WATCH_TIMEOUT_MS,
        what: `${marker} seen by all`,
      });
      return at.map((t) => t - began);
    },
    [Symbol.asyncDispose]: () => Promise.resolve(close()),
  };
}
