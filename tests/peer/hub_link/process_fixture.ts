/**
 * Real hub and peer processes for the hub link's process tests: started on
 * free loopback ports, stopped, killed, paused and started again on the same
 * ports and data, their standard error kept for failure reports (HTTP
 * helpers are in `link_http.ts`).
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { freePort } from "../../fixtures/ports.ts";
import { getJson } from "./link_http.ts";

/** The repository's root: processes run there, as `deno task` runs them. */
export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
/** The peer's entry point. */
export const PEER_ENTRY = `${ROOT}peer/main.ts`;
/** The hub's entry point (the hub itself, without the supervisor of `deno task hub`). */
export const HUB_ENTRY = `${ROOT}hub/main.ts`;
/** The network token hubs and peers share in these tests. */
export const NETWORK_TOKEN = "hub-link-process-test";

const LOG_LIMIT = 512 * 1024;
const decoder = new TextDecoder();

/** How to run one service process. */
export interface ProcessSpec {
  /** A short name for logs and reports (`n0`, `peer-a`). */
  name: string;
  /** The entry point (absolute path). */
  entry: string;
  /** Its environment, besides `HOST`, `PORT` and `NO_COLOR`. */
  env: Record<string, string>;
  /** How long a start may take before it fails, in ms (default 30 000). */
  startTimeoutMs?: number;
}

/**
 * A service process the test owns: started on the same port every time,
 * signalled, paused, stopped; everything it wrote to standard error is kept
 * (across starts) for failure reports. Disposing it kills it (and, for a
 * peer, whatever children it left).
 */
export class ServiceProcess implements AsyncDisposable {
  /** Its name. */
  readonly name: string;
  /** Its HTTP port, the same across starts. */
  readonly port: number;
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly #spec: ProcessSpec;
  #child: Deno.ChildProcess | undefined;
  #status: Promise<Deno.CommandStatus> | undefined;
  #drained: Promise<void> = Promise.resolve();
  #exited = true;
  #paused = false;
  #log = "";
  #starts = 0;

  /** A process not started yet (see {@link ServiceProcess.start}). */
  constructor(spec: ProcessSpec, port = freePort()) {
    this.#spec = spec;
    this.name = spec.name;
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
  }

  /** Whether it runs (paused or not). */
  get running(): boolean {
    return !this.#exited;
  }

  /** Whether it is paused (SIGSTOP). */
  get paused(): boolean {
    return this.#paused;
  }

  /** Its process id while it runs. */
  get pid(): number | undefined {
    return this.#exited ? undefined : this.#child?.pid;
  }

