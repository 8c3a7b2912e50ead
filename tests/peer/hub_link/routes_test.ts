/**
 * The peer's hub-link endpoints through `app.request()`: with no hub link,
 * with a link to a real hub (status, hubs, checkpoint, heartbeats, a sync on
 * demand, the replica paged and read), and bad input.
 */
import assert from "node:assert/strict";
import { AdvertisementRegistry } from "../../../peer/advertisements/mod.ts";
import { createPeerApp } from "../../../peer/app.ts";
import type { HubLinkView } from "../../../peer/hub_link/routes.ts";
import { MemoryReplicaStore } from "../../../peer/replica/memory_store.ts";
import type { ReplicaStore } from "../../../peer/replica/types.ts";
import { MemoryAdvertisementStore } from "../../../peer/store/memory_store.ts";
import { systemClock } from "../../../shared/clock.ts";
import { callApp } from "../../fixtures/http.ts";
import { publishBlueprint, startTestHub } from "../../hub/hub_fixture.ts";
import { startLink } from "./link_fixture.ts";

async function peerApp(options: {
  link?: HubLinkView;
  replica?: ReplicaStore;
  hubs?: string[];
  apiToken?: string;
}) {
  const registry = new AdvertisementRegistry(new MemoryAdvertisementStore(), {
    ttlMs: 300_000,
    graceMs: 75_000,
  });
  await registry.start();
  const app = createPeerApp({
    registry,
    apiToken: options.apiToken,
    hubLink: {
      link: options.link,
      replica: options.replica ?? new MemoryReplicaStore(),
      node: {
        peerId: "peer-test",
        version: "test",
        publicUrl: "http://127.0.0.1:8080",
        startedAt: systemClock.now(),
        advertisementStore: "memory",
        hubs: (options.hubs ?? []).map((address, priority) => ({ address, priority })),
        tls: false,
      },
      clock: systemClock,
    },
  });
  return {
    call: (method: string, path: string, headers?: Record<string, string>) =>
      callApp(app, { method, path, ...(headers ? { headers } : {}) }),
    [Symbol.asyncDispose]: () => registry.close(),
  };
}

Deno.test("without HUB_NODES the hub-link endpoints answer that there is no link", async () => {
  await using peer = await peerApp({});
  const status = await peer.call("GET", "/api/connection/status");
  assert.equal(status.status, 200);
  assert.equal(status.body.status, "Disconnected");
  assert.equal(status.body.enabled, false);
  assert.equal(status.body.lastSyncVersion, 0);
  assert.deepEqual((await peer.call("GET", "/api/central-nodes")).body.hubs, []);
  const checkpoint = await peer.call("GET", "/api/sync/checkpoint");
  assert.equal(checkpoint.body.status, "EMPTY");
  assert.equal(checkpoint.body.lastSyncKind, null);
  assert.equal((await peer.call("GET", "/api/heartbeat/status")).body.enabled, false);
  const trigger = await peer.call("POST", "/api/sync/trigger");
  assert.equal(trigger.status, 412);
  assert.match(trigger.body.error.message, /no hub link \(HUB_NODES is not set\)/);
  const list = await peer.call("GET", "/api/system-register/blueprints");
  assert.deepEqual(list.body, { currentVersion: 0, blueprints: [], nextSinceVersion: null });
  const missing = await peer.call("GET", "/api/system-register/blueprints/register-creation-v1");
  assert.equal(missing.status, 404);
  const info = await peer.call("GET", "/api/node/info");
  assert.equal(info.body.hubLink.enabled, false);
  assert.equal(info.body.peerId, "peer-test");
  const ready = await peer.call("GET", "/readyz");
  assert.equal(ready.status, 200);
  assert.equal(ready.body.dependencies.hubLink, undefined);
});

