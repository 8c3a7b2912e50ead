/**
 * SystemRegisterSync over gRPC against an in-process hub: genesis, full and
 * incremental streams, limits, backpressure towards slow readers, store
 * failures and corruption answered with the right status, concurrent syncs
 * per peer, checkpoints.
 */
import assert from "node:assert/strict";
import {
  CheckpointStatus,
  type SystemRegisterEntry,
} from "../../gen/sorcha/peer/v1/system_register_sync_pb.ts";
import { GENESIS_BLUEPRINT_ID } from "../../hub/system_register/genesis.ts";
import { SYSTEM_REGISTER_ID } from "../../hub/system_register/types.ts";
import { AppError } from "../../shared/errors.ts";
import {
  blueprintDocument,
  collect,
  openDataDirStore,
  publishBlueprint,
  rejectsWithCode,
  sha256Checksum,
  startTestHub,
  Subscription,
  syncClient,
  tempDataDir,
  WrappedStore,
} from "./hub_fixture.ts";

const decoder = new TextDecoder();

function versions(entries: SystemRegisterEntry[]): number[] {
  return entries.map((entry) => Number(entry.version));
}

Deno.test("a new hub's FullSync returns register-creation-v1 at version 1 with its checksum", async () => {
  await using hub = await startTestHub();
  using channel = hub.channel();

  const entries = await collect(syncClient(channel).fullSync({ peerId: "peer-1" }));

  assert.equal(entries.length, 1);
  const [genesis] = entries;
  assert.equal(genesis!.blueprintId, GENESIS_BLUEPRINT_ID);
  assert.equal(genesis!.version, 1n);
  assert.equal(genesis!.registerId, SYSTEM_REGISTER_ID);
  assert.equal(genesis!.registerId, "00000000-0000-0000-0000-000000000000");
  assert.equal(genesis!.isActive, true);
  assert.equal(genesis!.publishedBy, "hub:hub-test");
  assert.match(genesis!.checksum, /^sha256:[0-9a-f]{64}$/);
  assert.equal(genesis!.checksum, sha256Checksum(genesis!.blueprintDocument));
  const document = JSON.parse(decoder.decode(genesis!.blueprintDocument));
  assert.equal(document.id, GENESIS_BLUEPRINT_ID);
});

Deno.test("FullSync streams every active entry in version order, a republished blueprint only at its latest version", async () => {
  await using hub = await startTestHub();
  using channel = hub.channel();
  await publishBlueprint(hub, "bp-a", { metadata: { team: "red" } }); // 2
  await publishBlueprint(hub, "bp-b"); // 3
  await publishBlueprint(hub, "bp-a", { revision: 2 }); // 4, makes 2 inactive
  await publishBlueprint(hub, "bp-c"); // 5

  const entries = await collect(syncClient(channel).fullSync({ peerId: "peer-1" }));

  assert.deepEqual(versions(entries), [1, 3, 4, 5]);
  assert.deepEqual(entries.map((e) => e.blueprintId), [
    GENESIS_BLUEPRINT_ID,
    "bp-b",
    "bp-a",
    "bp-c",
  ]);
  assert.ok(entries.every((entry) => entry.isActive));
  const bpA = entries[2]!;
  assert.deepEqual(bpA.blueprintDocument, blueprintDocument("bp-a", { revision: 2 }));
  assert.equal(bpA.checksum, sha256Checksum(bpA.blueprintDocument));
  assert.equal(bpA.publishedBy, "tester");
  assert.ok(bpA.publicationTransactionId.length > 0);
  assert.ok(entries.every((entry) => entry.registerId === SYSTEM_REGISTER_ID));

  // full_sync on an IncrementalSync request is a full sync too.
  const full = await collect(
    syncClient(channel).incrementalSync({ peerId: "peer-1", lastKnownVersion: 4n, fullSync: true }),
  );
  assert.deepEqual(versions(full), [1, 3, 4, 5]);
});

