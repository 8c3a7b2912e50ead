/**
 * The register's sync with the peer: startup push, retries with backoff,
 * periodic reconciliation, never two at once. Time is driven by a fake
 * scheduler and a manual clock.
 */
import assert from "node:assert/strict";
import { fullSyncBody } from "../../register/resync/full_sync_request.ts";
import { createTestNetwork, register } from "./helpers.ts";

Deno.test("the startup push sends every advertised register with its real isPublic and versions as one full sync", async () => {
  await using net = await createTestNetwork({ noStart: true });
  await net.store.insert(register(1, { latestVersion: 7, latestDocketVersion: 3 }));
  await net.store.insert(register(2, { isPublic: false }));
  await net.store.insert(register(3, { advertise: false }));
  net.sync.start();
  await net.sync.settled();

  assert.deepEqual(net.peerCalls, ["POST /api/registers/bulk-advertise"]);
  const available = (await net.peer.call("GET", "/api/registers/available")).body;
  assert.deepEqual(available.map((r: { registerId: string }) => r.registerId), [register(1).id]);
  assert.equal(available[0].latestVersion, 7);
  assert.equal(available[0].latestDocketVersion, 3);
  const state = (await net.peer.call("GET", "/api/registers/sync-state")).body;
  assert.equal(state.localCount, 2, "the private register is advertised, as private");
  assert.equal(state.publicLocalCount, 1);
  const status = net.sync.status();
  assert.equal(status.lastStatus, "succeeded");
  assert.equal(status.lastTrigger, "startup");
  assert.equal(status.registerCount, 2);
  assert.deepEqual(status.lastResult, {
    processed: 2,
    added: 2,
    updated: 0,
    removed: 0,
    unchanged: 0,
    persisted: true,
  });
});

Deno.test("the startup push removes advertisements of registers the register service no longer advertises", async () => {
  await using net = await createTestNetwork({ noStart: true });
  await net.store.insert(register(1));
  await net.store.insert(register(2, { advertise: false }));
  await net.peer.call("POST", "/api/registers/bulk-advertise", {
    advertisements: [1, 2, 3].map((n) => ({ registerId: register(n).id, isPublic: true })),
  });
  net.sync.start();
  await net.sync.settled();
  assert.deepEqual(await net.availableIds(), [register(1).id]);
  assert.equal(net.sync.status().lastResult?.removed, 2);
});

Deno.test("the full sync body is the same bytes for the same registers", () => {
  const registers = [register(1, { latestVersion: 4 }), register(2, { isPublic: false })];
  assert.equal(fullSyncBody(registers), fullSyncBody(registers.map((r) => ({ ...r }))));
  assert.deepEqual(JSON.parse(fullSyncBody(registers)), {
    advertisements: [
      { registerId: register(1).id, isPublic: true, latestVersion: 4, latestDocketVersion: 0 },
      { registerId: register(2).id, isPublic: false, latestVersion: 0, latestDocketVersion: 0 },
    ],
    fullSync: true,
  });
});

Deno.test("while the peer is unreachable the startup push retries after 1, 2, 4 ... up to 60 s, until it succeeds", async () => {
  await using net = await createTestNetwork({ noStart: true, peerDown: true });
  await net.store.insert(register(1));
  net.sync.start();
  for (let i = 0; i < 8; i++) {
    const sleep = await net.scheduler.nextSleep();
    assert.equal(net.sync.status().retrying, true);
    assert.equal(net.sync.status().nextDueAt, new Date(net.clock.now() + sleep.ms).toISOString());
    sleep.release();
  }
  await net.scheduler.nextSleep();
  assert.deepEqual(net.scheduler.requested, [
    1000,
    2000,
    4000,
    8000,
    16000,
    32000,
    60000,
    60000,
    60000,
  ]);
  const failed = net.sync.status();
  assert.equal(failed.lastStatus, "failed");
  assert.equal(failed.consecutiveFailures, 9);
  assert.match(
    failed.lastError!,
    /Cannot bulk-advertise registers: cannot reach the peer at http:\/\/peer\.test: .*Connection refused/,
  );
  assert.deepEqual(await net.availableIds(), []);

  net.setPeerReachable(true);
  net.scheduler.pending[0]!.release();
  await net.sync.settled();
  assert.deepEqual(await net.availableIds(), [register(1).id]);
  const status = net.sync.status();
  assert.equal(status.lastStatus, "succeeded");
  assert.equal(status.lastTrigger, "retry");
  assert.equal(status.retrying, false);
  assert.equal(status.consecutiveFailures, 0);
  assert.equal(status.lastError, null);
  assert.equal(net.scheduler.pending.length, 0, "no retry is left waiting");
});

Deno.test("the retry delays stop growing at RESYNC_RETRY_MAX_SECONDS", async () => {
  await using net = await createTestNetwork({ noStart: true, peerDown: true, retryMaxMs: 5000 });
  net.sync.start();
  for (let i = 0; i < 5; i++) (await net.scheduler.nextSleep()).release();
  await net.scheduler.nextSleep();
  assert.deepEqual(net.scheduler.requested, [1000, 2000, 4000, 5000, 5000, 5000]);
});

Deno.test("a ceiling below one second makes every retry delay the ceiling", async () => {
  await using net = await createTestNetwork({ noStart: true, peerDown: true, retryMaxMs: 500 });
  net.sync.start();
  (await net.scheduler.nextSleep()).release();
  await net.scheduler.nextSleep();
  assert.deepEqual(net.scheduler.requested, [500, 500]);
});

