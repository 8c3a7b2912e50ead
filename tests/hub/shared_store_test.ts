/**
 * Hubs sharing one store (one DATA_DIR): genesis once, one sequence of
 * versions, each hub notifying its own subscribers of the other's
 * publications (found by polling the store), syncs and checkpoints reading
 * the store rather than what a hub has polled so far.
 */
import assert from "node:assert/strict";
import {
  CheckpointStatus,
  type SystemRegisterEntry,
} from "../../gen/sorcha/peer/v1/system_register_sync_pb.ts";
import { CentralNodeConnection } from "../../gen/sorcha/peer/v1/central_node_connection_pb.ts";
import { GENESIS_BLUEPRINT_ID } from "../../hub/system_register/genesis.ts";
import { createClient } from "../../shared/grpc/mod.ts";
import type { HubOptions } from "../../hub/hub.ts";
import { FakeScheduler } from "../fixtures/fake_scheduler.ts";
import {
  collect,
  NotificationType,
  openDataDirStore,
  publishBlueprint,
  rejectsWithCode,
  stalledSubscription,
  startTestHub,
  Subscription,
  syncClient,
  tempDataDir,
  type TestHub,
} from "./hub_fixture.ts";

function versions(entries: { version: bigint }[]): number[] {
  return entries.map((entry) => Number(entry.version));
}

/** Starts one hub per options at once; disposing the result closes them all. */
async function startHubsAtOnce(
  options: Partial<HubOptions>[],
): Promise<TestHub[] & AsyncDisposable> {
  const results = await Promise.allSettled(options.map((o) => startTestHub(o)));
  const hubs = results.flatMap((r) => r.status === "fulfilled" ? [r.value] : []);
  const dispose = async () => {
    for (const hub of hubs) await hub[Symbol.asyncDispose]();
  };
  const failed = results.find((r) => r.status === "rejected");
  if (failed) {
    await dispose();
    throw failed.reason;
  }
  return Object.assign(hubs, { [Symbol.asyncDispose]: dispose });
}

Deno.test("hubs started at once on one store create register-creation-v1 exactly once", async () => {
  await using dir = await tempDataDir();
  await using hubs = await startHubsAtOnce(
    ["hub-a", "hub-b", "hub-c"].map((hubId) => ({ hubId, dataDir: dir.path })),
  );
  for (const hub of hubs) {
    using channel = hub.channel();
    const entries = await collect(syncClient(channel).fullSync({ peerId: "peer-1" }));
    assert.deepEqual(entries.map((e) => [e.blueprintId, e.version]), [[GENESIS_BLUEPRINT_ID, 1n]]);
    assert.equal(hub.register.version, 1);
  }
  const head = await hubs[0]!.register.store.head();
  assert.equal(head.entryCount, 1);
  assert.notEqual(hubs[0]!.grpcPort, hubs[1]!.grpcPort);
});

Deno.test("a blueprint published on one hub is notified to subscribers of the other; versions stay one sequence", async () => {
  await using dir = await tempDataDir();
  await using hubs = await startHubsAtOnce([
    { hubId: "hub-a", dataDir: dir.path, storePollSeconds: 0.05 },
    { hubId: "hub-b", dataDir: dir.path, storePollSeconds: 0.05 },
  ]);
  const a = hubs[0]!;
  const b = hubs[1]!;
  using channelA = a.channel();
  using channelB = b.channel();
  await using onA = new Subscription(channelA, { peerId: "peer-a" });
  await using onB = new Subscription(channelB, { peerId: "peer-b" });
  await onA.subscribed();
  await onB.subscribed();

  const x1 = await publishBlueprint(a, "bp-x", { publishedBy: "alice" });
  const y1 = await publishBlueprint(b, "bp-y", { publishedBy: "bob" });
  const x2 = await publishBlueprint(a, "bp-x", { revision: 2, publishedBy: "alice" });
  assert.deepEqual([x1, y1, x2].map((event) => event.entry.version), [2, 3, 4]);
  assert.deepEqual([x1, y1, x2].map((event) => event.kind), ["published", "published", "updated"]);

  for (const subscription of [onA, onB]) {
    await subscription.eventCount(3);
    const events = subscription.events;
    assert.deepEqual(versions(events), [2, 3, 4]);
    assert.deepEqual(events.map((e) => e.blueprintId), ["bp-x", "bp-y", "bp-x"]);
    assert.deepEqual(events.map((e) => e.type), [
      NotificationType.BLUEPRINT_PUBLISHED,
      NotificationType.BLUEPRINT_PUBLISHED,
      NotificationType.BLUEPRINT_UPDATED,
    ]);
    assert.deepEqual(events.map((e) => e.sequenceNumber), [1n, 2n, 3n]);
    assert.deepEqual(events.map((e) => e.publishedBy), ["alice", "bob", "alice"]);
    assert.equal(events[2]!.checksum, x2.entry.checksum);
  }

  // Publications racing on both hubs still get one gap-free sequence.
  const racing = await Promise.all(
    Array.from({ length: 20 }, (_, n) => publishBlueprint(n % 2 ? a : b, `bp-race-${n}`)),
  );
  assert.deepEqual(
    racing.map((event) => event.entry.version).sort((p, q) => p - q),
    Array.from({ length: 20 }, (_, n) => n + 5),
  );
  await onB.eventCount(23);
  await onA.eventCount(23);
  assert.deepEqual(versions(onB.events), Array.from({ length: 23 }, (_, n) => n + 2));
  assert.deepEqual(versions(onA.events), versions(onB.events));

  const fromA = await collect(syncClient(channelA).fullSync({ peerId: "peer-1" }));
  const fromB = await collect(syncClient(channelB).fullSync({ peerId: "peer-1" }));
  assert.deepEqual(versions(fromA), [1, 3, 4, ...Array.from({ length: 20 }, (_, n) => n + 5)]);
  assert.deepEqual(fromB.map(withoutTypeName), fromA.map(withoutTypeName));
});