Deno.test("IncrementalSync streams the active entries after last_known_version", async () => {
  await using hub = await startTestHub();
  using channel = hub.channel();
  const client = syncClient(channel);
  await publishBlueprint(hub, "bp-a"); // 2
  await publishBlueprint(hub, "bp-b"); // 3
  await publishBlueprint(hub, "bp-c", { metadata: { tier: "gold" } }); // 4
  await publishBlueprint(hub, "bp-b", { revision: 2 }); // 5, makes 3 inactive

  const after2 = await collect(client.incrementalSync({ peerId: "peer-1", lastKnownVersion: 2n }));
  assert.deepEqual(versions(after2), [4, 5]);
  assert.deepEqual(after2[0]!.metadata, { tier: "gold" });

  const after4 = await collect(client.incrementalSync({ peerId: "peer-1", lastKnownVersion: 4n }));
  assert.deepEqual(versions(after4), [5]);

  const upToDate = await collect(
    client.incrementalSync({ peerId: "peer-1", lastKnownVersion: 5n }),
  );
  assert.deepEqual(upToDate, []);

  const fromZero = await collect(client.incrementalSync({ peerId: "peer-1" }));
  assert.deepEqual(versions(fromZero), [1, 2, 4, 5]);
});

Deno.test("IncrementalSync from a version ahead of the hub is refused with FAILED_PRECONDITION saying to reset", async () => {
  await using hub = await startTestHub();
  using channel = hub.channel();
  await publishBlueprint(hub, "bp-a"); // 2

  const error = await rejectsWithCode(
    collect(syncClient(channel).incrementalSync({ peerId: "peer-1", lastKnownVersion: 9n })),
    "failed_precondition",
    /version 9 but the system register is at version 2; reset and run a full sync/,
  );
  assert.match(error.message, /^Cannot incrementally sync peer "peer-1"/);
  assert.deepEqual(error.details, { currentVersion: 2, lastKnownVersion: 9 });

  // FullSync ignores last_known_version.
  const full = await collect(
    syncClient(channel).fullSync({ peerId: "peer-1", lastKnownVersion: 9n }),
  );
  assert.deepEqual(versions(full), [1, 2]);
});

Deno.test("max_blueprints is honoured, and IncrementalSync from the last version received gets the rest", async () => {
  await using hub = await startTestHub();
  using channel = hub.channel();
  const client = syncClient(channel);
  for (let n = 0; n < 9; n++) await publishBlueprint(hub, `bp-${n}`); // 2..10
  await publishBlueprint(hub, "bp-1", { revision: 2 }); // 11, makes 3 inactive

  const first = await collect(client.fullSync({ peerId: "peer-1", maxBlueprints: 4 }));
  assert.deepEqual(versions(first), [1, 2, 4, 5]);

  const received = [...first];
  while (true) {
    const last = received.at(-1)!.version;
    const page = await collect(
      client.incrementalSync({ peerId: "peer-1", lastKnownVersion: last, maxBlueprints: 4 }),
    );
    assert.ok(page.length <= 4);
    if (page.length === 0) break;
    received.push(...page);
  }
  assert.deepEqual(versions(received), [1, 2, 4, 5, 6, 7, 8, 9, 10, 11]);
  const unlimited = await collect(client.fullSync({ peerId: "peer-1" }));
  assert.deepEqual(versions(unlimited), versions(received));
});

Deno.test("a FullSync to a client that reads slowly reads the store only as fast as the client takes entries", async () => {
  const total = 2_500;
  await using dir = await tempDataDir();
  const inner = openDataDirStore(dir.path);
  const document = blueprintDocument("bulk", { bytes: 4 * 1024 });
  for (let n = 1; n <= total; n++) {
    await inner.publish({
      blueprintId: `bulk-${n}`,
      document,
      publishedAt: 1_700_000_000_000 + n,
      publishedBy: "bulk-loader",
      metadata: {},
      publicationTransactionId: `tx-${n}`,
    });
  }
  const store = new WrappedStore(inner);
  await using hub = await startTestHub({ dataDir: dir.path, store });
  using channel = hub.channel();
  store.entriesRead = 0; // the start-up scan read everything once

  const entries = syncClient(channel).fullSync({ peerId: "slow-peer" })[Symbol.asyncIterator]();
  assert.equal((await entries.next()).value?.version, 1n);
  // The client pauses. Wait until the hub stops reading (two looks in a row agree).
  let last = -1;
  await hubStopsReading(() => {
    const held = store.entriesRead === last;
    last = store.entriesRead;
    return held;
  });
  const readWhilePaused = store.entriesRead;
  assert.ok(
    readWhilePaused < total / 5,
    `the hub read ${readWhilePaused} of ${total + 1} entries for a client that took 1`,
  );

  // Reading on gets everything, in order.
  let expected = 2n;
  for (let next = await entries.next(); !next.done; next = await entries.next()) {
    assert.equal(next.value.version, expected++);
  }
  assert.equal(expected, BigInt(total + 2));
  assert.equal(store.entriesRead, total + 1);
});

