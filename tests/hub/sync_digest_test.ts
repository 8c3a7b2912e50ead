/**
 * What a peer compares to know it holds the hub's register: the active
 * set's digest on the last entry of a complete sync stream and in
 * GetSyncCheckpoint (now, at an older version, above the hub's), and the
 * genesis checksum (the network's identity) in ConnectToCentralNode and
 * GetSyncCheckpoint, the same from hubs sharing a store and different from
 * a hub on another register.
 */
import assert from "node:assert/strict";
import { CentralNodeConnection } from "../../gen/sorcha/peer/v1/central_node_connection_pb.ts";
import {
  type SystemRegisterEntry,
  SystemRegisterSync,
} from "../../gen/sorcha/peer/v1/system_register_sync_pb.ts";
import { systemRegisterEntryDecoder } from "../../shared/contracts/system_register_entry_decoder.ts";
import { digestOf } from "../../shared/contracts/active_set_digest.ts";
import { createClient, type GrpcChannel } from "../../shared/grpc/mod.ts";
import {
  collect,
  publishBlueprint,
  rejectsWithCode,
  startTestHub,
  syncClient,
  tempDataDir,
  type TestHub,
} from "./hub_fixture.ts";

/** The digest of entries as the peer computes it from what it received. */
function digestOfEntries(entries: SystemRegisterEntry[]): string {
  return digestOf(entries.map((e) => ({
    blueprintId: e.blueprintId,
    version: Number(e.version),
    checksum: e.checksum,
  })));
}

/** The digests the entries of one stream carry, "" for none. */
function digests(entries: SystemRegisterEntry[]): string[] {
  return entries.map((e) => e.activeSetDigest);
}

/** The chain hash of the register's entry with version 1, read from the hub's store. */
async function storedGenesisChainHash(hub: TestHub): Promise<string> {
  for await (const entry of hub.register.store.entries({ limit: 1 })) return entry.chainHash;
  throw new Error("the register is empty");
}

/** Publishes bp-a, bp-b, bp-a again, bp-c: versions 2 to 5, active 1, 3, 4, 5. */
async function publishFour(hub: TestHub): Promise<void> {
  await publishBlueprint(hub, "bp-a"); // 2
  await publishBlueprint(hub, "bp-b"); // 3
  await publishBlueprint(hub, "bp-a", { revision: 2 }); // 4, supersedes 2
  await publishBlueprint(hub, "bp-c"); // 5
}

function connectionClient(channel: GrpcChannel) {
  return createClient(CentralNodeConnection, channel);
}

Deno.test("the last entry of a full sync carries the digest of the entries the sync sent, and no other entry carries one", async () => {
  await using hub = await startTestHub();
  using channel = hub.channel();
  await publishFour(hub);

  const entries = await collect(syncClient(channel).fullSync({ peerId: "peer-1" }));

  assert.deepEqual(entries.map((e) => Number(e.version)), [1, 3, 4, 5]);
  assert.match(entries.at(-1)!.activeSetDigest, /^sum-sha256:[0-9a-f]{64}$/);
  assert.deepEqual(digests(entries), ["", "", "", digestOfEntries(entries)]);
  // The hand-written decoder reads the same.
  const decoding = createClient(SystemRegisterSync, channel, {
    decoders: [systemRegisterEntryDecoder],
  });
  assert.deepEqual(await collect(decoding.fullSync({ peerId: "peer-1" })), entries);
});

Deno.test("the entry cache never keeps a stream's digest: an entry last in one sync comes without it in the next", async () => {
  await using hub = await startTestHub();
  using channel = hub.channel();
  const client = syncClient(channel);
  await publishBlueprint(hub, "bp-a"); // 2
  const first = await collect(client.fullSync({ peerId: "peer-1" }));
  assert.deepEqual(digests(first), ["", digestOfEntries(first)]);

  await publishBlueprint(hub, "bp-b"); // 3
  const second = await collect(client.fullSync({ peerId: "peer-1" })); // 1 and 2 from the cache

  assert.deepEqual(second.map((e) => Number(e.version)), [1, 2, 3]);
  assert.deepEqual(digests(second), ["", "", digestOfEntries(second)]);
  assert.notEqual(second.at(-1)!.activeSetDigest, first.at(-1)!.activeSetDigest);
});

