/**
 * The typed peer client against a peer app (through an injected `fetch`) and
 * against failures: unreachable, too slow, error answers, unexpected bodies.
 */
import assert from "node:assert/strict";
import { PeerClient } from "../../shared/client/peer_client.ts";
import { AppError } from "../../shared/errors.ts";
import { createTestPeer, item, rid } from "../peer/helpers.ts";

async function rejectsWith(promise: Promise<unknown>, code: string, message: RegExp) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof AppError, `expected an AppError, got ${error}`);
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  });
}

Deno.test("the peer client calls every advertisement endpoint and returns validated answers", async () => {
  await using peer = await createTestPeer({ apiToken: "t" });
  const client = new PeerClient({
    baseUrl: "http://peer.test/",
    token: "t",
    fetch: (request) => Promise.resolve(peer.app.request(request)),
  });
  assert.equal(client.baseUrl, "http://peer.test");
  const bulk = await client.bulkAdvertise({ advertisements: [item(1), item(2)], fullSync: true });
  assert.equal(bulk.added, 2);
  const same = await client.bulkAdvertise(
    JSON.stringify({ advertisements: [item(1), item(2)], fullSync: true }),
  );
  assert.equal(same.unchanged, 2);
  const advertised = await client.advertise(rid(3), { isPublic: true, latestVersion: 4 });
  assert.equal(advertised.outcome, "added");
  assert.equal(advertised.advertisement.latestVersion, 4);
  assert.deepEqual((await client.available()).map((r) => r.registerId), [rid(1), rid(2), rid(3)]);
  assert.deepEqual(await client.withdraw(rid(3)), {
    registerId: rid(3),
    removed: true,
    persisted: true,
  });
  assert.equal((await client.syncState()).localCount, 2);
  assert.equal((await client.health()).service, "peer");
  assert.equal((await client.readiness()).ready, true);
});

Deno.test("an unreachable peer is an unavailable error naming the peer", async () => {
  const client = new PeerClient({
    baseUrl: "http://peer.test",
    fetch: () => Promise.reject(new TypeError("Connection refused")),
  });
  await rejectsWith(
    client.available(),
    "unavailable",
    /^Cannot list available registers: cannot reach the peer at http:\/\/peer\.test: Connection refused$/,
  );
});

Deno.test("a peer that does not answer in time is a deadline_exceeded error", async () => {
  const client = new PeerClient({
    baseUrl: "http://peer.test",
    timeoutMs: 20,
    fetch: (request) =>
      new Promise((_, reject) => {
        request.signal.addEventListener("abort", () => reject(request.signal.reason));
      }),
  });
  await rejectsWith(
    client.withdraw(rid(1)),
    "deadline_exceeded",
    /^Cannot withdraw register "0+1": the peer at http:\/\/peer\.test did not answer within 0\.02 s$/,
  );
});

Deno.test("a call cancelled by its caller rejects with the caller's reason", async () => {
  const controller = new AbortController();
  const client = new PeerClient({
    baseUrl: "http://peer.test",
    fetch: (request) =>
      new Promise((_, reject) => {
        request.signal.addEventListener("abort", () => reject(request.signal.reason));
      }),
  });
  const call = client.available({ signal: controller.signal });
  controller.abort(new Error("stopping"));
  await assert.rejects(call, /stopping/);
});

Deno.test("an error answer keeps the peer's code and message", async () => {
  await using peer = await createTestPeer({ apiToken: "t" });
  const client = new PeerClient({
    baseUrl: "http://peer.test",
    token: "t",
    fetch: (request) => Promise.resolve(peer.app.request(request)),
  });
  await rejectsWith(
    client.bulkAdvertise({ advertisements: [{ registerId: "x", isPublic: true }] }),
    "invalid_argument",
    /^Cannot bulk-advertise registers: the peer at http:\/\/peer\.test answered 400: Cannot bulk-advertise registers: advertisements\[0\]\.registerId must be 32 hex characters$/,
  );
  const anonymous = new PeerClient({
    baseUrl: "http://peer.test",
    fetch: (request) => Promise.resolve(peer.app.request(request)),
  });
  await rejectsWith(anonymous.withdraw(rid(1)), "unauthenticated", /answered 401: .*Bearer/);
});

Deno.test("an answer without a JSON error maps its status to a code", async () => {
  const client = new PeerClient({
    baseUrl: "http://peer.test",
    fetch: () => Promise.resolve(new Response("Bad gateway", { status: 502 })),
  });
  await rejectsWith(client.health(), "unavailable", /answered 502: no error message$/);
});

Deno.test("an answer that does not match the contract is an internal error naming the field", async () => {
  const client = new PeerClient({
    baseUrl: "http://peer.test",
    fetch: () => Promise.resolve(Response.json({ processed: "many" })),
  });
  await rejectsWith(
    client.bulkAdvertise({ advertisements: [] }),
    "internal",
    /answered 200 with an unexpected body: processed .*number/,
  );
});
