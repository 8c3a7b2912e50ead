/**
 * Fan-out probes in processes of their own. Each side's subscribers (our
 * hub's 500 streams, etcd's 500 watchers) live in a child process of their
 * own, as the subscribers of either system are other processes in a real
 * network: the garbage one client library leaves behind is then collected in
 * its own process, and its pauses delay its own deliveries only. (In one
 * shared process, etcd3's watchers leave about 2 MB of survivors per young
 * collection, which makes those collections take 7–15 ms; ours leave about
 * 0.4 MB, collected in 1–3 ms. Half of those long pauses landed on our
 * publications.) The publications of both sides still go in turn
 * ({@link fanoutInTurn}), so both see the same load of the machine.
 *
 * The child (`probe_worker.ts`) reads one JSON line, the {@link ProbeSpec},
 * builds the probe, answers `{"ready":...}`, then answers each line `{"n":N}`
 * with `{"delays":[...]}` (publication N's delay on every stream, in ms);
 * any failure is a line `{"error":"..."}`. It disposes of its probe and
 * exits once its standard input closes.
 *
 * @module
 */
import { settlesWithin } from "../../shared/async.ts";
import type { FanoutProbe } from "./fanout.ts";

/** What a probe process subscribes to and how it publishes. */
export type ProbeSpec =
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

/** What the worker answers. */
export type ProbeReply =
  | { ready: true; subscribers: number }
  | { delays: number[] }
  | { error: string };

const WORKER = new URL("./probe_worker.ts", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;
const STOP_TIMEOUT_MS = 10_000;

/** Reads `stream` as lines of text. */
export async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let pending = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    pending += text;
    let end: number;
    while ((end = pending.indexOf("\n")) >= 0) {
      yield pending.slice(0, end);
      pending = pending.slice(end + 1);
    }
  }
  if (pending !== "") yield pending;
}

/**
 * Starts a probe process for `spec` and resolves once its streams are in
 * place, as a {@link FanoutProbe} (see the module).
 */
export async function spawnFanoutProbe(spec: ProbeSpec): Promise<FanoutProbe> {
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
    const ready = await receive("its streams were in place");
    if (!("ready" in ready)) throw new Error(`unexpected reply ${JSON.stringify(ready)}`);
    subscribers = ready.subscribers;
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    subscribers,
    async publishOnce(n) {
      await send({ n });
      const reply = await receive(`publication ${n}`);
      if (!("delays" in reply)) throw new Error(`unexpected reply ${JSON.stringify(reply)}`);
      return reply.delays;
    },
    [Symbol.asyncDispose]: stop,
  };
}
