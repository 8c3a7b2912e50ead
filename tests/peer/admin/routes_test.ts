/**
 * The admin page's endpoints through `app.request()`: the page and its files,
 * every register with its advertisers and leases, the node's snapshot with
 * and without a hub link, and the events stream (a snapshot at once, another
 * within a second of a change, and an end when the client goes away or the
 * service stops).
 */
import assert from "node:assert/strict";
import { AdvertisementRegistry } from "../../../peer/advertisements/mod.ts";
import { addAdminRoutes } from "../../../peer/admin/mod.ts";
import { AdminRegistersView } from "../../../peer/admin/registers_view.ts";
import { snapshotFingerprint } from "../../../peer/admin/snapshot.ts";
import { createPeerApp } from "../../../peer/app.ts";
import type { HubLinkStatus, HubLinkView } from "../../../peer/hub_link/mod.ts";
import { MemoryReplicaStore } from "../../../peer/replica/memory_store.ts";
import { MemoryAdvertisementStore } from "../../../peer/store/memory_store.ts";
import { systemClock } from "../../../shared/clock.ts";
import { createHttpApp } from "../../../shared/http/mod.ts";
import { createTestNetwork } from "../gossip_helpers.ts";
import { createTestPeer, item, rid } from "../helpers.ts";
import { statusOf } from "../hub_link/status_fixture.ts";
import { readEvents } from "./sse_reader.ts";

Deno.test("the page is served at / and /admin with its files, from this peer only", async () => {
  await using peer = await createTestPeer();
  for (const path of ["/", "/admin"]) {
    const res = await peer.app.request(path);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
    assert.match(res.headers.get("content-security-policy") ?? "", /default-src 'self'/);
    const html = await res.text();
    assert.match(html, /<title>Peer Network<\/title>/);
    // Every asset the page loads is one of the peer's own paths: no CDN, no external font.
    for (const [, url = ""] of html.matchAll(/(?:src|href)="([^"]+)"/g)) {
      assert.ok(url.startsWith("/") || url.startsWith("data:"), url);
    }
  }
  for (const file of ["app.js", "views.js", "status_views.js", "dom.js", "style.css"]) {
    const res = await peer.app.request(`/admin/assets/${file}`);
    assert.equal(res.status, 200, file);
    assert.doesNotMatch(await res.text(), /https?:\/\//, `${file} loads nothing from elsewhere`);
  }
  const missing = await peer.call("GET", "/admin/assets/nope.js");
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error.code, "not_found");
});

Deno.test("the registers endpoint counts private local registers without listing them, and shows a local lease", async () => {
  await using peer = await createTestPeer();
  await peer.call("POST", "/api/registers/bulk-advertise", {
    fullSync: true,
    advertisements: [item(1, { latestVersion: 3 }), item(2, { isPublic: false })],
  });
  const { status, body } = await peer.call("GET", "/api/admin/registers");
  assert.equal(status, 200);
  assert.equal(body.localCount, 2);
  assert.equal(body.publicLocalCount, 1);
  assert.equal(body.privateLocalCount, 1);
  assert.deepEqual(body.registers.map((r: { registerId: string }) => r.registerId), [rid(1)]);
  assert.equal(body.registers[0].isLocal, true);
  assert.equal(body.registers[0].latestVersion, 3);
  // Advertised now: refreshed now, its lease (TTL 300 s and a quarter of grace) ends 375 s later.
  const now = peer.clock.now();
  assert.equal(Date.parse(body.registers[0].lastRefreshAt), now);
  assert.equal(Date.parse(body.registers[0].leaseExpiresAt), now + 375_000);
  assert.deepEqual(body.registers[0].advertisedBy, []);
});