function withoutTypeName(entry: SystemRegisterEntry) {
  const { $typeName: _, ...fields } = entry;
  return fields;
}

Deno.test("a hub serves another hub's publication from the store before it has polled it", async () => {
  await using dir = await tempDataDir();
  await using a = await startTestHub({ hubId: "hub-a", dataDir: dir.path });
  const scheduler = new FakeScheduler(); // hub B polls only when told
  await using b = await startTestHub({ hubId: "hub-b", dataDir: dir.path, scheduler });
  using channel = b.channel();
  const client = syncClient(channel);
  await using subscription = new Subscription(channel, { peerId: "peer-1" });
  await subscription.subscribed();

  await publishBlueprint(a, "bp-x"); // 2
  assert.equal(b.register.version, 1, "hub B has not polled yet");

  // A peer that heard of version 2 elsewhere is not told to reset.
  assert.deepEqual(
    await collect(client.incrementalSync({ peerId: "peer-1", lastKnownVersion: 2n })),
    [],
  );
  assert.deepEqual(
    versions(await collect(client.incrementalSync({ peerId: "peer-1", lastKnownVersion: 1n }))),
    [2],
  );
  const checkpoint = await client.getSyncCheckpoint({ peerId: "peer-1" });
  assert.equal(checkpoint.currentVersion, 2n);
  assert.equal(checkpoint.totalBlueprints, 2);
  assert.equal(checkpoint.centralNodeId, "hub-b");
  assert.equal(checkpoint.status, CheckpointStatus.UP_TO_DATE);
  await rejectsWithCode(
    collect(client.incrementalSync({ peerId: "peer-1", lastKnownVersion: 3n })),
    "failed_precondition",
    /at version 2; reset/,
  );

  await scheduler.tick(); // hub B polls the store
  assert.equal(b.register.version, 2);
  await subscription.eventCount(1);
  assert.equal(subscription.events[0]!.blueprintId, "bp-x");
  assert.equal(subscription.events[0]!.type, NotificationType.BLUEPRINT_PUBLISHED);
});

Deno.test("a hub following a shared store refuses to serve an entry altered before it read it", async () => {
  await using dir = await tempDataDir();
  await using a = await startTestHub({ hubId: "hub-a", dataDir: dir.path });
  const scheduler = new FakeScheduler();
  await using b = await startTestHub({ hubId: "hub-b", dataDir: dir.path, scheduler });
  using channel = b.channel();
  await using subscription = new Subscription(channel, { peerId: "peer-1" });
  await subscription.subscribed();

  await publishBlueprint(a, "bp-x"); // 2
  const store = openDataDirStore(dir.path);
  try {
    store.execForTest(
      "UPDATE blueprints SET document = ? WHERE version = 2",
      new TextEncoder().encode('{"tampered":true}'),
    );
  } finally {
    await store.close();
  }
  await scheduler.tick(); // hub B reads the altered entry

  assert.equal(b.register.integrity.ok, false);
  const naming = /corrupt at version 2 \(blueprint "bp-x"\)/;
  await rejectsWithCode(
    collect(syncClient(channel).fullSync({ peerId: "peer-1" })),
    "failed_precondition",
    naming,
  );
  // Its subscribers are not told of the altered entry; their subscriptions end, naming it.
  await subscription.finished();
  assert.deepEqual(subscription.events, []);
  assert.equal((subscription.error as { code?: string } | undefined)?.code, "failed_precondition");
  assert.match(String(subscription.error), naming);
  assert.equal((await b.app.request("/readyz")).status, 503);
});

