/**
 * Full syncs of any size, and full syncs the peer refuses: a set over the
 * peer's 100,000 items per request goes in parts committed as one; a refusal
 * is reported and logged once, not retried forever, and sent again at the
 * next reconciliation or once a register changes.
 */
import assert from "node:assert/strict";
import { MAX_BULK_ITEMS } from "../../shared/contracts/advertisements.ts";
import type { Register } from "../../register/store/types.ts";
import { createTestNetwork, recordingLogger } from "./helpers.ts";

const T0 = new Date(Date.UTC(2026, 0, 1)).toISOString();
const BULK = "/api/registers/bulk-advertise";

function register(n: number, fields: Partial<Register> = {}): Register {
  return {
    id: n.toString(16).padStart(32, "0"),
    name: `register ${n}`,
    advertise: true,
    isPublic: true,
    latestVersion: n,
    latestDocketVersion: 0,
    createdAt: T0,
    updatedAt: T0,
    ...fields,
  };
}

/** A peer answer refusing every full sync, as a peer refusing a field it does not know would. */
function refusingFullSyncs(request: Request): Response | undefined {
  if (!new URL(request.url).pathname.endsWith("/bulk-advertise")) return undefined;
  return Response.json(
    { error: { code: "invalid_argument", message: "Cannot bulk-advertise registers: no" } },
    { status: 400 },
  );
}

Deno.test("more registers than the peer takes in one request reach it in parts, and the peer ends with exactly them", async () => {
  await using net = await createTestNetwork({ noStart: true });
  const count = MAX_BULK_ITEMS + 1;
  for (let n = 1; n <= count; n++) await net.store.insert(register(n));
  await net.peer.call("POST", `/api/registers/${register(count + 5).id}/advertise`, {
    isPublic: true,
  });
  net.sync.start();
  await net.sync.settled();
  const status = net.sync.status();
  assert.equal(status.lastStatus, "succeeded", status.lastError ?? "");
  assert.deepEqual(status.lastResult, {
    processed: count,
    added: count,
    updated: 0,
    removed: 1,
    unchanged: 0,
    persisted: true,
  });
  assert.deepEqual(net.peerCalls, Array(3).fill(`POST ${BULK}`), "three parts of 50,000 at most");
  const state = (await net.peer.call("GET", "/api/registers/sync-state")).body;
  assert.equal(state.localCount, count);
  assert.equal(state.lastFullSync.counts.processed, count);
});

Deno.test("a full sync in parts sends each register once, in order, and nothing is applied before the last part", async () => {
  const sent: { part?: number; lastPart?: boolean; syncId?: string; ids: string[] }[] = [];
  /** The peer's local count when each request arrived. */
  const localCounts: number[] = [];
  let peerCount = () => 0;
  await using net = await createTestNetwork({
    noStart: true,
    partSize: 2,
    intercept(request) {
      localCounts.push(peerCount());
      void request.clone().json().then((body) => {
        const ids = body.advertisements.map((a: { registerId: string }) => a.registerId);
        sent.push({ ...body, ids });
      });
      return undefined;
    },
  });
  peerCount = () => net.peer.registry.syncState().localCount;
  for (let n = 1; n <= 5; n++) await net.store.insert(register(n));
  await net.peer.call("POST", BULK, {
    advertisements: [{ registerId: register(9).id, isPublic: true }],
  });
  net.sync.start();
  await net.sync.settled();
  assert.deepEqual(sent.map((b) => [b.part, b.lastPart, b.ids.length]), [
    [0, false, 2],
    [1, false, 2],
    [2, true, 1],
  ]);
  assert.equal(new Set(sent.map((b) => b.syncId)).size, 1, "one sync id for every part");
  assert.ok(sent.every((b) => !("fullSync" in b)), "parts leave fullSync out");
  const ids = [1, 2, 3, 4, 5].map((n) => register(n).id);
  assert.deepEqual(sent.flatMap((b) => b.ids), ids);
  assert.deepEqual(localCounts, [1, 1, 1], "only register 9 until the last part was applied");
  assert.deepEqual(await net.availableIds(), ids);
  assert.equal(net.sync.status().lastResult?.removed, 1);
});

Deno.test("a peer that lost the earlier parts of a sync (412) gets the whole sync again, from part 0, after a backoff", async () => {
  let refused = 0;
  await using net = await createTestNetwork({
    noStart: true,
    partSize: 2,
    intercept(request) {
      if (!new URL(request.url).pathname.endsWith("/bulk-advertise") || refused > 0) {
        return undefined;
      }
      refused++;
      return Response.json({
        error: { code: "failed_precondition", message: "its earlier parts are not here" },
      }, { status: 412 });
    },
  });
  for (let n = 1; n <= 3; n++) await net.store.insert(register(n));
  net.sync.start();
  const sleep = await net.scheduler.nextSleep();
  assert.equal(net.sync.status().retrying, true, "412 is retried");
  sleep.release();
  await net.sync.settled();
  assert.equal(net.sync.status().lastStatus, "succeeded");
  assert.deepEqual(await net.availableIds(), [1, 2, 3].map((n) => register(n).id));
});

Deno.test("a full sync the peer refuses as invalid is reported and logged once at error level, and not retried", async () => {
  const { logger, lines } = recordingLogger();
  await using net = await createTestNetwork({
    noStart: true,
    intercept: refusingFullSyncs,
    logger,
  });
  await net.store.insert(register(1));
  net.sync.start();
  await net.sync.settled();
  const status = net.sync.status();
  assert.equal(status.lastStatus, "failed");
  assert.equal(status.retrying, false, "no retry loop");
  assert.match(status.lastError!, /answered 400: Cannot bulk-advertise registers: no/);
  assert.match(status.lastError!, /it is not retried/);
  assert.equal(net.scheduler.pending.length, 0, "no retry is waiting");
  assert.equal(status.nextDueAt, new Date(net.clock.now() + 300_000).toISOString());

  await net.scheduler.tick(); // the next reconciliation sends it again, refused again
  assert.equal(net.peerCalls.length, 2);
  assert.equal(net.scheduler.pending.length, 0);
  const errors = lines.filter((line) => line.level === "error");
  assert.equal(errors.length, 1, JSON.stringify(lines));
  assert.match(errors[0]!.message, /Full sync with the peer refused \(startup\): .*answered 400/);
});

Deno.test("after a refused full sync, a register created reaches the peer at once and a new full sync is sent", async () => {
  let refusing = true;
  await using net = await createTestNetwork({
    noStart: true,
    intercept: (request) => refusing ? refusingFullSyncs(request) : undefined,
  });
  await net.store.insert(register(1));
  net.sync.start();
  await net.sync.settled();
  assert.equal(net.sync.status().lastStatus, "failed");
  refusing = false;
  const created = await net.call("POST", "/api/registers", { name: "new one", advertise: true });
  assert.equal(created.status, 201);
  await net.sync.settled();
  assert.deepEqual(net.peerCalls, [
    `POST ${BULK}`,
    `POST /api/registers/${created.body.id}/advertise`,
    `POST ${BULK}`,
  ]);
  assert.equal(net.sync.status().lastStatus, "succeeded");
  assert.deepEqual((await net.availableIds()).sort(), [register(1).id, created.body.id].sort());
});