Deno.test("the registers endpoint names each peer advertising a register, its refresh and lease", async () => {
  await using network = createTestNetwork({ ttlSeconds: 60 });
  const alpha = await network.add("alpha");
  const bravo = await network.add("bravo", { seeds: ["alpha"] });
  await alpha.call("POST", "/api/registers/bulk-advertise", {
    advertisements: [item(1, { latestVersion: 5 }), item(2)],
  });
  await bravo.call("POST", "/api/registers/bulk-advertise", { advertisements: [item(2)] });
  await bravo.gossiper.round();
  const { body } = await bravo.call("GET", "/api/admin/registers");
  assert.equal(body.leaseSeconds, 75);
  const [first, second] = body.registers;
  assert.equal(first.registerId, rid(1));
  assert.equal(first.isLocal, false);
  assert.equal(first.peerCount, 1);
  assert.equal(first.advertisedBy.length, 1);
  const advertiser = first.advertisedBy[0];
  assert.equal(advertiser.peerId, "alpha");
  assert.equal(advertiser.latestVersion, 5);
  assert.ok(advertiser.refreshedAt !== null);
  assert.equal(
    Date.parse(advertiser.leaseExpiresAt) - Date.parse(advertiser.refreshedAt),
    75_000,
  );
  assert.equal(first.lastRefreshAt, advertiser.refreshedAt);
  assert.equal(first.leaseExpiresAt, advertiser.leaseExpiresAt);
  assert.equal(second.registerId, rid(2));
  assert.equal(second.isLocal, true);
  assert.deepEqual(second.advertisedBy.map((a: { peerId: string }) => a.peerId), ["alpha"]);
  // The snapshot shows the same registers and the peers, each with what it advertises.
  const snapshot = (await bravo.call("GET", "/api/admin/snapshot")).body;
  assert.deepEqual(snapshot.registers.registers, body.registers.map((r: object) => r));
  assert.equal(snapshot.peers.peers[0].peerId, "alpha");
  assert.equal(snapshot.peers.peers[0].advertisementCount, 2);
  assert.equal(snapshot.node.peerId, "bravo");
  assert.equal(snapshot.node.gossipEnabled, true);
});

Deno.test("the admin registers are made again only after a change, a gossip round or a lease's end", async () => {
  await using network = createTestNetwork({ ttlSeconds: 60 });
  const alpha = await network.add("alpha");
  const bravo = await network.add("bravo", { seeds: ["alpha"] });
  await alpha.call("POST", "/api/registers/bulk-advertise", { advertisements: [item(1)] });
  await bravo.call("POST", "/api/registers/bulk-advertise", { advertisements: [item(2)] });
  await bravo.gossiper.round();
  const view = new AdminRegistersView(bravo.registry, bravo.gossiper);
  const first = view.at(network.clock.now());
  assert.equal(view.at(network.clock.now()), first, "nothing changed: the same answer");
  assert.equal(view.builds, 1);
  assert.deepEqual(first.registers.map((r) => r.registerId), [rid(1), rid(2)]);

  await bravo.call("POST", "/api/registers/bulk-advertise", { advertisements: [item(3)] });
  const afterAdvertise = view.at(network.clock.now());
  assert.notEqual(afterAdvertise, first);
  assert.deepEqual(afterAdvertise.registers.map((r) => r.registerId), [rid(1), rid(2), rid(3)]);

  await alpha.call("POST", "/api/registers/bulk-advertise", { advertisements: [item(4)] });
  await bravo.gossiper.round();
  const afterGossip = view.at(network.clock.now());
  assert.notEqual(afterGossip, afterAdvertise);
  assert.ok(afterGossip.registers.some((r) => r.registerId === rid(4)));
  assert.equal(view.at(network.clock.now()), afterGossip);

  // Past every lease (75 s), with nothing renewed: the registers are gone without any change.
  network.clock.advance(76_000);
  const afterLeases = view.at(network.clock.now());
  assert.notEqual(afterLeases, afterGossip);
  assert.deepEqual(afterLeases.registers, []);
  assert.equal(view.builds, 4);
});

Deno.test("the snapshot's fingerprint counts the registers list by identity", async () => {
  await using peer = await createTestPeer();
  await peer.call("POST", "/api/registers/bulk-advertise", { advertisements: [item(1)] });
  const snapshot = (await peer.call("GET", "/api/admin/snapshot")).body;
  const later = { ...snapshot, generatedAt: "2030-01-01T00:00:00.000Z" };
  assert.equal(snapshotFingerprint(later), snapshotFingerprint(snapshot));
  const copied = { ...snapshot, registers: { ...snapshot.registers, registers: [] } };
  assert.notEqual(snapshotFingerprint(copied), snapshotFingerprint(snapshot));
});

Deno.test("without a hub link the snapshot says so and shows an empty replica", async () => {
  await using peer = await createTestPeer({ apiToken: "secret" });
  const { status, body } = await peer.call("GET", "/api/admin/snapshot");
  assert.equal(status, 200);
  assert.equal(body.node.tokenRequired, true);
  assert.equal(body.node.hubLinkEnabled, false);
  assert.equal(body.hubLink.enabled, false);
  assert.equal(body.hubLink.state, "Disconnected");
  assert.equal(body.replica.status, "EMPTY");
  assert.equal(body.replica.checkpoint, null);
  assert.equal(body.reconciliation.lastFullSync, null);
  assert.equal(body.reconciliation.store.state, "ok");
  assert.equal(body.peers, null);
});