Deno.test("an incremental sync's last entry carries the digest of the whole active set, not of the entries it sent", async () => {
  await using hub = await startTestHub();
  using channel = hub.channel();
  const client = syncClient(channel);
  await publishFour(hub);
  const before = await collect(client.fullSync({ peerId: "peer-1" }));
  await publishBlueprint(hub, "bp-b", { revision: 2 }); // 6, supersedes 3
  await publishBlueprint(hub, "bp-d"); // 7

  const update = await collect(client.incrementalSync({ peerId: "peer-1", lastKnownVersion: 5n }));

  assert.deepEqual(update.map((e) => Number(e.version)), [6, 7]);
  const whole = await collect(client.fullSync({ peerId: "peer-1" }));
  assert.deepEqual(whole.map((e) => Number(e.version)), [1, 4, 5, 6, 7]);
  assert.deepEqual(digests(update), ["", digestOfEntries(whole)]);
  // What the peer holds after applying the update has that digest.
  const held = new Map(before.map((e) => [e.blueprintId, e]));
  for (const e of update) held.set(e.blueprintId, e);
  assert.equal(digestOfEntries([...held.values()]), update.at(-1)!.activeSetDigest);
  // Nothing new: no entry, so no digest.
  assert.deepEqual(
    await collect(client.incrementalSync({ peerId: "peer-1", lastKnownVersion: 7n })),
    [],
  );
});

Deno.test("a stream cut short by max_blueprints carries no digest; the page that ends the register does", async () => {
  await using hub = await startTestHub();
  using channel = hub.channel();
  const client = syncClient(channel);
  await publishFour(hub); // active 1, 3, 4, 5

  const cut = await collect(client.fullSync({ peerId: "peer-1", maxBlueprints: 3 }));
  assert.deepEqual(cut.map((e) => Number(e.version)), [1, 3, 4]);
  assert.deepEqual(digests(cut), ["", "", ""]);

  const rest = await collect(
    client.incrementalSync({ peerId: "peer-1", lastKnownVersion: 4n, maxBlueprints: 3 }),
  );
  assert.deepEqual(rest.map((e) => Number(e.version)), [5]);
  assert.deepEqual(digests(rest), [digestOfEntries([...cut, ...rest])]);

  // A limit the stream does not reach leaves it complete.
  const exact = await collect(client.fullSync({ peerId: "peer-1", maxBlueprints: 4 }));
  assert.equal(exact.at(-1)!.activeSetDigest, digestOfEntries(exact));
});

Deno.test("GetSyncCheckpoint describes the active set at the hub's current version when digest_version is 0", async () => {
  await using hub = await startTestHub();
  using channel = hub.channel();
  const client = syncClient(channel);
  await publishFour(hub);
  const entries = await collect(client.fullSync({ peerId: "peer-1" }));

  const checkpoint = await client.getSyncCheckpoint({ peerId: "peer-1" });

  assert.equal(checkpoint.activeSetDigest, digestOfEntries(entries));
  assert.equal(checkpoint.activeSetDigest, entries.at(-1)!.activeSetDigest);
  assert.equal(checkpoint.digestVersion, 5n);
  assert.equal(checkpoint.digestBlueprints, 4);
  assert.equal(checkpoint.genesisChecksum, await storedGenesisChainHash(hub));
  assert.match(checkpoint.genesisChecksum, /^sha256:[0-9a-f]{64}$/);
  const named = await client.getSyncCheckpoint({ peerId: "peer-1", digestVersion: 5n });
  assert.deepEqual(
    [named.activeSetDigest, named.digestVersion, named.digestBlueprints],
    [checkpoint.activeSetDigest, 5n, 4],
  );
});

