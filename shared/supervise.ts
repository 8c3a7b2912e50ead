/**
 * Keeping a service process running: the service runs as a child process,
 * and when the runtime itself crashes (the child is killed by a signal such
 * as SIGABRT or SIGSEGV, or by the kernel's out-of-memory killer) it is
 * started again after a backoff (1 s doubling to 30 s, back to 1 s once a
 * child ran for a minute). An exit with a code is the service's own decision
 * and ends the supervision with that code: 0 after a stop, 1 for a bad
 * configuration or a failed start, which a restart would only repeat. A stop
 * request (SIGINT or SIGTERM to the supervisor) is passed on to the child,
 * and the supervisor exits with the child's code once it has shut down. A
 * supervisor that is killed outright takes its child with it: the child's
 * standard input is a pipe from the supervisor, and a child started with
 * `--supervised` stops once that pipe closes ({@link untilStdinCloses}).
 *
 * Why: Deno 2.9.6's node:http2 can abort the whole process when many
 * clients reset their streams and then close their connections (see the
 * README's known issues); a hub must come back by itself.
 *
 * @module
 */
import { type Backoff, createBackoff } from "./backoff.ts";

/** A running child, as {@link supervise} sees it. */
export interface SupervisedChild {
  /** Resolves once the child has exited. */
  readonly status: Promise<Deno.CommandStatus>;
  /** Sends the child a signal. */
  kill(signal: Deno.Signal): void;
}

/** Options of {@link supervise}. */
export interface SuperviseOptions {
  /** The service's name, in the log lines. */
  service: string;
  /** Starts the child (default: `command` with `args`, standard streams inherited). */
  spawn?: () => SupervisedChild;
  /** Aborting it stops the child (SIGTERM) and ends the supervision with the child's code. */
  stop?: AbortSignal;
  /** Delays between restarts (default 1 s doubling to 30 s, ±20% jitter). */
  backoff?: () => Backoff;
  /** A child that ran this long before crashing restarts the backoff (ms, default 60 000). */
  stableAfterMs?: number;
  /** Waits `ms`, or less once `signal` aborts (default: a timer). */
  wait?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Time in ms (default `performance.now`). */
  now?: () => number;
  /** Where the supervisor's lines go (default standard error). */
  log?: (line: string) => void;
  /**
   * Whether an end calls for a restart (default {@link isCrash}: killed by
   * a signal). A helper process that must always run restarts after any end.
   */
  restartOn?: (status: Deno.CommandStatus) => boolean;
}

/** The command a supervisor starts: an executable and its arguments. */
export interface ChildCommand {
  /** The executable (such as `Deno.execPath()`). */
  command: string;
  /** Its arguments. */
  args: string[];
  /** Variables set for it beside those it inherits. */
  env?: Record<string, string>;
}

/** Whether a child's end is a crash to restart after: killed by a signal it was not sent. */
export function isCrash(status: Deno.CommandStatus): boolean {
  return status.signal !== null;
}

function describe(status: Deno.CommandStatus): string {
  return status.signal !== null ? `killed by ${status.signal}` : `exit code ${status.code}`;
}

function defaultWait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}

function spawnCommand(child: ChildCommand): SupervisedChild {
  const process = new Deno.Command(child.command, {
    args: child.args,
    ...(child.env ? { env: child.env } : {}),
    // Never written: it closes when the supervisor exits, however it exits (see untilStdinCloses).
    stdin: "piped",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  return { status: process.status, kill: (signal) => process.kill(signal) };
}

/**
 * Resolves once standard input reaches its end: for a supervised child, once
 * its supervisor has exited (the supervisor holds the other end of the pipe
 * and never writes to it), even when it was killed with SIGKILL and could
 * not pass a stop on. The child then stops as on SIGTERM rather than run on
 * unsupervised.
 */
export async function untilStdinCloses(): Promise<string> {
  try {
    for await (const _chunk of Deno.stdin.readable) {
      // Nothing is written; anything that is, is ignored.
    }
  } catch {
    // Standard input failed: the supervisor is gone all the same.
  }
  return "the end of its supervisor";
}

/**
 * Runs `child` until it exits with a code, restarting it after each crash
 * (see the module documentation); resolves with the code to exit with.
 */
export async function supervise(child: ChildCommand, options: SuperviseOptions): Promise<number> {
  const {
    service,
    spawn = () => spawnCommand(child),
    stop = new AbortController().signal,
    backoff: firstBackoff = () => createBackoff({ initialMs: 1000, maxMs: 30_000 }),
    stableAfterMs = 60_000,
    wait = defaultWait,
    now = () => performance.now(),
    log = (line: string) => console.error(line),
    restartOn = isCrash,
  } = options;
  let backoff = firstBackoff();
  while (!stop.aborted) {
    const startedAt = now();
    const running = spawn();
    const forward = () => {
      try {
        running.kill("SIGTERM");
      } catch {
        // It has exited already.
      }
    };
    stop.addEventListener("abort", forward, { once: true });
    const status = await running.status;
    stop.removeEventListener("abort", forward);
    if (stop.aborted || !restartOn(status)) return status.code;
    if (now() - startedAt >= stableAfterMs) backoff = firstBackoff();
    const delayMs = Math.round(backoff.delayMs);
    log(`${service} ${describe(status)}; starting it again in ${delayMs} ms`);
    await wait(delayMs, stop);
    backoff = backoff.next();
  }
  return 0;
}

/**
 * {@link supervise} for a service's entry point: SIGINT and SIGTERM stop
 * the child; exits the process with the child's code.
 */
export async function superviseUntilSignal(
  child: ChildCommand,
  options: SuperviseOptions,
): Promise<never> {
  const stop = new AbortController();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const onSignal = () => stop.abort();
  for (const signal of signals) Deno.addSignalListener(signal, onSignal);
  const code = await supervise(child, { ...options, stop: stop.signal });
  for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
  Deno.exit(code);
}