/** A link reporting `state`, to a first hub that failed and a second one. */
function linkReporting(state: HubLinkStatus["state"]): HubLinkView {
  const now = Date.now();
  const hub = (address: string, priority: number) => ({
    address,
    priority,
    state: "failed" as const,
    centralNodeId: `n${priority}`,
    lastError: "connection refused",
    lastErrorAt: now,
    lastContactAt: now - 5_000,
    consecutiveFailures: 3,
    probeStreak: 0,
  });
  const status: HubLinkStatus = {
    ...statusOf(state),
    hubs: [hub("127.0.0.1:50051", 0), hub("127.0.0.1:50052", 1)],
    failovers: 1,
    recentFailovers: [{ from: "127.0.0.1:50051", to: null, reason: "heartbeats missed", at: now }],
  };
  return { status: () => status, sync: () => Promise.reject(new Error("not in this test")) };
}

Deno.test("an isolated link shows in the snapshot with every hub, its last error and the failover", async () => {
  const registry = new AdvertisementRegistry(new MemoryAdvertisementStore(), {
    ttlMs: 300_000,
    graceMs: 75_000,
  });
  await using _registry = { [Symbol.asyncDispose]: () => registry.close() };
  const app = createPeerApp({
    registry,
    hubLink: {
      link: linkReporting("Isolated"),
      replica: new MemoryReplicaStore(),
      node: {
        peerId: "peer-iso",
        version: "test",
        publicUrl: "http://127.0.0.1:8080",
        startedAt: Date.now(),
        advertisementStore: "memory",
        hubs: [{ address: "127.0.0.1:50051", priority: 0 }],
        tls: false,
      },
      clock: systemClock,
    },
  });
  const body = await (await app.request("/api/admin/snapshot")).json();
  assert.equal(body.node.peerId, "peer-iso");
  assert.equal(body.hubLink.enabled, true);
  assert.equal(body.hubLink.state, "Isolated");
  assert.ok(body.hubLink.isolatedSince);
  assert.deepEqual(body.hubLink.hubs.map((hub: { state: string }) => hub.state), [
    "failed",
    "failed",
  ]);
  assert.equal(body.hubLink.hubs[0].lastError, "connection refused");
  assert.equal(body.hubLink.heartbeat.lastLatencyMs, 3);
  assert.equal(body.hubLink.recentFailovers[0].reason, "heartbeats missed");
  assert.equal(body.replica.checkpoint.version, 4);
  assert.equal(body.replica.checkpoint.lastSyncKind, "full");
});

Deno.test("the events stream sends a snapshot at once and a register advertised within a second", async () => {
  await using peer = await createTestPeer();
  const res = await peer.app.request("/api/admin/events");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
  await using events = readEvents(res);
  const first = await events.next("snapshot");
  assert.deepEqual(JSON.parse(first).registers.registers, []);
  const advertisedAt = Date.now();
  await peer.call("POST", `/api/registers/${rid(7)}/advertise`, { isPublic: true });
  const next = JSON.parse(await events.next("snapshot"));
  assert.deepEqual(next.registers.registers.map((r: { registerId: string }) => r.registerId), [
    rid(7),
  ]);
  assert.ok(Date.now() - advertisedAt < 1_000, "within a second of the change");
});

Deno.test("the events stream ends when the client goes away and when the service stops", async () => {
  const registry = new AdvertisementRegistry(new MemoryAdvertisementStore(), {
    ttlMs: 300_000,
    graceMs: 75_000,
  });
  await registry.start();
  await using _registry = { [Symbol.asyncDispose]: () => registry.close() };
  const app = createHttpApp({
    service: "peer",
    version: "test",
    readiness: () => ({ ready: true, dependencies: {} }),
  });
  const stopping = new AbortController();
  const watcher = addAdminRoutes(app, {
    registry,
    tokenRequired: false,
    version: "test",
    stopping: stopping.signal,
  });
  // The client goes away: its stream is dropped and the watcher stops once none is left.
  const gone = await app.request("/api/admin/events");
  {
    await using events = readEvents(gone);
    await events.next("snapshot");
    assert.equal(watcher.listeners, 1);
  }
  await watcher.idle();
  assert.equal(watcher.listeners, 0);
  // The service stops: every open stream ends.
  const open = [await app.request("/api/admin/events"), await app.request("/api/admin/events")];
  const readers = open.map((res) => readEvents(res));
  for (const events of readers) await events.next("snapshot");
  stopping.abort();
  for (const events of readers) assert.equal(await events.end(), true);
  await watcher.idle();
  // A stream asked for once the service is stopping ends at once.
  const late = readEvents(await app.request("/api/admin/events"));
  assert.equal(await late.end(), true);
});