  /** Starts it and resolves once `/readyz` answers 200; throws with its log if it exits first. */
  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    this.#starts++;
    this.#append(`----- ${this.name}: start ${this.#starts} at ${new Date().toISOString()}\n`);
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", this.#spec.entry],
      cwd: ROOT,
      env: { HOST: "127.0.0.1", NO_COLOR: "1", ...this.#spec.env, PORT: String(this.port) },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    this.#exited = false;
    this.#paused = false;
    this.#drained = this.#drain(child.stderr);
    this.#status = child.status.then((status) => {
      if (this.#child === child) this.#exited = true;
      const how = status.signal ? `killed by ${status.signal}` : `exit code ${status.code}`;
      this.#append(`----- ${this.name}: ended (${how}) at ${new Date().toISOString()}\n`);
      return status;
    });
    const deadline = Date.now() + (this.#spec.startTimeoutMs ?? 30_000);
    while (true) {
      if (this.#exited) {
        await this.#drained;
        throw new Error(`${this.name} exited before it was ready:\n${this.tail()}`);
      }
      try {
        if ((await getJson(`${this.url}/readyz`, 1000)).status === 200) return;
      } catch { /* not listening yet */ }
      if (Date.now() > deadline) {
        await this.stop("SIGKILL");
        throw new Error(`${this.name} was not ready in time:\n${this.tail()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Sends `signal` (a stopped process is continued, so that it can act on it). */
  signal(signal: Deno.Signal): void {
    if (!this.#child || this.#exited) return;
    try {
      this.#child.kill(signal);
      if (this.#paused && signal !== "SIGSTOP" && signal !== "SIGKILL") {
        this.#child.kill("SIGCONT");
        this.#paused = false;
      }
    } catch { /* gone already */ }
    if (signal === "SIGSTOP") this.#paused = true;
    if (signal === "SIGCONT") this.#paused = false;
  }

  /**
   * Sends `signal` and waits for the exit; kills it when it takes longer than
   * `timeoutMs` and throws (a stop that hangs is a failure).
   */
  async stop(signal: Deno.Signal = "SIGTERM", timeoutMs = 15_000): Promise<Deno.CommandStatus> {
    const status = this.#status;
    if (!status) throw new Error(`${this.name} was never started`);
    if (this.#exited) return await status;
    this.signal(signal);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    const outcome = await Promise.race([status, timedOut]);
    clearTimeout(timer);
    if (outcome === "timeout") {
      this.signal("SIGKILL");
      await status;
      await this.#drained;
      throw new Error(`${this.name} did not stop within ${timeoutMs} ms of ${signal}`);
    }
    await this.#drained;
    return outcome;
  }

  /** Its exit, once it ends (this start's). */
  exited(): Promise<Deno.CommandStatus> {
    if (!this.#status) throw new Error(`${this.name} was never started`);
    return this.#status;
  }

  /** Everything it wrote to standard error, over all its starts (the last 512 KiB). */
  log(): string {
    return this.#log;
  }

  /** The last `lines` lines of {@link ServiceProcess.log}, prefixed by its name. */
  tail(lines = 60): string {
    return this.#log.trimEnd().split("\n").slice(-lines).map((line) => `[${this.name}] ${line}`)
      .join("\n");
  }

  /** Kills it and waits; a peer's link process is given 5 s to end by itself, then killed. */
  async [Symbol.asyncDispose](): Promise<void> {
    const pid = this.pid;
    const children = pid === undefined ? [] : await childPids(pid);
    if (this.#status && !this.#exited) {
      this.signal("SIGKILL");
      await this.#status;
    }
    await this.#drained;
    for (const child of children) await killIfLeft(child);
  }

  #append(text: string): void {
    this.#log += text;
    if (this.#log.length > LOG_LIMIT) this.#log = this.#log.slice(-LOG_LIMIT);
  }

  async #drain(stream: ReadableStream<Uint8Array>): Promise<void> {
    try {
      for await (const chunk of stream) this.#append(decoder.decode(chunk, { stream: true }));
    } catch { /* the pipe broke: the process is gone */ }
  }
}

/** Options of {@link hubProcess}. */
export interface HubOptions {
  /** `HUB_ID`. */
  hubId: string;
  /** `DATA_DIR`: hubs given the same one share one register. */
  dataDir: string;
  /** More variables. */
  env?: Record<string, string>;
}

/** A hub process (not started) on free HTTP and gRPC ports. */
export interface HubProcess extends ServiceProcess {
  /** Where peers reach its gRPC server, `127.0.0.1:<port>`. */
  readonly grpcAddress: string;
}

/** A hub (`hub/main.ts`) on free ports, not started yet; the network token is {@link NETWORK_TOKEN}. */
export function hubProcess(options: HubOptions): HubProcess {
  const grpcPort = freePort();
  const hub = new ServiceProcess({
    name: options.hubId,
    entry: HUB_ENTRY,
    env: {
      HUB_ID: options.hubId,
      DATA_DIR: options.dataDir,
      GRPC_PORT: String(grpcPort),
      NETWORK_TOKEN,
      LOG_LEVEL: "info",
      ...options.env,
    },
  });
  return Object.assign(hub, { grpcAddress: `127.0.0.1:${grpcPort}` });
}

/** Options of {@link peerProcess}. */
export interface PeerOptions {
  /** `PEER_ID`. */
  peerId: string;
  /** `DATA_DIR`. */
  dataDir: string;
  /** `HUB_NODES`: the hubs' gRPC addresses, in priority order. */
  hubs: readonly string[];
  /** `REDIS_URL` (the embedded store without it). */
  redisUrl?: string;
  /** Variables beyond {@link PEER_TIMINGS} (timings, say). */
  env?: Record<string, string>;
}

/** Link timings that notice a stopped hub within about a second and retry quickly. */
export const PEER_TIMINGS: Readonly<Record<string, string>> = {
  HEARTBEAT_INTERVAL_SECONDS: "0.5",
  HEARTBEAT_TIMEOUT_SECONDS: "1",
  HEARTBEAT_MAX_MISSED: "2",
  HUB_RETRY_MAX_SECONDS: "1",
  HUB_CONNECT_TIMEOUT_SECONDS: "2",
};

/** A peer (`peer/main.ts`) with a hub link, on a free port, not started yet. */
export function peerProcess(options: PeerOptions): ServiceProcess {
  return new ServiceProcess({
    name: options.peerId,
    entry: PEER_ENTRY,
    env: {
      PEER_ID: options.peerId,
      DATA_DIR: options.dataDir,
      HUB_NODES: options.hubs.join(","),
      NETWORK_TOKEN,
      LOG_LEVEL: "info",
      ...PEER_TIMINGS,
      ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
      ...options.env,
    },
  });
}

/** Whether process `pid` exists and has not ended (a zombie counts as ended). */
export async function alive(pid: number): Promise<boolean> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** The processes whose parent is `pid` (from `/proc`). */
export async function childPids(pid: number): Promise<number[]> {
  const children: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = await Deno.readTextFile(`/proc/${entry.name}/stat`);
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (parent === pid) children.push(Number(entry.name));
    } catch { /* gone meanwhile */ }
  }
  return children;
}

/** Whether `pid` is a running hub-link process (`… --hub-link`), not another one reusing its id. */
export async function linkAlive(pid: number): Promise<boolean> {
  if (!(await alive(pid))) return false;
  try {
    return (await Deno.readTextFile(`/proc/${pid}/cmdline`)).split("\0").includes("--hub-link");
  } catch {
    return false;
  }
}

/**
 * Gives the link process `pid` 5 s to end by itself (its input closed), then
 * kills it; whether it ended by itself. Other processes are left alone.
 */
export async function killIfLeft(pid: number): Promise<boolean> {
  const deadline = Date.now() + 5000;
  while (await linkAlive(pid)) {
    if (Date.now() > deadline) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* gone meanwhile */ }
      return false;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

/** The log tails of `processes`, for a failure report. */
export function logTails(processes: Iterable<ServiceProcess>, lines = 60): string {
  return [...processes].map((process) => process.tail(lines)).join("\n");
}

/** Registers a process whose log a failing test prints; returns it. */
export type Watch = <T extends ServiceProcess>(process: T) => T;

/**
 * A test body that prints the log tails of the processes it watches when it
 * fails (after they were disposed: their logs stay readable).
 */
export function withLogs(body: (watch: Watch) => Promise<void>): () => Promise<void> {
  return async () => {
    const watched: ServiceProcess[] = [];
    try {
      await body((process) => {
        watched.push(process);
        return process;
      });
    } catch (error) {
      console.error(logTails(watched));
      throw error;
    }
  };
}
