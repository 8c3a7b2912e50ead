/**
 * Crash atomicity of a full sync on a real peer process: two sets of 10,000
 * local advertisements, A (registers 0 to 9,999 at version 1) and B
 * (registers 5,000 to 14,999 at version 2), pushed in turn as full syncs;
 * the peer is killed with SIGKILL at a different moment of each push (from
 * before it has read the request to after it has answered), started again on
 * the same store, and must serve all of the old set with the old full-sync
 * record, or all of the new set with the new record; never a mix.
 *
 * The kill moments are fractions of how long an unkilled push took on this
 * machine (measured first), so they fall before, during and after the
 * store's writes whatever the machine's speed; with a store that counts the
 * bytes it receives (Redis), more rounds kill the peer once the store has
 * received a fraction of the push's writes, so they fall inside the writes
 * themselves.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type ServiceProcess, startService } from "../fixtures/service_process.ts";

const PEER = "peer/main.ts";
const SIZE = 10_000;

/** One of the two sets pushed in turn. */
type SetName = "A" | "B";

/** Options of {@link assertFullSyncCrashAtomicity}. */
export interface FullSyncCrashOptions {
  /** The peer's store: `REDIS_URL`, or a `DATA_DIR` for the embedded store (kept across rounds). */
  env: Record<string, string>;
  /** How many pushes are killed at fractions of the push's time (default 12). */
  rounds?: number;
  /** Bytes the store has received so far; with it, {@link writeRounds} more rounds. */
  storeInputBytes?: () => Promise<number>;
  /** How many pushes are killed at fractions of the store's input (default 8). */
  writeRounds?: number;
}

/** What the killed rounds found after the restart. */
export interface CrashTally {
  /** Rounds that ended with the set pushed before the kill (the push was lost whole). */
  old: number;
  /** Rounds that ended with the set being pushed (the push was taken whole). */
  new: number;
}

/** The registers of a set: id and version. */
function members(name: SetName): Map<string, number> {
  const first = name === "A" ? 0 : SIZE / 2;
  const version = name === "A" ? 1 : 2;
  const out = new Map<string, number>();
  for (let n = first; n < first + SIZE; n++) out.set(n.toString(16).padStart(32, "0"), version);
  return out;
}

/** The JSON body of a full sync of a set. */
function bodyOf(name: SetName): string {
  return JSON.stringify({
    advertisements: [...members(name)].map(([registerId, latestVersion]) => ({
      registerId,
      isPublic: true,
      latestVersion,
    })),
    fullSync: true,
  });
}

function other(name: SetName): SetName {
  return name === "A" ? "B" : "A";
}

/** The last full sync's record as `GET /api/registers/sync-state` shows it. */
interface RecordView {
  at: string;
  counts: { processed: number; added: number; updated: number; removed: number };
}

/** Which set a peer serves (asserting it is exactly one of them) and its full-sync record. */
async function stateOf(peer: ServiceProcess): Promise<{ set: SetName; record: RecordView }> {
  const available = await (await fetch(`${peer.url}/api/registers/available`)).json() as {
    registerId: string;
    latestVersion: number;
  }[];
  const served = new Map(available.map((r) => [r.registerId, r.latestVersion]));
  const set: SetName = served.has((0).toString(16).padStart(32, "0")) ? "A" : "B";
  const expected = members(set);
  const strays = [...served].filter(([id, version]) => expected.get(id) !== version);
  assert.ok(
    served.size === expected.size && strays.length === 0,
    `the peer serves ${served.size} advertisements, a mix: ${strays.length} are not set ${set}'s ` +
      `(first: ${JSON.stringify(strays.slice(0, 3))})`,
  );
  const state = await (await fetch(`${peer.url}/api/registers/sync-state`)).json();
  assert.equal(state.localCount, SIZE, "local advertisements beside the set");
  assert.ok(state.lastFullSync, "no full-sync record");
  return { set, record: state.lastFullSync };
}

