/**
 * The replica of the system register, against real hubs (and a lying one):
 * pushed publications, resuming from the checkpoint, failover within one
 * network, the cursor-sanity rules that force a full resync, rejected
 * entries, digest mismatches, documents of every size, and a Redis that
 * restarts without its data.
 */
import assert from "node:assert/strict";
import { copy } from "../../fixtures/copy_dir.ts";
import { MemoryReplicaStore } from "../../../peer/replica/memory_store.ts";
import { openRedisReplicaStore } from "../../../peer/replica/redis_store.ts";
import { startRedis } from "../../fixtures/redis_server.ts";
import { digestOf } from "../../../shared/contracts/active_set_digest.ts";
import { publishBlueprint, startTestHub, tempDataDir } from "../../hub/hub_fixture.ts";
import { startTcpProxy } from "../../fixtures/tcp_proxy.ts";
import { fakeEntry, startFakeHub, truthfulDigest } from "./fake_hub.ts";
import { connectedTo, startLink } from "./link_fixture.ts";

const MiB = 1024 * 1024;

Deno.test("a publication reaches the replica through its push notification, not the periodic sync", async () => {
  await using hub = await startTestHub();
  await using peer = startLink([hub.address]); // periodic sync: every 10 minutes
  await peer.until("synced", (s) => s.replica.checkpoint?.version === hub.register.version);
  const event = await publishBlueprint(hub, "bp-pushed");
  await peer.until(
    "the publication is in the replica",
    (s) => s.replica.checkpoint?.version === event.entry.version,
  );
  const result = peer.status().replica.lastResult!;
  assert.equal(result.kind, "incremental");
  assert.match(result.reason, /notification of bp-pushed/);
  assert.equal(result.digest, "equal");
  const entry = await peer.store.get("bp-pushed");
  assert.equal(entry?.checksum, event.entry.checksum);
  assert.deepEqual(entry?.document, event.entry.document);
  assert.equal(peer.status().subscription.state, "subscribed");
  assert.ok(peer.status().subscription.notifications >= 1);
});

Deno.test("a link started again on its replica resumes incrementally from the checkpoint", async () => {
  await using hub = await startTestHub();
  await publishBlueprint(hub, "bp-1");
  const store = new MemoryReplicaStore();
  {
    await using first = startLink([hub.address], { store });
    await first.until("synced", (s) => s.replica.checkpoint?.version === hub.register.version);
    assert.equal(first.status().replica.lastResult?.kind, "full");
  }
  const before = (await store.checkpoint())!.version;
  await publishBlueprint(hub, "bp-2");
  await publishBlueprint(hub, "bp-3");
  await using second = startLink([hub.address], { store });
  await second.until("caught up", (s) => s.replica.checkpoint?.version === hub.register.version);
  const result = second.status().replica.lastResult!;
  assert.equal(result.kind, "incremental");
  assert.equal(result.fromVersion, before);
  assert.equal(result.entries, 2);
  assert.equal(second.status().replica.fullSyncs, 0);
  await store.close();
});

Deno.test("a failover to another hub of the same network continues incrementally", async () => {
  await using dir = await tempDataDir();
  await using n0 = await startTestHub({ hubId: "n0", dataDir: dir.path });
  await using n1 = await startTestHub({ hubId: "n1", dataDir: dir.path });
  await using p0 = startTcpProxy(n0.address);
  await using peer = startLink([p0.address, n1.address]);
  await peer.until(
    "synced from n0",
    (s) => connectedTo(s, p0.address) && s.replica.checkpoint !== null,
  );
  p0.freeze();
  const event = await publishBlueprint(n1, "bp-after-failover");
  await peer.until(
    "on n1 with the new blueprint",
    (s) => connectedTo(s, n1.address) && s.replica.checkpoint?.version === event.entry.version,
  );
  const status = peer.status();
  assert.equal(status.replica.fullSyncs, 1, "only the first sync was full");
  assert.equal(status.replica.lastResult?.kind, "incremental");
  assert.equal(status.replica.checkpoint?.hubId, "n1");
  p0.thaw();
});

