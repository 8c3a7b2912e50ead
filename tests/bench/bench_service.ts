/**
 * A service (`hub/main.ts`, `peer/main.ts`) as a process of its own for the
 * hub-link benchmarks, with what `tests/fixtures/service_process.ts` does not
 * give: its process id (to read its CPU time in `/proc`) and signals that do
 * not wait for an exit (SIGSTOP and SIGCONT, to hang a hub with its sockets
 * open). Its standard error is kept (the last 64 KiB) for failure messages;
 * disposing it stops it whatever state it is in (a stopped process is
 * continued first, and killed if it does not exit in time), and an
 * interrupted benchmark (SIGINT, SIGTERM) kills the services still running
 * before it exits.
 *
 * @module
 */
import { settlesWithin } from "../../shared/async.ts";
import { freePort } from "../fixtures/ports.ts";

/** Options of {@link spawnService}. */
export interface SpawnServiceOptions {
  /** Environment variables beyond `HOST`, `PORT`, `NO_COLOR`, `LOG_LEVEL` (warning). */
  env: Record<string, string>;
  /** Path polled until it answers 200 (default `/readyz`). */
  readyPath?: string;
  /** How long it may take to serve, in ms (default 60 000). */
  timeoutMs?: number;
}

/** A running service process. */
export interface BenchService extends AsyncDisposable {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** The process id (the service itself: `deno run` runs it in its own process). */
  readonly pid: number;
  /** Whether it has exited. */
  readonly exited: boolean;
  /** Sends `signal` without waiting for anything. */
  signal(signal: Deno.Signal): void;
  /** Stops it (SIGCONT, then SIGTERM; SIGKILL after 10 s); resolves with its exit code. */
  stop(): Promise<number>;
  /** The last lines of its standard error. */
  stderrTail(lines?: number): string;
}

const STDERR_KEPT_CHARS = 64 * 1024;
const STOP_TIMEOUT_MS = 10_000;
const POLL_MS = 25;

/** The services running, killed if the benchmark is interrupted. */
const running = new Set<Deno.ChildProcess>();
const INTERRUPTS = ["SIGINT", "SIGTERM"] as const;

function interrupted(): void {
  for (const child of running) {
    try {
      child.kill("SIGKILL");
    } catch { /* gone meanwhile */ }
  }
  Deno.exit(130);
}

/** Tracks `child` until it exits; the interrupt handler is installed only while one runs. */
function track(child: Deno.ChildProcess, status: Promise<unknown>): void {
  if (running.size === 0) {
    for (const signal of INTERRUPTS) Deno.addSignalListener(signal, interrupted);
  }
  running.add(child);
  void status.finally(() => {
    running.delete(child);
    if (running.size === 0) {
      for (const signal of INTERRUPTS) Deno.removeSignalListener(signal, interrupted);
    }
  });
}

/** Starts `deno run -A <entry>` on a free loopback port and resolves once it serves. */
export async function spawnService(
  entry: string,
  options: SpawnServiceOptions,
): Promise<BenchService> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", entry],
    env: {
      HOST: "127.0.0.1",
      NO_COLOR: "1",
      LOG_LEVEL: "warning",
      ...options.env,
      PORT: `${port}`,
    },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const drained = (async () => {
    for await (const text of child.stderr.pipeThrough(new TextDecoderStream())) {
      stderr = (stderr + text).slice(-STDERR_KEPT_CHARS);
    }
  })().catch(() => {});
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  track(child, status);
  const send = (signal: Deno.Signal) => {
    if (exited) return;
    try {
      child.kill(signal);
    } catch { /* gone meanwhile */ }
  };
  const stop = async () => {
    send("SIGCONT");
    send("SIGTERM");
    if (!await settlesWithin(status, STOP_TIMEOUT_MS)) send("SIGKILL");
    const { code } = await status;
    await drained;
    return code;
  };
  const url = `http://127.0.0.1:${port}`;
  const service: BenchService = {
    url,
    pid: child.pid,
    get exited() {
      return exited;
    },
    signal: send,
    stop,
    stderrTail: (lines = 8) => stderr.trim().split("\n").slice(-lines).join("\n"),
    async [Symbol.asyncDispose]() {
      await stop();
    },
  };
  const deadline = performance.now() + (options.timeoutMs ?? 60_000);
  const path = options.readyPath ?? "/readyz";
  while (true) {
    if (exited) {
      await stop();
      throw new Error(`${entry} exited before serving:\n${service.stderrTail()}`);
    }
    try {
      const response = await fetch(url + path);
      await response.body?.cancel();
      if (response.ok) return service;
    } catch { /* not listening yet */ }
    if (performance.now() > deadline) {
      await stop();
      throw new Error(`${entry} did not answer ${path} in time:\n${service.stderrTail()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
