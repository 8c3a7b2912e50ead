/**
 * The hub link in a process of its own, seen from the peer's HTTP process.
 *
 * Why a process: Deno 2.9.6's `node:http2`, under grpc-js, can abort the
 * whole process from native code (a client session that idled and then
 * receives a GOAWAY, denoland/deno#36788), where no JavaScript can catch it.
 * A hub restarting gracefully must not take the peer's advertisements,
 * gossip and HTTP API down with it. So the link runs as a child process
 * (`main.ts --hub-link`), supervised (`shared/supervise.ts`): whatever ends
 * it, it is started again after a backoff (1 s doubling to 30 s, reset after
 * a minute) and resumes from the replica's checkpoint. Meanwhile the peer
 * serves the replica from the store and reports the link as `Disconnected`.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import { fileURLToPath } from "node:url";
import { deadline } from "../../shared/deadline.ts";
import { AppError, errorMessage } from "../../shared/errors.ts";
import { createSystemScheduler, type Scheduler } from "../../shared/schedule.ts";
import { lines } from "../../shared/lines.ts";
import { traceHeaders } from "../../shared/telemetry/mod.ts";
import {
  type ChildCommand,
  supervise,
  type SupervisedChild,
  type SuperviseOptions,
} from "../../shared/supervise.ts";
import { decodeLine, encodeLine, type LinkMessage } from "./ipc.ts";
import type { HubLinkStatus, SyncResult } from "./status.ts";

/** The permissions the link process runs with (those of `deno task peer`). */
const LINK_PERMISSIONS = [
  "--allow-net",
  "--allow-env",
  "--allow-read",
  "--allow-write",
  "--allow-sys",
];

/** The argument that makes the peer's entry point run the hub link. */
export const HUB_LINK_ARGUMENT = "--hub-link";

/** How long a sync request may take before the API answers that it still runs, in ms. */
export const SYNC_REPLY_TIMEOUT_MS = 60_000;

/** How long the link process may take to send its metrics before `/metrics` goes without them, in ms. */
export const METRICS_REPLY_TIMEOUT_MS = 1000;

/** How long a stopping link process may take before it is killed, in ms. */
const STOP_TIMEOUT_MS = 5000;

/**
 * V8's heap sized for the link's bursts: a full sync of ten thousand entries allocates tens of
 * megabytes in a few hundred milliseconds, most of it garbage soon. With V8's defaults (a young
 * generation that starts small, and a first mark-compact soon after what start-up
 * leaves) the link's thread spent some 60 ms of such a sync collecting (six scavenges copying
 * the entries still waiting to be written, and a mark-compact); with a young generation of
 * 16 MB a half and a first mark-compact at 96 MB, some 10 ms (three scavenges). The cost: some
 * 20 to 35 MB more resident memory for the link process after such a sync (185 and 220 MB with
 * Redis and SQLite, from 165 and 188 MB).
 */
export const LINK_V8_FLAGS = ["--min-semi-space-size=16", "--initial-old-space-size=96"];

/** The command that runs the link: the peer's entry point `entry` with {@link HUB_LINK_ARGUMENT}. */
export function linkCommand(entry: string | URL): ChildCommand {
  if (Deno.build.standalone) {
    // A compiled binary takes V8's flags from the environment only.
    return {
      command: Deno.execPath(),
      args: [HUB_LINK_ARGUMENT],
      env: { DENO_V8_FLAGS: LINK_V8_FLAGS.join(",") },
    };
  }
  return {
    command: Deno.execPath(),
    args: [
      "run",
      `--v8-flags=${LINK_V8_FLAGS.join(",")}`,
      ...LINK_PERMISSIONS,
      "--config",
      fileURLToPath(new URL("../deno.json", entry)),
      fileURLToPath(entry),
      HUB_LINK_ARGUMENT,
    ],
  };
}