Deno.test("a hub of another network makes the peer replace its replica, dropping what that hub lacks", async () => {
  await using a = await startTestHub({ hubId: "hub-a" });
  await using b = await startTestHub({ hubId: "hub-b" });
  await publishBlueprint(a, "only-on-a");
  await publishBlueprint(b, "only-on-b");
  const store = new MemoryReplicaStore();
  {
    await using peer = startLink([a.address], { store });
    await peer.until("synced from a", (s) => s.replica.checkpoint?.version === a.register.version);
  }
  assert.ok(await store.get("only-on-a"));
  await using peer = startLink([b.address], { store });
  await peer.until("synced from b", (s) => s.replica.checkpoint?.hubId === "hub-b");
  const result = peer.status().replica.lastResult!;
  assert.equal(result.kind, "full");
  assert.match(result.reason, /belongs to another network/);
  assert.equal(await store.get("only-on-a"), undefined);
  assert.ok(await store.get("only-on-b"));
  await store.close();
});

Deno.test("a hub behind the checkpoint (its register restored from a backup) makes the peer replace its replica", async () => {
  await using dir = await tempDataDir();
  await using backup = await tempDataDir();
  let hub = await startTestHub({ hubId: "n0", dataDir: dir.path });
  await publishBlueprint(hub, "bp-kept");
  await hub.close();
  await copy(dir.path, backup.path);
  hub = await startTestHub({ hubId: "n0", dataDir: dir.path });
  await publishBlueprint(hub, "bp-lost-1");
  await publishBlueprint(hub, "bp-lost-2");
  await using proxy = startTcpProxy(hub.address);
  await using peer = startLink([proxy.address]);
  await peer.until("synced", (s) => s.replica.checkpoint?.version === hub.register.version);
  const ahead = peer.status().replica.checkpoint!.version;

  await using restored = await startTestHub({ hubId: "n0", dataDir: backup.path });
  proxy.retarget(restored.address);
  proxy.cut();
  await hub.close();
  await peer.until(
    "replaced from the restored hub",
    (s) => s.replica.checkpoint?.version === restored.register.version,
  );
  const result = peer.status().replica.lastResult!;
  assert.equal(result.kind, "full");
  assert.match(result.reason, new RegExp(`behind the replica's ${ahead}`));
  assert.equal(await peer.store.get("bp-lost-1"), undefined);
  assert.equal(await peer.store.get("bp-lost-2"), undefined);
  assert.ok(await peer.store.get("bp-kept"));
});

Deno.test("an entry whose document does not match its checksum is rejected, never applied, and the sync retried", async () => {
  const good = [fakeEntry("bp-1", 1), fakeEntry("bp-2", 2)];
  const corrupt = { ...good[1]!, blueprintDocument: new TextEncoder().encode('{"tampered":true}') };
  await using hub = await startFakeHub({
    // The first two streams carry the corruption; the retries after them do not.
    entries: (after, stream) =>
      (stream >= 1 && stream <= 2 ? [good[0]!, corrupt] : [
        good[0]!,
        { ...good[1]!, activeSetDigest: truthfulDigest(good) },
      ]).filter((e) => Number(e.version) > after),
  });
  await using peer = startLink([hub.address]);
  await peer.until("the corrupt entry was rejected", (s) => s.replica.rejectedEntries >= 1);
  const rejected = peer.status().replica;
  assert.match(
    rejected.lastError ?? "",
    /version 2 \(blueprint "bp-2"\) from hub fake: its document does not match its checksum/,
  );
  assert.ok(rejected.failedSyncs >= 1);
  await peer.until(
    "synced once the hub sends good entries",
    (s) => s.replica.checkpoint?.version === 2,
  );
  assert.equal((await peer.store.get("bp-2"))?.checksum, good[1]!.checksum);
  assert.deepEqual((await peer.store.index()).map((e) => e.version), [1, 2]);
  assert.equal(peer.status().replica.lastError, null);
});

