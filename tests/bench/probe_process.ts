/**
 * Benchmark clients in processes of their own. Each side's clients (our
 * hub's subscribers or full-sync client, etcd's watchers or range reader)
 * live in a child process of their own, as the clients of either system are
 * other processes in a real network: the garbage one client library leaves
 * behind is collected in its own process, and its pauses delay its own
 * figures only. (In one shared process, etcd3's 500 watchers leave about
 * 2 MB of survivors per young collection, which makes those collections take
 * 7–15 ms; ours leave about 0.4 MB, collected in 1–3 ms. Half of those long
 * pauses landed on our publications.) The two sides are still timed in turn
 * (`fanoutInTurn`, and the reads alike), so both see the same load of the
 * machine.
 *
 * The child (`probe_worker.ts`) reads one JSON line, the {@link ProbeSpec},
 * prepares its clients, answers `{"ready":...}`, then answers each line
 * `{"n":N}` with `{"values":[...]}`: for a fan-out, publication N's delay on
 * every stream; for a read, how long one whole read took (both in ms, timed
 * in the child). Any failure is a line `{"error":"..."}`. It closes its
 * clients and exits once its standard input closes.
 *
 * @module
 */
import { lines } from "../../shared/lines.ts";
import { settlesWithin } from "../../shared/async.ts";
import type { FanoutProbe } from "./fanout.ts";

/** Subscribers whose deliveries a probe process times. */
export type FanoutSpec =
  | {
    /** Our hub's push streams (`prepareHubPushFanout`), publishing with an HTTP POST. */
    kind: "hub-push";
    /** The hub's gRPC port on loopback. */
    grpcPort: number;
    /** `POST` URL of the hub's publishing endpoint. */
    publishUrl: string;
    subscribers: number;
    channels: number;
    documentBytes: number;
  }
  | {
    /** etcd watchers (`prepareEtcdWatchFanout`), publishing with a put. */
    kind: "etcd-watch";
    /** etcd's client endpoint, `127.0.0.1:PORT`. */
    endpoint: string;
    watchers: number;
    connections: number;
  };

/** A whole-register read that a probe process times. */
export type ReadSpec =
  | {
    /** A FullSync of our hub (`prepareHubFullSync`). */
    kind: "hub-full-sync";
    /** The hub's gRPC port on loopback. */
    grpcPort: number;
    /** Entries the register holds (genesis included). */
    entries: number;
  }
  | {
    /** A paginated range read of etcd (`prepareEtcdRangeRead`, which stores the values first). */
    kind: "etcd-range";
    /** etcd's client endpoint, `127.0.0.1:PORT`. */
    endpoint: string;
    count: number;
    valueBytes: number;
    pageSize: number;
  };

/** What a probe process is asked to prepare. */
export type ProbeSpec = FanoutSpec | ReadSpec;

/** What the worker answers. */
export type ProbeReply =
  | { ready: true; subscribers: number }
  | { values: number[] }
  | { error: string };

/** A read timed in a probe process; dispose to stop the process. */
export interface RemoteRead extends AsyncDisposable {
  /** Reads the whole register once; resolves with how long it took, in ms. */
  read(): Promise<number>;
}

const WORKER = new URL("./probe_worker.ts", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;
const STOP_TIMEOUT_MS = 10_000;

/** A probe process, prepared: each `once(n)` is one timed run of it. */
interface ProbeProcess extends AsyncDisposable {
  readonly subscribers: number;
  once(n: number): Promise<number[]>;
}

async function spawnProbe(spec: ProbeSpec): Promise<ProbeProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", WORKER],
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr: string[] = [];
  const stderrDrained = (async () => {
    for await (const line of lines(child.stderr)) stderr.push(line);
  })();
  const writer = child.stdin.getWriter();
  const encoder = new TextEncoder();
  const replies = lines(child.stdout);
  const send = (message: unknown) => writer.write(encoder.encode(`${JSON.stringify(message)}\n`));
  const receive = async (what: string): Promise<ProbeReply> => {
    const next = await replies.next();
    if (next.done) {
      await settlesWithin(stderrDrained, STOP_TIMEOUT_MS);
      throw new Error(
        `the ${spec.kind} probe process ended before ${what}: ${stderr.slice(-5).join(" | ")}`,
      );
    }
    const reply = JSON.parse(next.value) as ProbeReply;
    if ("error" in reply) throw new Error(`${spec.kind} probe process, ${what}: ${reply.error}`);
    return reply;
  };
  const stop = async () => {
    await writer.close().catch(() => {});
    if (!(await settlesWithin(child.status, STOP_TIMEOUT_MS))) child.kill("SIGKILL");
    await child.status;
    await replies.return(undefined);
    await stderrDrained;
  };
  let subscribers: number;
  try {
    await send(spec);
    const ready = await receive("it was ready");
    if (!("ready" in ready)) throw new Error(`unexpected reply ${JSON.stringify(ready)}`);
    subscribers = ready.subscribers;
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    subscribers,
    async once(n) {
      await send({ n });
      const reply = await receive(`run ${n}`);
      if (!("values" in reply)) throw new Error(`unexpected reply ${JSON.stringify(reply)}`);
      return reply.values;
    },
    [Symbol.asyncDispose]: stop,
  };
}

/**
 * Starts a probe process for `spec` and resolves once its streams are in
 * place, as a {@link FanoutProbe} (see the module).
 */
export async function spawnFanoutProbe(spec: FanoutSpec): Promise<FanoutProbe> {
  const probe = await spawnProbe(spec);
  return {
    subscribers: probe.subscribers,
    publishOnce: (n) => probe.once(n),
    [Symbol.asyncDispose]: () => probe[Symbol.asyncDispose](),
  };
}

/**
 * Starts a probe process for `spec` and resolves once its client is ready
 * (for etcd, once the values are stored), as a {@link RemoteRead}.
 */
export async function spawnReadProbe(spec: ReadSpec): Promise<RemoteRead> {
  const probe = await spawnProbe(spec);
  let n = 0;
  return {
    async read() {
      const [ms] = await probe.once(n++);
      if (ms === undefined) throw new Error(`the ${spec.kind} probe process timed nothing`);
      return ms;
    },
    [Symbol.asyncDispose]: () => probe[Symbol.asyncDispose](),
  };
}