Deno.test("a burst of 3,000 publications by another hub reaches subscribers that keep up, none dropped", async () => {
  await using dir = await tempDataDir();
  await using a = await startTestHub({ hubId: "hub-a", dataDir: dir.path });
  const scheduler = new FakeScheduler(); // hub B polls only when told: it finds the whole burst at once
  await using b = await startTestHub({ hubId: "hub-b", dataDir: dir.path, scheduler });
  using channel = b.channel();
  const subscriptions = Array.from(
    { length: 3 },
    (_, n) => new Subscription(channel, { peerId: `peer-${n}` }),
  );
  try {
    for (const subscription of subscriptions) await subscription.subscribed();
    const burst = 3_000;
    for (let n = 0; n < burst; n++) await publishBlueprint(a, `bp-burst-${n}`);
    assert.equal(b.register.version, 1, "hub B has not polled yet");

    await scheduler.tick(); // hub B polls the store: 3,000 new entries at once
    for (const subscription of subscriptions) {
      await subscription.eventCount(burst);
      assert.equal(subscription.error, undefined);
      assert.deepEqual(
        versions(subscription.events),
        Array.from({ length: burst }, (_, n) => n + 2),
      );
    }
    assert.equal(b.register.notifications.dropped, 0);
  } finally {
    for (const subscription of subscriptions) await subscription[Symbol.asyncDispose]();
  }
});

Deno.test("a subscriber that stops reading during a burst from another hub is dropped; the others get it all", async () => {
  await using dir = await tempDataDir();
  await using a = await startTestHub({ hubId: "hub-a", dataDir: dir.path });
  const scheduler = new FakeScheduler();
  await using b = await startTestHub({
    hubId: "hub-b",
    dataDir: dir.path,
    scheduler,
    subscriberQueueLimit: 64,
  });
  using stalledChannel = b.channel();
  using readerChannel = b.channel();
  const stalled = await stalledSubscription(stalledChannel, "stalled"); // it reads no more
  await using reader = new Subscription(readerChannel, { peerId: "reader" });
  await reader.subscribed();
  const burst = 2_000;
  for (let n = 0; n < burst; n++) await publishBlueprint(a, `bp-burst-${n}`, { bytes: 512 });

  const polled = scheduler.tick(); // hub B reads the burst, a run at a time
  // Each run waits for the stalled subscriber until its pace timeout (1 s) ends: released here
  // once the reader has taken the run (every entry hub B has read so far).
  while (b.register.notifications.countFor("stalled") > 0) {
    await reader.eventCount(b.register.version - 1);
    const pace = scheduler.pending.find((sleep) => sleep.ms === 1000);
    if (pace) pace.release();
    else await new Promise((resolve) => setTimeout(resolve, 0)); // a turn for the watcher
  }
  await polled;
  await reader.eventCount(burst);
  assert.deepEqual(versions(reader.events), Array.from({ length: burst }, (_, n) => n + 2));
  assert.equal(b.register.notifications.dropped, 1);
  await rejectsWithCode(
    stalled.readOn(),
    "resource_exhausted",
    /Subscription of peer "stalled" dropped: it fell 64 notifications behind/,
  );
});

Deno.test("a hub answers a connection with the store's version, not the one it last polled, so a peer failing over to it is not told it is behind", async () => {
  await using dir = await tempDataDir();
  await using hubs = await startHubsAtOnce([
    { hubId: "hub-a", dataDir: dir.path, storePollSeconds: 3600 },
    { hubId: "hub-b", dataDir: dir.path, storePollSeconds: 3600 },
  ]);
  const [a, b] = [hubs[0]!, hubs[1]!];
  const published = await publishBlueprint(a, "bp-after-poll");
  assert.equal(b.register.version, 1, "hub-b has not polled the store since");
  using channel = b.channel();
  const answer = await createClient(CentralNodeConnection, channel).connectToCentralNode({
    peerId: "peer-failing-over",
    peerInfo: { address: "127.0.0.1", port: 8080 },
    lastKnownVersion: BigInt(published.entry.version),
  });
  assert.equal(Number(answer.currentSystemRegisterVersion), published.entry.version);
  assert.doesNotMatch(answer.message, /behind/);
});