Deno.test("a replica whose digest differs from the hub's is replaced by a full sync, and the mismatch counted", async () => {
  const entries = [fakeEntry("bp-1", 1), fakeEntry("bp-2", 2)];
  await using hub = await startFakeHub({
    entries: (after, stream) =>
      entries.map((e, i) =>
        i === entries.length - 1
          ? { ...e, activeSetDigest: stream === 1 ? digestOf([]) : truthfulDigest(entries) }
          : e
      ).filter((e) => Number(e.version) > after),
  });
  await using peer = startLink([hub.address]);
  await peer.until("synced", (s) => s.replica.checkpoint?.version === 2);
  const replica = peer.status().replica;
  assert.equal(replica.digestMismatches, 1);
  assert.equal(replica.lastResult?.kind, "full");
  assert.match(replica.lastResult?.reason ?? "", /digest differed/);
  assert.equal(replica.lastResult?.digest, "equal");
  assert.equal(replica.checkpoint?.digest, truthfulDigest(entries));
});

Deno.test("a document larger than the peer takes is withheld, and the entries after it still flow", async () => {
  await using hub = await startTestHub();
  await publishBlueprint(hub, "bp-large", { bytes: 2 * MiB });
  const after = await publishBlueprint(hub, "bp-after");
  await using peer = startLink([hub.address], { maxBlueprintBytes: MiB });
  await peer.until("synced", (s) => s.replica.checkpoint?.version === after.entry.version);
  const large = await peer.store.get("bp-large");
  assert.equal(large?.document, undefined);
  assert.ok(large!.documentSize > 2 * MiB - 100);
  assert.ok((await peer.store.get("bp-after"))?.document);
  assert.equal(peer.status().replica.withheldEntries, 1);
  assert.equal(peer.status().replica.lastResult?.digest, "equal");
});

Deno.test("a 5 MiB blueprint reaches a peer with the default limits, by push", async () => {
  await using hub = await startTestHub();
  await using peer = startLink([hub.address]);
  await peer.until("synced", (s) => s.replica.checkpoint !== null);
  const event = await publishBlueprint(hub, "bp-5mib", { bytes: 5 * MiB });
  await peer.until(
    "the large blueprint is in",
    (s) => s.replica.checkpoint?.version === event.entry.version,
  );
  const entry = await peer.store.get("bp-5mib");
  assert.equal(entry?.document?.byteLength, event.entry.document.byteLength);
  assert.equal(entry?.checksum, event.entry.checksum);
});

Deno.test("a full sync on demand replaces the replica; without a hub, a sync is refused with the reason", async () => {
  await using hub = await startTestHub();
  await publishBlueprint(hub, "bp-1");
  await using peer = startLink([hub.address]);
  await peer.until("synced", (s) => s.replica.checkpoint?.version === hub.register.version);
  const result = await peer.link.sync({ full: true });
  assert.equal(result.kind, "full");
  assert.equal(result.entries, 2);
  assert.equal(result.digest, "equal");
  assert.equal(peer.status().replica.fullSyncs, 2);

  await using lonely = startLink(["127.0.0.1:1"]);
  await lonely.until("isolated", (s) => s.state === "Isolated");
  await assert.rejects(lonely.link.sync({ full: false }), /no hub is connected \(Isolated since/);
});

Deno.test("a Redis restarted without its data is filled again by a full sync, without restarting the link", async () => {
  await using redis = await startRedis();
  await using hub = await startTestHub();
  await publishBlueprint(hub, "bp-1");
  await publishBlueprint(hub, "bp-2");
  const store = openRedisReplicaStore(redis.url, { maxReconnectDelayMs: 100 });
  await using peer = startLink([hub.address], { store });
  await peer.until("synced", (s) => s.replica.checkpoint?.version === hub.register.version);
  const synced = peer.status().replica.fullSyncs;
  await redis.restart({ keepData: false });
  await peer.until(
    "the replica is whole again",
    (s) => s.replica.fullSyncs > synced && s.replica.checkpoint?.version === hub.register.version,
  );
  // Synced at once (the periodic sync is minutes away), from what the store holds now: nothing.
  assert.equal(peer.status().replica.lastResult?.kind, "full");
  assert.match(peer.status().replica.lastResult!.reason, /the replica is empty/);
  const checkpoint = await store.checkpoint();
  assert.equal(checkpoint?.version, hub.register.version);
  const ids = (await store.index()).map((entry) => entry.blueprintId);
  assert.equal(ids.length, checkpoint?.blueprints);
  assert.ok(ids.includes("bp-1") && ids.includes("bp-2"), ids.join(", "));
  await store.close();
});