/** Polls `settled` every 50 ms until it holds (at most 10 s). */
async function hubStopsReading(settled: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!settled()) {
    if (Date.now() > deadline) throw new Error("the hub kept reading for 10 s");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

Deno.test("a store failure mid-stream ends the stream with UNAVAILABLE saying how far it got", async () => {
  await using dir = await tempDataDir();
  const store = new WrappedStore(openDataDirStore(dir.path));
  // No entry cache: every stream reads the store.
  await using hub = await startTestHub({ dataDir: dir.path, store, syncCacheMegabytes: 0 });
  using channel = hub.channel();
  const client = syncClient(channel);
  for (let n = 0; n < 12; n++) await publishBlueprint(hub, `bp-${n}`); // 2..13

  // The store fails after 5 entries, once the client has read them.
  const gate = Promise.withResolvers<void>();
  store.gate = gate.promise;
  store.gateAfter = 5;
  store.failAfter = 5;
  const full = client.fullSync({ peerId: "peer-1" })[Symbol.asyncIterator]();
  const received: number[] = [];
  for (let n = 0; n < 5; n++) received.push(Number((await full.next()).value?.version));
  assert.deepEqual(received, [1, 2, 3, 4, 5]);
  gate.resolve();
  const failure = await rejectsWithCode(
    full.next(),
    "unavailable",
    /^Cannot full-sync peer "peer-1": the stream stopped after version 5 \(5 entries sent\) because the store failed: .*injected/,
  );
  assert.match(failure.message, /sync again from the last version received/);
  assert.deepEqual(failure.details, { lastVersionSent: 5 });

  // Failing at once: grpc-js drops the messages a client has not read yet
  // when the call fails, so the client may get fewer than were sent, but
  // always in order and always with the error.
  store.gate = undefined;
  const incremental: SystemRegisterEntry[] = [];
  const error = await rejectsWithCode(
    (async () => {
      const stream = client.incrementalSync({ peerId: "peer-1", lastKnownVersion: 3n });
      for await (const entry of stream) incremental.push(entry);
    })(),
    "unavailable",
    /stopped after version 8 \(5 entries sent\) because the store failed/,
  );
  assert.deepEqual(error.details, { lastVersionSent: 8 });
  assert.deepEqual(versions(incremental), [4, 5, 6, 7, 8].slice(0, incremental.length));

  // Once the store works again, the client resumes from the last version it received.
  store.failAfter = undefined;
  const from = incremental.at(-1)?.version ?? 3n;
  const rest = await collect(client.incrementalSync({ peerId: "peer-1", lastKnownVersion: from }));
  assert.deepEqual(
    [...versions(incremental), ...versions(rest)],
    [4, 5, 6, 7, 8, 9, 10, 11, 12, 13],
  );
});

Deno.test("a register found corrupt answers FullSync, IncrementalSync and Subscribe with FAILED_PRECONDITION naming the entry, and is not ready", async () => {
  await using dir = await tempDataDir();
  const store = openDataDirStore(dir.path);
  await using hub = await startTestHub({ dataDir: dir.path, store });
  using channel = hub.channel();
  await publishBlueprint(hub, "bp-a"); // 2
  await publishBlueprint(hub, "bp-b"); // 3
  const client = syncClient(channel);
  assert.equal((await collect(client.fullSync({ peerId: "peer-1" }))).length, 3);
  assert.equal((await hub.app.request("/readyz")).status, 200);
  await using subscription = new Subscription(channel, { peerId: "peer-2" });
  await subscription.subscribed();

  store.execForTest(
    "UPDATE blueprints SET document = ? WHERE version = 2",
    new TextEncoder().encode('{"tampered":true}'),
  );
  const state = await hub.register.checkIntegrity();
  assert.equal(state.ok, false);

  const naming = /corrupt at version 2 \(blueprint "bp-a"\): its document does not match/;
  // A subscription open at the time ends, naming the entry.
  await subscription.finished();
  assert.ok(subscription.error instanceof AppError);
  assert.equal(subscription.error.code, "failed_precondition");
  assert.match(subscription.error.message, /^Subscription ended: the system register is corrupt/);
  assert.match(subscription.error.message, naming);
  const full = await rejectsWithCode(
    collect(client.fullSync({ peerId: "peer-1" })),
    "failed_precondition",
    naming,
  );
  assert.deepEqual(full.details, { version: 2, blueprintId: "bp-a" });
  await rejectsWithCode(
    collect(client.incrementalSync({ peerId: "peer-1", lastKnownVersion: 2n })),
    "failed_precondition",
    naming,
  );
  await rejectsWithCode(
    collect(client.subscribeToPushNotifications({ peerId: "peer-1" })),
    "failed_precondition",
    naming,
  );

  const ready = await hub.app.request("/readyz");
  assert.equal(ready.status, 503);
  const body = await ready.json();
  assert.equal(body.status, "not ready");
  assert.match(JSON.stringify(body), /bp-a/);
});

Deno.test("a hub started on a register altered while it was down refuses to sync it, naming the entry", async () => {
  await using dir = await tempDataDir();
  {
    await using first = await startTestHub({ dataDir: dir.path });
    await publishBlueprint(first, "bp-a"); // 2
    await publishBlueprint(first, "bp-b"); // 3
    await publishBlueprint(first, "bp-c"); // 4
  }
  const store = openDataDirStore(dir.path);
  store.execForTest("UPDATE blueprints SET published_by = 'mallory' WHERE version = 3");
  await store.close();

  await using hub = await startTestHub({ dataDir: dir.path });
  using channel = hub.channel();
  assert.equal(hub.register.integrity.ok, false);
  await rejectsWithCode(
    collect(syncClient(channel).fullSync({ peerId: "peer-1" })),
    "failed_precondition",
    /corrupt at version 3 \(blueprint "bp-b"\): its chain hash does not follow/,
  );
  assert.equal((await hub.app.request("/readyz")).status, 503);
});

Deno.test("sync streams of one peer are bounded by maxConcurrentSyncs; other peers are unaffected", async () => {
  await using dir = await tempDataDir();
  const store = new WrappedStore(openDataDirStore(dir.path));
  await using hub = await startTestHub({ dataDir: dir.path, store, maxConcurrentSyncs: 2 });
  using channel = hub.channel();
  const client = syncClient(channel);
  await publishBlueprint(hub, "bp-a"); // 2
  await publishBlueprint(hub, "bp-b"); // 3

  // Streams stay open past their first entry until the gate opens.
  const gate = Promise.withResolvers<void>();
  store.gate = gate.promise;
  store.gateAfter = 1;
  const streams: AsyncIterator<SystemRegisterEntry>[] = [];
  try {
    for (const peerId of ["peer-1", "peer-1"]) {
      const stream = client.fullSync({ peerId })[Symbol.asyncIterator]();
      streams.push(stream);
      assert.equal((await stream.next()).value?.version, 1n);
    }
    await rejectsWithCode(
      client.incrementalSync({ peerId: "peer-1" })[Symbol.asyncIterator]().next(),
      "resource_exhausted",
      /^Cannot incrementally sync peer "peer-1": it already has 2 sync streams open \(at most 2 at once\)/,
    );
    await rejectsWithCode(
      collect(client.fullSync({ peerId: "peer-1" })),
      "resource_exhausted",
      /already has 2 sync streams open/,
    );
    // Another peer syncs meanwhile.
    const other = client.fullSync({ peerId: "peer-2" })[Symbol.asyncIterator]();
    streams.push(other);
    assert.equal((await other.next()).value?.version, 1n);
  } finally {
    gate.resolve();
  }
  for (const stream of streams) {
    const rest: number[] = [];
    for (let next = await stream.next(); !next.done; next = await stream.next()) {
      rest.push(Number(next.value.version));
    }
    assert.deepEqual(rest, [2, 3]);
  }
  // The slots were given back.
  store.gate = undefined;
  const again = await Promise.all([
    collect(client.fullSync({ peerId: "peer-1" })),
    collect(client.fullSync({ peerId: "peer-1" })),
  ]);
  assert.deepEqual(again.map((entries) => entries.length), [3, 3]);
});

Deno.test("GetSyncCheckpoint reports the version, the blueprints and the hub, UP_TO_DATE after a full sync and BEHIND after a publication", async () => {
  await using hub = await startTestHub({ hubId: "hub-cp" });
  using channel = hub.channel();
  const client = syncClient(channel);
  await publishBlueprint(hub, "bp-a"); // 2
  await publishBlueprint(hub, "bp-b"); // 3
  await publishBlueprint(hub, "bp-a", { revision: 2 }); // 4

  const before = await client.getSyncCheckpoint({ peerId: "peer-1" });
  assert.equal(before.peerId, "peer-1");
  assert.equal(before.status, CheckpointStatus.BEHIND);

  await collect(client.fullSync({ peerId: "peer-1" }));
  const synced = await client.getSyncCheckpoint({ peerId: "peer-1" });
  assert.equal(synced.currentVersion, 4n);
  assert.equal(synced.totalBlueprints, 3);
  assert.equal(synced.centralNodeId, "hub-cp");
  assert.equal(synced.status, CheckpointStatus.UP_TO_DATE);
  assert.ok(synced.lastSyncTime > 0n);
  assert.ok(synced.nextSyncDue > synced.lastSyncTime);

  await publishBlueprint(hub, "bp-c"); // 5
  const behind = await client.getSyncCheckpoint({ peerId: "peer-1" });
  assert.equal(behind.currentVersion, 5n);
  assert.equal(behind.totalBlueprints, 4);
  assert.equal(behind.status, CheckpointStatus.BEHIND);

  await collect(client.incrementalSync({ peerId: "peer-1", lastKnownVersion: 4n }));
  const caughtUp = await client.getSyncCheckpoint({ peerId: "peer-1" });
  assert.equal(caughtUp.status, CheckpointStatus.UP_TO_DATE);

  // A sync cut short by max_blueprints leaves the peer behind.
  await collect(client.fullSync({ peerId: "peer-2", maxBlueprints: 2 }));
  const partial = await client.getSyncCheckpoint({ peerId: "peer-2" });
  assert.equal(partial.status, CheckpointStatus.BEHIND);
});

Deno.test("a warm hub serves syncs from its entry cache without reading the store, and keeps up with re-publications", async () => {
  await using dir = await tempDataDir();
  const store = new WrappedStore(openDataDirStore(dir.path));
  await using hub = await startTestHub({ dataDir: dir.path, store });
  using channel = hub.channel();
  const client = syncClient(channel);
  for (let n = 0; n < 6; n++) await publishBlueprint(hub, `bp-${n}`); // 2..7
  store.entriesRead = 0;
  const cold = await collect(client.fullSync({ peerId: "peer-1" }));
  assert.deepEqual(versions(cold), [1, 2, 3, 4, 5, 6, 7]);
  assert.equal(store.entriesRead, 7, "the first sync reads the store");

  store.entriesRead = 0;
  const warm = await collect(client.fullSync({ peerId: "peer-1" }));
  assert.deepEqual(warm, cold);
  assert.equal(store.entriesRead, 0, "a warm sync reads nothing from the store");

  await publishBlueprint(hub, "bp-2", { revision: 2 }); // 8 supersedes 4
  store.entriesRead = 0;
  const after = await collect(client.fullSync({ peerId: "peer-1" }));
  assert.deepEqual(versions(after), [1, 2, 3, 5, 6, 7, 8]);
  assert.equal(store.entriesRead, 1, "only the new entry is read");
  assert.deepEqual(
    versions(await collect(client.incrementalSync({ peerId: "peer-1", lastKnownVersion: 4n }))),
    [5, 6, 7, 8],
  );
});
