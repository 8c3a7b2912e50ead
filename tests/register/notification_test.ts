/**
 * Immediate notification: every change to a register that matters to the
 * peer reaches it at once; a failure never fails the user's request and is
 * healed by the retry.
 */
import assert from "node:assert/strict";
import { createTestNetwork } from "./helpers.ts";

async function started(options: Parameters<typeof createTestNetwork>[0] = {}) {
  const net = await createTestNetwork(options);
  await net.sync.settled();
  net.peerCalls.length = 0;
  return net;
}

Deno.test("creating an advertised register tells the peer at once", async () => {
  await using net = await started();
  const { status, body } = await net.call("POST", "/api/registers", {
    name: "Land titles",
    advertise: true,
  });
  assert.equal(status, 201);
  assert.deepEqual(net.peerCalls, [`POST /api/registers/${body.id}/advertise`]);
  assert.deepEqual(await net.availableIds(), [body.id]);
});

Deno.test("creating a register with advertise false tells the peer nothing", async () => {
  await using net = await started();
  await net.call("POST", "/api/registers", { name: "Drafts", advertise: false });
  assert.deepEqual(net.peerCalls, []);
  assert.deepEqual(await net.availableIds(), []);
});

Deno.test("a private advertised register reaches the peer as private and is not listed", async () => {
  await using net = await started();
  await net.call("POST", "/api/registers", { name: "Payroll", advertise: true, isPublic: false });
  assert.deepEqual(await net.availableIds(), []);
  assert.equal((await net.peer.call("GET", "/api/registers/sync-state")).body.localCount, 1);
});

Deno.test("changing isPublic or the versions updates the peer's advertisement", async () => {
  await using net = await started();
  const { body: created } = await net.call("POST", "/api/registers", {
    name: "Land titles",
    advertise: true,
  });
  await net.call("PATCH", `/api/registers/${created.id}`, {
    latestVersion: 42,
    latestDocketVersion: 7,
  });
  const [entry] = (await net.peer.call("GET", "/api/registers/available")).body;
  assert.equal(entry.latestVersion, 42);
  assert.equal(entry.latestDocketVersion, 7);
  await net.call("PATCH", `/api/registers/${created.id}`, { isPublic: false });
  assert.deepEqual(await net.availableIds(), []);
});

Deno.test("changing only the name sends nothing to the peer", async () => {
  await using net = await started();
  const { body: created } = await net.call("POST", "/api/registers", {
    name: "Land titles",
    advertise: true,
  });
  net.peerCalls.length = 0;
  const { status } = await net.call("PATCH", `/api/registers/${created.id}`, { name: "Deeds" });
  assert.equal(status, 200);
  assert.deepEqual(net.peerCalls, []);
});

Deno.test("setting advertise to false withdraws the advertisement, and true advertises it again", async () => {
  await using net = await started();
  const { body: created } = await net.call("POST", "/api/registers", {
    name: "Land titles",
    advertise: true,
  });
  await net.call("PATCH", `/api/registers/${created.id}`, { advertise: false });
  assert.deepEqual(await net.availableIds(), []);
  assert.equal((await net.peer.call("GET", "/api/registers/sync-state")).body.localCount, 0);
  await net.call("PATCH", `/api/registers/${created.id}`, { advertise: true });
  assert.deepEqual(await net.availableIds(), [created.id]);
});

Deno.test("deleting a register withdraws its advertisement", async () => {
  await using net = await started();
  const { body: created } = await net.call("POST", "/api/registers", {
    name: "Land titles",
    advertise: true,
  });
  const { status } = await net.call("DELETE", `/api/registers/${created.id}`);
  assert.equal(status, 200);
  assert.deepEqual(net.peerCalls.at(-1), `DELETE /api/registers/${created.id}/advertise`);
  assert.deepEqual(await net.availableIds(), []);
});

Deno.test("with the peer unreachable the user's request still succeeds and the retry heals the peer", async () => {
  await using net = await started();
  net.setPeerReachable(false);
  const { status, body: created } = await net.call("POST", "/api/registers", {
    name: "Land titles",
    advertise: true,
  });
  assert.equal(status, 201);
  const sleep = await net.scheduler.nextSleep();
  assert.equal(sleep.ms, 1000, "a retry is due in one second, not in a whole interval");
  assert.equal(net.sync.status().retrying, true);

  net.setPeerReachable(true);
  sleep.release();
  await net.sync.settled();
  assert.deepEqual(await net.availableIds(), [created.id]);
  assert.equal(net.sync.status().lastResult?.added, 1);
});

Deno.test("a register deleted while the peer is unreachable is gone after the next push", async () => {
  await using net = await started();
  const { body: kept } = await net.call("POST", "/api/registers", { name: "A", advertise: true });
  const { body: deleted } = await net.call("POST", "/api/registers", {
    name: "B",
    advertise: true,
  });
  const { body: hidden } = await net.call("POST", "/api/registers", {
    name: "C",
    advertise: true,
  });
  net.setPeerReachable(false);
  assert.equal((await net.call("DELETE", `/api/registers/${deleted.id}`)).status, 200);
  await net.call("PATCH", `/api/registers/${hidden.id}`, { advertise: false });
  const sleep = await net.scheduler.nextSleep();
  net.setPeerReachable(true);
  sleep.release();
  await net.sync.settled();
  assert.deepEqual(await net.availableIds(), [kept.id]);
  assert.equal(net.sync.status().lastResult?.removed, 2);
});

Deno.test("while a retry is pending, changes are not sent one by one: the next full sync carries them", async () => {
  await using net = await started();
  net.setPeerReachable(false);
  await net.call("POST", "/api/registers", { name: "A", advertise: true });
  const sleep = await net.scheduler.nextSleep();
  net.setPeerReachable(true);
  const { body: second } = await net.call("POST", "/api/registers", { name: "B", advertise: true });
  assert.deepEqual(net.peerCalls, [], "nothing was sent while the retry was pending");
  sleep.release();
  await net.sync.settled();
  assert.deepEqual(net.peerCalls, ["POST /api/registers/bulk-advertise"]);
  assert.equal((await net.availableIds()).length, 2);
  assert.ok((await net.availableIds()).includes(second.id));
});

Deno.test("a change made during the startup push is still sent to the peer", async () => {
  await using net = await createTestNetwork({ noStart: true });
  const { release, arrived } = net.holdPeer();
  net.sync.start();
  await arrived;
  const created = net.call("POST", "/api/registers", { name: "A", advertise: true });
  release();
  const { body } = await created;
  await net.sync.settled();
  assert.deepEqual(await net.availableIds(), [body.id]);
});

Deno.test("a manual sync that read the registers before a change skipped during a retry wait does not end the retries", async () => {
  await using net = await createTestNetwork({ noStart: true, peerDown: true });
  net.sync.start();
  const sleep = await net.scheduler.nextSleep();
  net.setPeerReachable(true);
  const { release, arrived } = net.holdPeer();
  const manual = net.sync.syncNow();
  await arrived; // the manual sync has read the (empty) registers
  const { body } = await net.call("POST", "/api/registers", { name: "A", advertise: true });
  release();
  await manual;
  assert.deepEqual(await net.availableIds(), []);
  assert.equal(net.scheduler.pending.length, 0, "the retry wait was ended");
  await net.sync.settled();
  assert.deepEqual(await net.availableIds(), [body.id], "the retry ran once more at once");
  assert.equal(sleep.ms, 1000);
});
