/**
 * The writer process of the replica crash tests, and the states it writes.
 * It loops forever: replace the whole replica with set A (blueprints 0-1,999
 * at generation 1), apply a small change (A+), replace it with set B
 * (blueprints 1,000-2,999 at generation 2), apply a small change (B+), and
 * again. It prints `ready` once the store is open, `add {state}` after each
 * part of a replacement and `state {state}` after each commit, so a test
 * can kill it (SIGKILL) at many different moments and check what it left.
 * It starts writing when it reads `go` on its standard input (so a test can
 * start the next writer while it checks what the last one left).
 *
 * Usage: `deno run -A tests/peer/replica_crash_writer.ts sqlite {path}` or
 * `... redis {url}`.
 *
 * @module
 */
import type {
  ReplicaChange,
  ReplicaCheckpoint,
  ReplicaEntry,
  ReplicaStore,
} from "../../peer/replica/types.ts";
import {
  binaryDocument,
  checkpointOf,
  sampleEntry,
  withDocument,
  withheld,
} from "./replica_samples.ts";

/** One state the writer commits. */
export interface CrashState {
  /** `A`, `A+`, `B` or `B+`. */
  name: string;
  /** Its entries. */
  entries: ReplicaEntry[];
  /** Its checkpoint. */
  checkpoint: ReplicaCheckpoint;
}

/** Entries of a replacement part. */
export const PART_SIZE = 250;

/** Blueprints `from` to `to - 1`, at `generation`; every 50th document withheld. */
function generation(n: number, range: { from: number; to: number }): ReplicaEntry[] {
  const entries: ReplicaEntry[] = [];
  for (let id = range.from; id < range.to; id++) {
    const entry = withDocument(
      sampleEntry(id, { version: n * 10_000 + id }),
      binaryDocument(256, id + n * 7),
    );
    entries.push(id % 50 === 0 ? withheld(entry) : entry);
  }
  return entries;
}

/** `entries` with blueprints `changed` at `generation` and blueprints `removed` taken out. */
function changed(
  entries: ReplicaEntry[],
  change: { generation: number; changed: number[]; removed: number[] },
): ReplicaEntry[] {
  const byId = new Map(entries.map((entry) => [entry.blueprintId, entry]));
  for (const id of change.changed) {
    byId.set(
      `bp-${id}`,
      withDocument(
        sampleEntry(id, { version: change.generation * 10_000 + id }),
        binaryDocument(128, id),
      ),
    );
  }
  for (const id of change.removed) byId.delete(`bp-${id}`);
  return [...byId.values()];
}

/** The four states, in the order the writer commits them (then again from the first). */
export function crashStates(): CrashState[] {
  const a = generation(1, { from: 0, to: 2_000 });
  const aPlus = changed(a, { generation: 2, changed: [0, 1, 2, 3, 4], removed: [10, 11, 12] });
  const b = generation(3, { from: 1_000, to: 3_000 });
  const bPlus = changed(b, {
    generation: 4,
    changed: [1_000, 1_001, 1_002],
    removed: [1_010, 1_011],
  });
  return [["A", a], ["A+", aPlus], ["B", b], ["B+", bPlus]].map(([name, entries]) => ({
    name: name as string,
    entries: entries as ReplicaEntry[],
    checkpoint: checkpointOf(entries as ReplicaEntry[], {
      lastSyncKind: (name as string).endsWith("+") ? "incremental" : "full",
    }),
  }));
}

/** The change taking the replica from `from` to `to`. */
export function changeBetween(from: CrashState, to: CrashState): ReplicaChange {
  const before = new Map(from.entries.map((entry) => [entry.blueprintId, entry]));
  const after = new Set(to.entries.map((entry) => entry.blueprintId));
  return {
    upsert: to.entries.filter((entry) => before.get(entry.blueprintId) !== entry),
    remove: [...before.keys()].filter((id) => !after.has(id)),
    checkpoint: to.checkpoint,
  };
}

const encoder = new TextEncoder();

/** Writes a line at once (the test reads it as soon as the step it reports is done). */
function say(line: string): void {
  Deno.stdout.writeSync(encoder.encode(`${line}\n`));
}

async function run(store: ReplicaStore, states: CrashState[]): Promise<never> {
  for (;;) {
    for (const [i, state] of states.entries()) {
      const previous = states[i - 1];
      if (previous && state.name.endsWith("+")) {
        await store.apply(changeBetween(previous, state));
      } else {
        await using replacement = await store.replace();
        for (let at = 0; at < state.entries.length; at += PART_SIZE) {
          await replacement.add(state.entries.slice(at, at + PART_SIZE));
          say(`add ${state.name}`);
        }
        await replacement.commit(state.checkpoint);
      }
      say(`state ${state.name}`);
    }
  }
}

/**
 * Opens the store the arguments name (waiting for Redis's connection). Imported on demand, so
 * that a SQLite writer starts without loading the Redis client.
 */
async function openStore(
  kind: string | undefined,
  location: string | undefined,
): Promise<ReplicaStore> {
  if (kind === "sqlite" && location) {
    const { openSqliteReplicaStore } = await import("../../peer/replica/sqlite_store.ts");
    return openSqliteReplicaStore(location);
  }
  if (kind === "redis" && location) {
    const { openRedisReplicaStore } = await import("../../peer/replica/redis_store.ts");
    const store = openRedisReplicaStore(location);
    if (!(await store.ready(5_000))) throw new Error(`Redis at ${location} is not reachable`);
    return store;
  }
  throw new Error("usage: replica_crash_writer.ts sqlite <path> | redis <url>");
}

/** Waits for a line on standard input. */
async function waitForGo(): Promise<void> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of Deno.stdin.readable) {
    text += decoder.decode(chunk, { stream: true });
    if (text.includes("\n")) return;
  }
  throw new Error("standard input closed before `go`");
}

if (import.meta.main) {
  const states = crashStates();
  const store = await openStore(Deno.args[0], Deno.args[1]);
  say("ready");
  await waitForGo();
  await run(store, states);
}