/** Sends a full sync; resolves with its status, or `undefined` when the peer died first. */
async function push(peer: ServiceProcess, body: string): Promise<number | undefined> {
  try {
    const res = await fetch(`${peer.url}/api/registers/bulk-advertise`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    await res.body?.cancel();
    return res.status;
  } catch {
    return undefined;
  }
}

/** When one round kills the peer: after some time, or once the store has received some bytes. */
type KillMoment = { afterMs: number } | { afterStoreBytes: number };

/**
 * Waits for a kill moment of a push; resolves early when the push is answered (or the peer
 * dies) first.
 */
async function reach(
  moment: KillMoment,
  { answered, storeInputBytes }: {
    answered: Promise<unknown>;
    storeInputBytes: (() => Promise<number>) | undefined;
  },
): Promise<void> {
  if ("afterMs" in moment) {
    // The kill moment itself: the variable of the experiment, not a wait for a condition.
    await new Promise((resolve) => setTimeout(resolve, moment.afterMs));
    return;
  }
  let settled = false;
  void answered.finally(() => settled = true);
  while (!settled && await storeInputBytes!() < moment.afterStoreBytes) {
    // Polled as fast as the store answers: the writes of a push take a few milliseconds.
  }
}

/**
 * Pushes A then B unkilled (timing the second, and counting the bytes the store received
 * during it), then kills the peer during each of `rounds` pushes of the other set, at moments
 * spread from 0 to 1.4 times that time, and, with `storeInputBytes`, during `writeRounds` more,
 * once the store has received 5% to 95% of those bytes; after each restart the peer must serve
 * one whole set with its own record.
 */
export async function assertFullSyncCrashAtomicity(
  options: FullSyncCrashOptions,
): Promise<CrashTally> {
  const rounds = options.rounds ?? 12;
  const bodies = { A: bodyOf("A"), B: bodyOf("B") };
  const tally: CrashTally = { old: 0, new: 0 };
  const input = options.storeInputBytes;
  let peer = await startService(PEER, { env: options.env });
  try {
    assert.equal(await push(peer, bodies.A), 200);
    const inputBefore = await input?.();
    const began = performance.now();
    assert.equal(await push(peer, bodies.B), 200);
    const pushMs = performance.now() - began;
    const writeBytes = input ? await input() - inputBefore! : 0;
    const moments: KillMoment[] = Array.from(
      { length: rounds },
      (_, i) => ({ afterMs: pushMs * 1.4 * i / (rounds - 1) }),
    );
    const writeRounds = input ? options.writeRounds ?? 8 : 0;
    for (let i = 0; i < writeRounds; i++) {
      const fraction = 0.05 + 0.9 * i / Math.max(1, writeRounds - 1);
      // Interleaved with the timed rounds, so both kinds meet either set.
      moments.splice(2 * i + 1, 0, { afterStoreBytes: fraction * writeBytes });
    }
    let current: SetName = "B";
    let record = (await stateOf(peer)).record;
    for (const moment of moments) {
      const next = other(current);
      const sentAt = Date.now();
      const storeBytesAtSend = input ? await input() : 0;
      const answered = push(peer, bodies[next]);
      await reach(
        "afterMs" in moment
          ? moment
          : { afterStoreBytes: storeBytesAtSend + moment.afterStoreBytes },
        { answered, storeInputBytes: input },
      );
      await peer.stop("SIGKILL");
      const status = await answered;
      peer = await startService(PEER, { env: options.env });
      const found = await stateOf(peer);
      const when = "afterMs" in moment
        ? `${moment.afterMs.toFixed(0)} ms`
        : `${(moment.afterStoreBytes / 1024).toFixed(0)} KiB of the store's writes`;
      const where = `killed ${when} into a push of ${next} (answered: ${status ?? "no"})`;
      if (found.set === next) {
        tally.new++;
        assert.ok(Date.parse(found.record.at) >= sentAt, `${where}: ${next} with the old record`);
        assert.deepEqual(
          found.record.counts,
          { processed: SIZE, added: SIZE / 2, updated: SIZE / 2, removed: SIZE / 2 },
          where,
        );
      } else {
        assert.equal(
          status,
          undefined,
          `${where}: the push was answered, yet ${current} is served`,
        );
        tally.old++;
        assert.deepEqual(found.record, record, `${where}: ${current} with another record`);
      }
      current = found.set;
      record = found.record;
    }
  } finally {
    await peer.stop("SIGKILL");
  }
  return tally;
}