Deno.test("closing the service ends a retry wait at once", async () => {
  const net = await createTestNetwork({ noStart: true, peerDown: true });
  net.sync.start();
  await net.scheduler.nextSleep();
  await net[Symbol.asyncDispose]();
  assert.equal(net.scheduler.pending.length, 0);
  assert.equal(net.scheduler.taskCount, 0, "the periodic reconciliation is stopped");
});

Deno.test("a reconciliation with nothing changed reports 0/0/0, rewrites no value and keeps every lease alive", async () => {
  await using net = await createTestNetwork({ noStart: true });
  for (let n = 1; n <= 5; n++) await net.store.insert(register(n, { latestVersion: n }));
  net.sync.start();
  await net.sync.settled();
  const writes = net.peer.store.valueWrites;

  // Three intervals of 300 s: a lease (375 s) would have ended without renewals.
  for (let round = 0; round < 3; round++) {
    net.clock.advance(300_000);
    await net.scheduler.tick();
    const status = net.sync.status();
    assert.equal(status.lastTrigger, "interval");
    assert.deepEqual(status.lastResult, {
      processed: 5,
      added: 0,
      updated: 0,
      removed: 0,
      unchanged: 5,
      persisted: true,
    });
  }
  assert.equal(net.peer.store.valueWrites, writes, "no advertisement value was rewritten");
  assert.equal((await net.availableIds()).length, 5);
});

Deno.test("a reconciliation repairs what changed on the peer since the last one", async () => {
  await using net = await createTestNetwork({ noStart: true });
  await net.store.insert(register(1));
  await net.store.insert(register(2));
  net.sync.start();
  await net.sync.settled();
  await net.peer.call("DELETE", `/api/registers/${register(1).id}/advertise`);
  await net.peer.call("POST", `/api/registers/${register(9).id}/advertise`, { isPublic: true });
  await net.scheduler.tick();
  assert.deepEqual(await net.availableIds(), [register(1).id, register(2).id]);
  const result = net.sync.status().lastResult!;
  assert.deepEqual([result.added, result.removed, result.unchanged], [1, 1, 1]);
});

Deno.test("a failed reconciliation is retried with backoff instead of waiting a whole interval", async () => {
  await using net = await createTestNetwork({ noStart: true });
  await net.store.insert(register(1));
  net.sync.start();
  await net.sync.settled();
  net.setPeerReachable(false);
  await net.scheduler.tick();
  assert.equal(net.sync.status().lastStatus, "failed");
  const sleep = await net.scheduler.nextSleep();
  assert.equal(sleep.ms, 1000);
  net.setPeerReachable(true);
  sleep.release();
  await net.sync.settled();
  assert.equal(net.sync.status().lastStatus, "succeeded");
  assert.equal(net.sync.status().retrying, false);
});

Deno.test("a periodic run is skipped while a sync with the peer is under way", async () => {
  await using net = await createTestNetwork({ noStart: true });
  await net.store.insert(register(1));
  const { release, arrived } = net.holdPeer();
  net.sync.start();
  await arrived;
  await net.scheduler.tick();
  assert.equal(net.sync.status().running, true);
  release();
  await net.sync.settled();
  assert.deepEqual(net.peerCalls, ["POST /api/registers/bulk-advertise"]);
  assert.equal(net.sync.status().lastTrigger, "startup");
});

Deno.test("a manual sync waits for the one under way, and requests made meanwhile share one sync", async () => {
  await using net = await createTestNetwork({ noStart: true });
  await net.store.insert(register(1));
  const { release, arrived } = net.holdPeer();
  net.sync.start();
  await arrived;
  const first = net.sync.syncNow();
  const second = net.sync.syncNow();
  assert.equal(first, second);
  await net.store.insert(register(2));
  release();
  const result = await first;
  assert.equal(result.added, 1, "the manual sync read the registers after the running one");
  assert.deepEqual(net.peerCalls, [
    "POST /api/registers/bulk-advertise",
    "POST /api/registers/bulk-advertise",
  ]);
});

Deno.test("a manual sync that succeeds during a retry wait ends the retries", async () => {
  await using net = await createTestNetwork({ noStart: true, peerDown: true });
  net.sync.start();
  await net.scheduler.nextSleep();
  net.setPeerReachable(true);
  await net.sync.syncNow();
  await net.sync.settled();
  assert.equal(net.sync.status().retrying, false);
  assert.equal(net.scheduler.pending.length, 0);
  assert.deepEqual(net.peerCalls, ["POST /api/registers/bulk-advertise"]);
});

Deno.test("the peer dependency reads starting, then degraded while the peer is away, then ok", async () => {
  await using net = await createTestNetwork({ noStart: true, peerDown: true });
  assert.equal(net.sync.readiness().state, "starting");
  net.sync.start();
  await net.scheduler.nextSleep();
  const degraded = net.sync.readiness();
  assert.equal(degraded.state, "degraded");
  assert.match(degraded.lastError!, /cannot reach the peer/);
  net.setPeerReachable(true);
  net.scheduler.pending[0]!.release();
  await net.sync.settled();
  assert.deepEqual(net.sync.readiness(), { state: "ok", url: "http://peer.test" });
});
