/**
 * One service of the demo network as a process of its own: started as its
 * `deno task` would start it (`deno run <permissions> <entry>`), on loopback,
 * counted as up once its `/readyz` answers 200; its log (standard output and
 * error) kept line by line; stopped with a signal.
 *
 * @module
 */

import { lines } from "../shared/lines.ts";

/** The permissions of `deno task register` and of the hub itself (`dev:hub`). */
export const SERVICE_PERMISSIONS: readonly string[] = [
  "--allow-net",
  "--allow-env",
  "--allow-read",
  "--allow-write",
  "--allow-sys",
];

/** The permissions of `deno task peer`: those of the others, and `--allow-run` for its hub link. */
export const PEER_PERMISSIONS: readonly string[] = [...SERVICE_PERMISSIONS, "--allow-run"];

/** How long a service stopped with SIGTERM may take before it is killed, in ms. */
const STOP_TIMEOUT_MS = 10_000;

/** What to start, and how. */
export interface ServiceProcessOptions {
  /** The service's name, for messages and `onLog`. */
  name: string;
  /** Its entry point, relative to `cwd` (`peer/main.ts`, ...). */
  entry: string;
  /** The permissions it runs with. */
  permissions: readonly string[];
  /** Where `deno run` runs (the repository). */
  cwd: string;
  /** Its HTTP port on 127.0.0.1. */
  port: number;
  /** Its data directory (created when missing). */
  dataDir: string;
  /** Its `LOG_LEVEL`. */
  logLevel: string;
  /** More environment variables. */
  env: Record<string, string>;
  /** Where its log lines go, as they come (kept across restarts by the caller). */
  logged: string[];
  /** Also called with each line it logs. */
  onLog?: (service: string, line: string) => void;
  /** How long it may take to be ready, in ms. */
  readyTimeoutMs: number;
}

/** A running service process. */
export interface ServiceProcess {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** Its process id. */
  readonly pid: number;
  /** Whether it has not exited yet. */
  running(): boolean;
  /**
   * Sends `signal` (default SIGTERM; killed after 10 s if it is still
   * running) and resolves once it exited and its output is read.
   */
  stop(signal?: "SIGTERM" | "SIGKILL"): Promise<void>;
}

/**
 * Starts a service and resolves once its `/readyz` answers 200; rejects,
 * with the last lines it logged, when it exits first or is not ready in
 * time (it is stopped then).
 */
export async function startServiceProcess(options: ServiceProcessOptions): Promise<ServiceProcess> {
  const { name, port, logged } = options;
  const url = `http://127.0.0.1:${port}`;
  await Deno.mkdir(options.dataDir, { recursive: true });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...options.permissions, options.entry],
    cwd: options.cwd,
    env: {
      HOST: "127.0.0.1",
      PORT: String(port),
      DATA_DIR: options.dataDir,
      LOG_LEVEL: options.logLevel,
      NO_COLOR: "1",
      ...options.env,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const keep = async (stream: ReadableStream<Uint8Array>) => {
    for await (const line of lines(stream)) {
      logged.push(line);
      options.onLog?.(name, line);
    }
  };
  const drained = Promise.all([keep(child.stdout), keep(child.stderr)]);
  let exited: Deno.CommandStatus | undefined;
  const status = child.status.then((s) => exited = s);
  const signal = (which: Deno.Signal) => {
    if (exited !== undefined) return;
    try {
      child.kill(which);
    } catch { /* already gone */ }
  };
  const stop = async (which: "SIGTERM" | "SIGKILL" = "SIGTERM") => {
    signal(which);
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (which === "SIGTERM") timer = setTimeout(() => signal("SIGKILL"), STOP_TIMEOUT_MS);
    try {
      await status;
    } finally {
      clearTimeout(timer);
    }
    await drained;
  };
  const last = () => logged.slice(-5).join(" | ");
  const deadline = Date.now() + options.readyTimeoutMs;
  for (;;) {
    if (exited !== undefined) {
      await stop();
      throw new Error(`${name} exited with ${exited.code} while starting: ${last()}`);
    }
    try {
      const response = await fetch(`${url}/readyz`);
      await response.body?.cancel();
      if (response.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `${name} was not ready at ${url}/readyz within ${options.readyTimeoutMs} ms: ${last()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { url, pid: child.pid, running: () => exited === undefined, stop };
}
