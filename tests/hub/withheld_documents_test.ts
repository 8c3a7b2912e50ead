/**
 * The max_blueprint_size a peer announces when it connects: a sync sends
 * each larger document withheld (empty document, `document_withheld`,
 * `document_size`, the same checksum) and every other entry in full, so one
 * large blueprint never stops a peer's sync for good; a peer announcing
 * nothing, or 16 MiB, or without a session, gets every document.
 */
import assert from "node:assert/strict";
import { CentralNodeConnection } from "../../gen/sorcha/peer/v1/central_node_connection_pb.ts";
import type { SystemRegisterEntry } from "../../gen/sorcha/peer/v1/system_register_sync_pb.ts";
import { digestOf } from "../../shared/contracts/active_set_digest.ts";
import { createClient, type GrpcChannel } from "../../shared/grpc/mod.ts";
import {
  blueprintDocument,
  collect,
  publishBlueprint,
  sha256Checksum,
  startTestHub,
  syncClient,
  type TestHub,
} from "./hub_fixture.ts";

const MIB = 1024 * 1024;

/** A channel that takes messages of up to 20 MiB (grpc-js's default is 4 MiB). */
function largeChannel(hub: TestHub): GrpcChannel {
  return hub.channel({ channelOptions: { "grpc.max_receive_message_length": 20 * MIB } });
}

/** Connects `peerId`, announcing `maxBlueprintSize` when given. */
async function connect(
  channel: GrpcChannel,
  peerId: string,
  maxBlueprintSize?: number,
): Promise<void> {
  const capabilities = maxBlueprintSize === undefined ? {} : { maxBlueprintSize };
  const answer = await createClient(CentralNodeConnection, channel).connectToCentralNode({
    peerId,
    peerInfo: { address: "10.0.0.7", port: 5001, capabilities },
  });
  assert.equal(answer.success, true);
}

/** Publishes a 2 MiB blueprint (version 2) and two small ones after it (3, 4). */
async function publishLargeThenSmall(hub: TestHub): Promise<Uint8Array> {
  await publishBlueprint(hub, "large", { bytes: 2 * MIB });
  await publishBlueprint(hub, "after-1");
  await publishBlueprint(hub, "after-2");
  const document = blueprintDocument("large", { bytes: 2 * MIB });
  assert.ok(document.byteLength > 2 * MIB - 100 && document.byteLength < 2 * MIB + 100);
  return document;
}

function digestOfEntries(entries: SystemRegisterEntry[]): string {
  return digestOf(
    entries.map((e) => ({
      blueprintId: e.blueprintId,
      version: Number(e.version),
      checksum: e.checksum,
    })),
  );
}

Deno.test("a peer announcing 1 MiB gets a 2 MiB blueprint withheld, with its size and checksum, and the entries after it in full", async () => {
  await using hub = await startTestHub();
  using channel = hub.channel();
  const document = await publishLargeThenSmall(hub);
  await connect(channel, "small-peer", 1 * MIB);
  const client = syncClient(channel);

  const entries = await collect(client.fullSync({ peerId: "small-peer" }));

  assert.deepEqual(entries.map((e) => [e.blueprintId, Number(e.version)]), [
    ["register-creation-v1", 1],
    ["large", 2],
    ["after-1", 3],
    ["after-2", 4],
  ]);
  const large = entries[1]!;
  assert.equal(large.documentWithheld, true);
  assert.deepEqual(large.blueprintDocument, new Uint8Array(0));
  assert.equal(large.documentSize, BigInt(document.byteLength));
  assert.equal(large.checksum, sha256Checksum(document));
  assert.equal(large.isActive, true);
  assert.equal(large.publishedBy, "tester");
  for (const entry of [entries[0]!, ...entries.slice(2)]) {
    assert.equal(entry.documentWithheld, false);
    assert.equal(entry.documentSize, 0n);
    assert.equal(entry.checksum, sha256Checksum(entry.blueprintDocument));
  }
  assert.deepEqual(entries[2]!.blueprintDocument, blueprintDocument("after-1"));
  // The digest is over checksums: a withheld document counts as any other.
  assert.equal(entries.at(-1)!.activeSetDigest, digestOfEntries(entries));

  const incremental = await collect(
    client.incrementalSync({ peerId: "small-peer", lastKnownVersion: 1n }),
  );
  assert.deepEqual(incremental.map((e) => [Number(e.version), e.documentWithheld]), [
    [2, true],
    [3, false],
    [4, false],
  ]);
});

Deno.test("a peer announcing nothing, one announcing 16 MiB and one without a session get the 2 MiB document in full", async () => {
  await using hub = await startTestHub();
  using channel = largeChannel(hub);
  const document = await publishLargeThenSmall(hub);
  await connect(channel, "small-peer", 1 * MIB);
  await connect(channel, "default-peer");
  await connect(channel, "large-peer", 16 * MIB);
  const client = syncClient(channel);
  // First a sync that withholds it: a withheld entry is never cached for the others.
  const withheld = await collect(client.fullSync({ peerId: "small-peer" }));
  assert.equal(withheld[1]!.documentWithheld, true);

  for (const peerId of ["default-peer", "large-peer", "no-session-peer", "default-peer"]) {
    const entries = await collect(client.fullSync({ peerId }));
    const large = entries[1]!;
    assert.equal(large.blueprintId, "large");
    assert.equal(large.documentWithheld, false, `${peerId} gets the document`);
    assert.equal(large.documentSize, 0n);
    assert.deepEqual(large.blueprintDocument, document);
    assert.equal(large.checksum, sha256Checksum(document));
  }
  // And the small peer still gets it withheld once the full entry is cached.
  const again = await collect(client.fullSync({ peerId: "small-peer" }));
  assert.deepEqual(again, withheld);
});

Deno.test("a peer that connects again announcing a larger size gets the document it withheld before", async () => {
  await using hub = await startTestHub();
  using channel = largeChannel(hub);
  const document = await publishLargeThenSmall(hub);
  const client = syncClient(channel);

  await connect(channel, "peer-1", 1 * MIB);
  const before = await collect(client.incrementalSync({ peerId: "peer-1", lastKnownVersion: 1n }));
  assert.equal(before[0]!.documentWithheld, true);
  await connect(channel, "peer-1", 4 * MIB);
  const after = await collect(client.incrementalSync({ peerId: "peer-1", lastKnownVersion: 1n }));

  assert.equal(after[0]!.documentWithheld, false);
  assert.deepEqual(after[0]!.blueprintDocument, document);
});