/** The link process as operators see it. */
export interface LinkProcessView {
  /** `starting`, `running`, `restarting` (after it ended) or `stopped`. */
  state: "starting" | "running" | "restarting" | "stopped";
  /** Its process id while it runs. */
  pid: number | null;
  /** Restarts so far. */
  restarts: number;
  /** How it last ended. */
  lastExit: string | null;
  /** When it last ended. */
  lastExitAt: number | null;
}

/** A running link process, with its pipes. */
interface LinkChild extends SupervisedChild {
  pid: number;
  stdin: WritableStream<Uint8Array>;
  stdout: ReadableStream<Uint8Array>;
}

/** Options of {@link HubLinkProcess}. */
export interface HubLinkProcessOptions {
  /** What to run (see {@link linkCommand}). */
  command: ChildCommand;
  /** Where restarts are logged. */
  logger: Logger;
  /** Time, for the view (default `Date.now`). */
  now?: () => number;
  /** Passed to {@link supervise} (tests: backoff, waits). */
  supervise?: Pick<SuperviseOptions, "backoff" | "wait" | "stableAfterMs">;
  /** Times the sync replies and the stop (default: the system scheduler). */
  scheduler?: Scheduler;
}

/** See the module documentation. */
export class HubLinkProcess {
  readonly #options: HubLinkProcessOptions;
  readonly #scheduler: Scheduler;
  readonly #stop = new AbortController();
  readonly #pending = new Map<number, PromiseWithResolvers<SyncResult>>();
  /** Requests for the link's metrics, answered with their text ("" when unanswered). */
  readonly #metricsPending = new Map<number, (text: string) => void>();
  #status: HubLinkStatus | undefined;
  /** Whether the running child has reported (until then its predecessor's status is stale). */
  #reported = false;
  #child: LinkChild | undefined;
  #writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #view: LinkProcessView = {
    state: "starting",
    pid: null,
    restarts: 0,
    lastExit: null,
    lastExitAt: null,
  };
  #nextId = 1;
  #supervising: Promise<number> | undefined;

  /** A supervisor that starts nothing until {@link HubLinkProcess.start}. */
  constructor(options: HubLinkProcessOptions) {
    this.#options = options;
    this.#scheduler = options.scheduler ?? createSystemScheduler({ timersOnly: true });
  }

  /** Starts the link process, and keeps it running. */
  start(): void {
    this.#supervising ??= supervise(this.#options.command, {
      service: "hub link",
      spawn: () => this.#spawn(),
      stop: this.#stop.signal,
      restartOn: () => true,
      log: (line) => this.#options.logger.warning(line),
      ...this.#options.supervise,
    }).catch((error) => {
      // It cannot even be started (a missing permission, say): the peer goes on without it.
      const message = errorMessage(error);
      this.#options.logger.error("Cannot start the hub link process: {error}", { error: message });
      this.#view = { ...this.#view, state: "stopped", lastExit: `cannot start: ${message}` };
      return 1;
    });
  }

  /** The link's last status; while its process is not running, `Disconnected` with no session. */
  status(): HubLinkStatus | undefined {
    const status = this.#status;
    if (!status || (this.#view.state === "running" && this.#reported)) return status;
    return { ...status, state: "Disconnected", session: null };
  }

  /** The process, as operators see it. */
  process(): LinkProcessView {
    return { ...this.#view };
  }

  /** Asks the link to sync; rejects `unavailable` while its process is not running. */
  sync(options: { full: boolean }): Promise<SyncResult> {
    const writer = this.#writer;
    if (!writer || this.#view.state !== "running") {
      return Promise.reject(
        new AppError(
          "unavailable",
          `Cannot sync the system register: the hub link process is ${this.#view.state}${
            this.#view.lastExit ? ` (it ended: ${this.#view.lastExit})` : ""
          }`,
        ),
      );
    }
    const id = this.#nextId++;
    const reply = Promise.withResolvers<SyncResult>();
    this.#pending.set(id, reply);
    const time = deadline(this.#scheduler, SYNC_REPLY_TIMEOUT_MS, {
      what: "The sync still runs; follow it in GET /api/sync/checkpoint",
    });
    time.signal.addEventListener("abort", () => {
      this.#pending.delete(id);
      reply.reject(time.signal.reason);
    }, { once: true });
    const { traceparent } = traceHeaders();
    void writer.write(encodeLine({ type: "sync", id, full: options.full, traceparent }))
      .catch(() => {});
    return reply.promise.finally(() => time[Symbol.dispose]());
  }

  /**
   * The link process's metrics in the Prometheus text format, for the
   * peer's `/metrics`; "" while no process runs, or when it does not answer
   * within {@link METRICS_REPLY_TIMEOUT_MS}.
   */
  metrics(): Promise<string> {
    const writer = this.#writer;
    if (!writer || this.#view.state !== "running") return Promise.resolve("");
    const id = this.#nextId++;
    const reply = Promise.withResolvers<string>();
    this.#metricsPending.set(id, reply.resolve);
    const time = deadline(this.#scheduler, METRICS_REPLY_TIMEOUT_MS, {
      what: "The hub link process's metrics",
    });
    time.signal.addEventListener("abort", () => {
      this.#metricsPending.delete(id);
      reply.resolve("");
    }, { once: true });
    void writer.write(encodeLine({ type: "metrics", id })).catch(() => {});
    return reply.promise.finally(() => time[Symbol.dispose]());
  }

  /** Stops the link process (it tells its hub) and the supervision. */
  async close(): Promise<void> {
    if (this.#stop.signal.aborted) return;
    this.#stop.abort();
    await this.#writer?.close().catch(() => {});
    const child = this.#child;
    const stopped = new AbortController();
    void this.#scheduler.sleep(STOP_TIMEOUT_MS, stopped.signal).then(() => {
      if (stopped.signal.aborted) return;
      try {
        child?.kill("SIGKILL");
      } catch {
        // Gone already.
      }
    });
    await this.#supervising;
    stopped.abort();
    this.#view.state = "stopped";
  }

  #spawn(): LinkChild {
    const { command, args, env } = this.#options.command;
    const process = new Deno.Command(command, {
      args,
      ...(env ? { env } : {}),
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const child: LinkChild = {
      pid: process.pid,
      stdin: process.stdin,
      stdout: process.stdout,
      status: process.status,
      kill: (signal) => process.kill(signal),
    };
    if (this.#view.lastExit !== null) this.#view.restarts++;
    this.#child = child;
    this.#reported = false;
    this.#writer = child.stdin.getWriter();
    this.#view = { ...this.#view, state: "running", pid: child.pid };
    void this.#read(child);
    void child.status.then((status) => this.#ended(child, status));
    return child;
  }

  async #read(child: LinkChild): Promise<void> {
    try {
      for await (const line of lines(child.stdout)) {
        const message = decodeLine<LinkMessage>(line, ["status", "result", "metrics"]);
        if (!message || child !== this.#child) continue;
        if (message.type === "status") {
          this.#status = message.status;
          this.#reported = true;
        } else if (message.type === "metrics") {
          this.#metricsPending.get(message.id)?.(message.text);
          this.#metricsPending.delete(message.id);
        } else {
          const reply = this.#pending.get(message.id);
          this.#pending.delete(message.id);
          if (message.ok) reply?.resolve(message.result);
          else reply?.reject(new AppError(message.error.code, message.error.message));
        }
      }
    } catch {
      // The pipe broke: the process is ending.
    }
  }

  #ended(child: LinkChild, status: Deno.CommandStatus): void {
    if (child !== this.#child) return;
    const how = status.signal !== null ? `killed by ${status.signal}` : `exit code ${status.code}`;
    this.#writer = undefined;
    this.#view = {
      ...this.#view,
      state: this.#stop.signal.aborted ? "stopped" : "restarting",
      pid: null,
      lastExit: how,
      lastExitAt: (this.#options.now ?? Date.now)(),
    };
    for (const reply of this.#pending.values()) {
      reply.reject(
        new AppError("unavailable", `The hub link process ended (${how}) during the sync`),
      );
    }
    this.#pending.clear();
    for (const reply of this.#metricsPending.values()) reply("");
    this.#metricsPending.clear();
  }
}