Deno.test("a linked peer reports its hub, checkpoint and heartbeats, and serves its replica a page at a time", async () => {
  await using hub = await startTestHub({ hubId: "n0" });
  await publishBlueprint(hub, "bp-a");
  await publishBlueprint(hub, "bp-b");
  await using link = startLink([hub.address]);
  await link.until(
    "synced, with a heartbeat",
    (s) => s.replica.checkpoint?.version === 3 && s.heartbeat.totalAcknowledged > 0,
  );
  await using peer = await peerApp({ link: link.link, replica: link.store, hubs: [hub.address] });

  const status = (await peer.call("GET", "/api/connection/status")).body;
  assert.equal(status.status, "Connected");
  assert.equal(status.enabled, true);
  assert.equal(status.connectedCentralNodeId, "n0");
  assert.equal(status.connectedHub, hub.address);
  assert.equal(typeof status.sessionId, "string");
  assert.equal(status.lastSyncVersion, 3);
  assert.equal(status.hubVersion, 3);
  assert.equal(status.isolatedSince, null);
  assert.ok(status.replicaAgeSeconds >= 0);
  assert.ok(Date.parse(status.lastHeartbeat) > 0);

  const hubs = (await peer.call("GET", "/api/central-nodes")).body;
  assert.equal(hubs.hubs.length, 1);
  assert.equal(hubs.hubs[0].state, "connected");
  assert.equal(hubs.hubs[0].current, true);
  assert.equal(hubs.hubs[0].centralNodeId, "n0");

  const checkpoint = (await peer.call("GET", "/api/sync/checkpoint")).body;
  assert.equal(checkpoint.currentVersion, 3);
  assert.equal(checkpoint.totalBlueprints, 3);
  assert.equal(checkpoint.centralNodeId, "n0");
  assert.equal(checkpoint.lastSyncKind, "full");
  assert.equal(checkpoint.status, "UP_TO_DATE");
  assert.equal(checkpoint.genesisChecksum, hub.register.genesisChecksum);
  assert.match(checkpoint.digest, /^sum-sha256:[0-9a-f]{64}$/);
  assert.equal(checkpoint.lastResult.digest, "equal");

  const beats = (await peer.call("GET", "/api/heartbeat/status")).body;
  assert.ok(beats.totalAcknowledged >= 1);
  assert.equal(beats.consecutiveMisses, 0);
  assert.equal(beats.maxMissed, 2);
  assert.equal(beats.lastAction, "NONE");

  const first = (await peer.call("GET", "/api/system-register/blueprints?limit=2")).body;
  assert.deepEqual(first.blueprints.map((b: { blueprintId: string }) => b.blueprintId), [
    "register-creation-v1",
    "bp-a",
  ]);
  assert.equal(first.nextSinceVersion, 2);
  assert.equal(first.currentVersion, 3);
  const second = (await peer.call("GET", "/api/system-register/blueprints?sinceVersion=2")).body;
  assert.deepEqual(second.blueprints.map((b: { version: number }) => b.version), [3]);
  assert.equal(second.nextSinceVersion, null);

  const one = (await peer.call("GET", "/api/system-register/blueprints/bp-b")).body;
  const hubs_ = await (await hub.app.request("/api/system-register/blueprints/bp-b")).json();
  assert.deepEqual({ ...one, documentSize: undefined, documentWithheld: undefined }, {
    ...hubs_,
    documentSize: undefined,
    documentWithheld: undefined,
  });
  assert.equal(one.documentWithheld, false);

  const info = (await peer.call("GET", "/api/node/info")).body;
  assert.deepEqual(info.hubLink, {
    enabled: true,
    status: "Connected",
    hubs: [hub.address],
    tls: false,
  });
  assert.deepEqual(info.systemRegister, { currentVersion: 3, totalBlueprints: 3 });
  assert.equal(info.replicaStore, "memory");

  const ready = (await peer.call("GET", "/readyz")).body;
  assert.equal(ready.dependencies.hubLink.state, "ok");
  assert.equal(ready.dependencies.hubLink.link, "Connected");
});

Deno.test("a sync on demand needs the API token, says how it went, and rejects a bad query", async () => {
  await using hub = await startTestHub();
  await using link = startLink([hub.address]);
  await link.until("synced", (s) => s.replica.checkpoint !== null);
  await using peer = await peerApp({ link: link.link, replica: link.store, apiToken: "t0ken" });
  assert.equal((await peer.call("POST", "/api/sync/trigger")).status, 401);
  const auth = { authorization: "Bearer t0ken" };
  const bad = await peer.call("POST", "/api/sync/trigger?full=maybe", auth);
  assert.equal(bad.status, 400);
  assert.match(bad.body.error.message, /Cannot trigger a sync: .*full.*"true" or "false"/);
  const full = await peer.call("POST", "/api/sync/trigger?full=true", auth);
  assert.equal(full.status, 200);
  assert.equal(full.body.result.kind, "full");
  assert.equal(full.body.result.entries, 1);
  assert.equal(full.body.result.digest, "equal");
  const incremental = await peer.call("POST", "/api/sync/trigger", auth);
  assert.equal(incremental.body.result.kind, "incremental");
  assert.equal((await peer.call("GET", "/api/sync/checkpoint")).body.fullSyncs, 2);
});

Deno.test("an isolated peer still serves its replica and refuses a sync saying why", async () => {
  const replica = new MemoryReplicaStore();
  {
    await using hub = await startTestHub();
    await using link = startLink([hub.address], { store: replica });
    await link.until("synced", (s) => s.replica.checkpoint !== null);
  }
  await using link = startLink(["127.0.0.1:1"], { store: replica });
  await link.until("isolated", (s) => s.state === "Isolated");
  await using peer = await peerApp({ link: link.link, replica, hubs: ["127.0.0.1:1"] });
  const status = (await peer.call("GET", "/api/connection/status")).body;
  assert.equal(status.status, "Isolated");
  assert.ok(Date.parse(status.isolatedSince) > 0);
  assert.equal(status.lastSyncVersion, 1);
  const trigger = await peer.call("POST", "/api/sync/trigger");
  assert.equal(trigger.status, 503);
  assert.match(
    trigger.body.error.message,
    /no hub is connected \(Isolated since .*\); the replica stays at version 1/,
  );
  const entry = await peer.call("GET", "/api/system-register/blueprints/register-creation-v1");
  assert.equal(entry.status, 200);
  const ready = await peer.call("GET", "/readyz");
  assert.equal(ready.status, 200, "being isolated does not make the peer unready");
  assert.equal(ready.body.dependencies.hubLink.state, "degraded");
  const nodes = (await peer.call("GET", "/api/central-nodes")).body.hubs;
  assert.equal(nodes[0].state, "failed");
  assert.ok(nodes[0].lastError);
  await replica.close();
});

Deno.test("bad paging and bad blueprint ids are answered 400 with what is wrong", async () => {
  await using peer = await peerApp({});
  const limit = await peer.call("GET", "/api/system-register/blueprints?limit=0");
  assert.equal(limit.status, 400);
  assert.match(limit.body.error.message, /limit must be between 1 and 1000/);
  const since = await peer.call("GET", "/api/system-register/blueprints?sinceVersion=-1");
  assert.equal(since.status, 400);
  assert.match(since.body.error.message, /sinceVersion.*non-negative integer/);
  const id = await peer.call("GET", "/api/system-register/blueprints/%20bad");
  assert.equal(id.status, 400);
  assert.match(id.body.error.message, /Cannot read blueprint/);
});