Deno.test("GetSyncCheckpoint at an older version it remembers gives the digest of what the active set was then", async () => {
  await using hub = await startTestHub();
  using channel = hub.channel();
  const client = syncClient(channel);
  await publishBlueprint(hub, "bp-a"); // 2
  await publishBlueprint(hub, "bp-b"); // 3
  const then = await collect(client.fullSync({ peerId: "peer-1" }));
  await publishBlueprint(hub, "bp-a", { revision: 2 }); // 4
  await publishBlueprint(hub, "bp-c"); // 5

  const older = await client.getSyncCheckpoint({ peerId: "peer-1", digestVersion: 3n });

  assert.equal(older.activeSetDigest, digestOfEntries(then));
  assert.equal(older.digestVersion, 3n);
  assert.equal(older.digestBlueprints, 3);
  assert.equal(older.currentVersion, 5n);
  const now = await client.getSyncCheckpoint({ peerId: "peer-1" });
  assert.equal(now.digestVersion, 5n);
  assert.notEqual(now.activeSetDigest, older.activeSetDigest);
});

Deno.test("GetSyncCheckpoint above the hub's version answers an empty digest for the version asked", async () => {
  await using hub = await startTestHub();
  using channel = hub.channel();
  await publishBlueprint(hub, "bp-a"); // 2

  const ahead = await syncClient(channel).getSyncCheckpoint({
    peerId: "peer-1",
    digestVersion: 9n,
  });

  assert.equal(ahead.activeSetDigest, "");
  assert.equal(ahead.digestVersion, 9n);
  assert.equal(ahead.digestBlueprints, 0);
  assert.equal(ahead.currentVersion, 2n);
  assert.notEqual(ahead.genesisChecksum, "");
});

Deno.test("a negative digest_version is refused with INVALID_ARGUMENT naming the field", async () => {
  await using hub = await startTestHub();
  using channel = hub.channel();
  await rejectsWithCode(
    syncClient(channel).getSyncCheckpoint({ peerId: "peer-1", digestVersion: -1n }),
    "invalid_argument",
    /^Cannot report the sync checkpoint of peer "peer-1": digest_version must not be negative/,
  );
});

Deno.test("ConnectToCentralNode answers the genesis checksum: the chain hash of version 1", async () => {
  await using hub = await startTestHub();
  using channel = hub.channel();
  await publishBlueprint(hub, "bp-a");

  const connected = await connectionClient(channel).connectToCentralNode({ peerId: "peer-1" });

  assert.equal(connected.genesisChecksum, await storedGenesisChainHash(hub));
  assert.equal(connected.genesisChecksum, hub.register.genesisChecksum);
});

Deno.test("hubs sharing one store answer the same genesis checksum and the same digest; a hub on another register another checksum", async () => {
  await using dir = await tempDataDir();
  await using a = await startTestHub({ hubId: "hub-a", dataDir: dir.path });
  await using b = await startTestHub({ hubId: "hub-b", dataDir: dir.path });
  await using other = await startTestHub({ hubId: "hub-other" });
  using channelA = a.channel();
  using channelB = b.channel();
  using channelOther = other.channel();
  await publishBlueprint(a, "bp-a"); // 2, on hub A
  await publishBlueprint(b, "bp-b"); // 3, on hub B
  await publishBlueprint(a, "bp-a", { revision: 2 }); // 4, on hub A

  const checkpointA = await syncClient(channelA).getSyncCheckpoint({ peerId: "peer-1" });
  const checkpointB = await syncClient(channelB).getSyncCheckpoint({ peerId: "peer-1" });
  const connect = (channel: GrpcChannel) =>
    connectionClient(channel).connectToCentralNode({ peerId: "peer-1" });
  const connectA = await connect(channelA);
  const connectB = await connect(channelB);
  const connectOther = await connect(channelOther);

  const entries = await collect(syncClient(channelB).fullSync({ peerId: "peer-1" }));
  assert.equal(checkpointA.activeSetDigest, digestOfEntries(entries));
  assert.equal(checkpointB.activeSetDigest, checkpointA.activeSetDigest);
  assert.deepEqual([checkpointA.digestVersion, checkpointB.digestVersion], [4n, 4n]);
  assert.equal(checkpointB.genesisChecksum, checkpointA.genesisChecksum);
  assert.equal(connectA.genesisChecksum, checkpointA.genesisChecksum);
  assert.equal(connectB.genesisChecksum, checkpointA.genesisChecksum);
  assert.match(connectOther.genesisChecksum, /^sha256:[0-9a-f]{64}$/);
  assert.notEqual(connectOther.genesisChecksum, connectA.genesisChecksum);
});
