/**
 * Crash atomicity of a replica store: runs the writer process
 * (`replica_crash_writer.ts`) again and again, kills it with SIGKILL after a
 * different number of its lines each time (so at different moments of its
 * replacements and changes), and after each kill opens the store and checks
 * it holds a checkpoint and exactly the entries it describes: one of the
 * states the writer committed, and the last one it reported or the next.
 *
 * @module
 */
import assert from "node:assert/strict";
import { digestOf } from "../../shared/contracts/active_set_digest.ts";
import type { ReplicaStore } from "../../peer/replica/types.ts";
import { type CrashState, crashStates } from "./replica_crash_writer.ts";
import { byVersion, indexOf } from "./replica_samples.ts";

const WRITER = new URL("./replica_crash_writer.ts", import.meta.url).pathname;

/**
 * After how many lines (past `ready`) each round kills the writer: from at once to about 140
 * lines (some 7 cycles of its 20 lines), each landing at a different point of the cycle.
 */
export const KILL_AFTER_LINES: readonly number[] = Array.from(
  { length: 16 },
  (_, i) => i * 9 + (i * i) % 7,
);

/** Options of {@link assertCrashAtomicity}. */
export interface CrashOptions {
  /** The writer's arguments: `["sqlite", path]` or `["redis", url]`. */
  writerArgs: string[];
  /** Opens the store the writer writes (the check closes it). */
  open: () => Promise<ReplicaStore>;
}

/** What a killed writer reported. */
interface Round {
  /** The last state it reported committed, if any. */
  lastState: string | undefined;
  /** Lines it wrote past `ready`. */
  lines: number;
}

/**
 * Kills the writer once after each of {@link KILL_AFTER_LINES} lines, checking the store after
 * each kill (the next writer starts meanwhile, and writes once the check is done).
 */
export async function assertCrashAtomicity(options: CrashOptions): Promise<void> {
  const states = crashStates();
  const names = states.map((state) => state.name);
  const next = (name: string): string => names[(names.indexOf(name) + 1) % names.length]!;
  let found = "empty";
  let writer = new WriterProcess(options.writerArgs);
  try {
    for (const [i, killAfter] of KILL_AFTER_LINES.entries()) {
      await writer.go();
      const round = await writer.killAfter(killAfter);
      await writer[Symbol.asyncDispose]();
      if (i + 1 < KILL_AFTER_LINES.length) writer = new WriterProcess(options.writerArgs);
      // Each run starts by replacing the replica with the first state.
      const allowed = round.lastState === undefined
        ? [found, names[0]!]
        : [round.lastState, next(round.lastState)];
      const store = await options.open();
      try {
        found = await stateOf(store, states);
      } finally {
        await store.close();
      }
      assert.ok(
        allowed.includes(found),
        `killed after ${round.lines} lines (last reported: ${round.lastState}): ` +
          `the store holds ${found}, expected one of ${allowed.join(", ")}`,
      );
    }
  } finally {
    await writer[Symbol.asyncDispose]();
  }
}

/** Checks the store is whole and returns which state it holds (`empty` before any commit). */
async function stateOf(store: ReplicaStore, states: CrashState[]): Promise<string> {
  const checkpoint = await store.checkpoint();
  const index = await store.index();
  const entries = await store.list({ afterVersion: 0, limit: 10_000 });
  assert.deepEqual(indexOf(entries), index, "list and index disagree");
  if (checkpoint === undefined) {
    assert.equal(index.length, 0, "entries without a checkpoint");
    return "empty";
  }
  assert.equal(checkpoint.blueprints, index.length, "the checkpoint's count is not the entries'");
  assert.equal(digestOf(index), checkpoint.digest, "the checkpoint's digest is not the entries'");
  for (const entry of index) {
    assert.ok(entry.version <= checkpoint.version, `${entry.blueprintId} is above the checkpoint`);
  }
  const state = states.find((candidate) => candidate.checkpoint.digest === checkpoint.digest);
  assert.ok(state, "the entries are none of the states the writer commits");
  assert.deepEqual(checkpoint, state.checkpoint);
  assert.deepEqual(entries, byVersion(state.entries));
  return state.name;
}

/** One writer process: started at once, writing from {@link WriterProcess.go}. */
class WriterProcess implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  readonly #lines: AsyncGenerator<string>;
  readonly #stderr: Promise<string>;
  #killed = false;
  #status: Promise<Deno.CommandStatus> | undefined;

  constructor(writerArgs: string[]) {
    this.#child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", WRITER, ...writerArgs],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#stderr = new Response(this.#child.stderr).text();
    this.#lines = linesOf(this.#child.stdout);
  }

  /** Waits for `ready` (the store is open), then lets the writer write. */
  async go(): Promise<void> {
    const first = await this.#lines.next();
    if (first.value !== "ready") {
      throw new Error(`the writer did not start: ${first.value ?? ""} ${await this.#stop()}`);
    }
    const stdin = this.#child.stdin.getWriter();
    await stdin.write(new TextEncoder().encode("go\n"));
    await stdin.close();
  }

  /** Kills the writer once it has written `lines` lines; what it reported, all lines read. */
  async killAfter(lines: number): Promise<Round> {
    const round: Round = { lastState: undefined, lines: 0 };
    if (lines === 0) this.#kill();
    // Lines that arrive after the kill still count: they report what happened before it.
    for await (const line of this.#lines) {
      round.lines++;
      if (line.startsWith("state ")) round.lastState = line.slice("state ".length);
      if (round.lines >= lines) this.#kill();
    }
    const errors = await this.#stop();
    assert.ok(this.#killed, `the writer stopped by itself: ${errors}`);
    assert.equal((await this.#child.status).signal, "SIGKILL", errors);
    return round;
  }

  /** Kills the writer unless it has exited, and waits for it. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#stop();
  }

  #kill(): void {
    if (this.#killed) return;
    this.#killed = true;
    this.#child.kill("SIGKILL");
  }

  /** Kills the writer (unless it has exited), drains its output; its standard error. */
  #stop(): Promise<string> {
    this.#status ??= (async () => {
      const exited = await Promise.race([
        this.#child.status.then(() => true),
        Promise.resolve(false),
      ]);
      if (!exited) this.#kill();
      for await (const _ of this.#lines) {
        // Drained, so the pipe closes.
      }
      return await this.#child.status;
    })();
    return this.#status.then(() => this.#stderr);
  }
}

/** The lines of a stream, as they arrive. */
async function* linesOf(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let pending = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    pending += chunk;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    yield* lines;
  }
  if (pending) yield pending;
}
