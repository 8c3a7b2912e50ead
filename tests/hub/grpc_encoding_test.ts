/**
 * Entries and notifications encoded straight to bytes (`hub/grpc/encoding.ts`)
 * are the bytes protobuf-es gives for the messages of `hub/grpc/messages.ts`.
 */
import assert from "node:assert/strict";
import { create, type DescMessage, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  BlueprintNotificationSchema,
  NotificationType,
  SystemRegisterEntrySchema,
} from "../../gen/sorcha/peer/v1/system_register_sync_pb.ts";
import { entryBytes, notificationBytes, withActiveSetDigest } from "../../hub/grpc/encoding.ts";
import { entryMessage, notificationMessage } from "../../hub/grpc/messages.ts";
import type { Frame } from "../../hub/notifications/broadcaster.ts";
import type { BlueprintEvent } from "../../hub/notifications/events.ts";
import type { BlueprintEntry } from "../../hub/system_register/types.ts";

const encoder = new TextEncoder();

function entry(overrides: Partial<BlueprintEntry> = {}): BlueprintEntry {
  return {
    blueprintId: "land-title-transfer",
    document: encoder.encode(JSON.stringify({ title: "Land title transfer", actions: [] })),
    publishedAt: Date.UTC(2026, 0, 1),
    publishedBy: "operator",
    version: 42,
    isActive: true,
    publicationTransactionId: "0b8f5d1e-8a51-4b55-9d3c-2f4f1c1e9b11",
    checksum: `sha256:${"ab".repeat(32)}`,
    metadata: {},
    chainHash: `sha256:${"cd".repeat(32)}`,
    ...overrides,
  };
}

function protobufEs<S extends DescMessage>(schema: S, init: MessageInitShape<S>): Uint8Array {
  return toBinary(schema, create(schema, init));
}

const entries: BlueprintEntry[] = [
  entry(),
  entry({ metadata: { kind: "genesis", team: "registry" } }),
  entry({ isActive: false, version: 1, publishedBy: "" }),
  entry({ document: new Uint8Array(), blueprintId: "b", metadata: { "": "" } }),
  entry({ blueprintId: "plan-cadastral-é-ü-日本-🚀", publishedBy: "opérateur ✓".repeat(40) }),
  entry({ version: Number.MAX_SAFE_INTEGER, publishedAt: 0, publicationTransactionId: "" }),
  entry({
    document: encoder.encode(
      JSON.stringify({ title: "T".repeat(300), description: "d".repeat(5000) }),
    ),
  }),
  entry({ document: new Uint8Array(300 * 1024).fill(120) }),
];

Deno.test("an entry's bytes are protobuf-es's bytes of its message", () => {
  for (const value of entries) {
    assert.deepEqual(entryBytes(value), protobufEs(SystemRegisterEntrySchema, entryMessage(value)));
  }
});

Deno.test("entries of more than a mebibyte, and the entries after them, encode alike", () => {
  const large = entry({ document: new Uint8Array(2 * 1024 * 1024 + 7).fill(32) });
  assert.deepEqual(entryBytes(large), protobufEs(SystemRegisterEntrySchema, entryMessage(large)));
  const small = entry({ metadata: { after: "large" } });
  assert.deepEqual(entryBytes(small), protobufEs(SystemRegisterEntrySchema, entryMessage(small)));
});

Deno.test("a withheld entry's bytes are protobuf-es's bytes of its message without the document", () => {
  for (const value of entries) {
    assert.deepEqual(
      entryBytes(value, { withheld: true }),
      protobufEs(SystemRegisterEntrySchema, entryMessage(value, { withheld: true })),
    );
  }
  const large = entry({ document: new Uint8Array(2 * 1024 * 1024).fill(32) });
  const decoded = fromBinary(SystemRegisterEntrySchema, entryBytes(large, { withheld: true }));
  assert.deepEqual(decoded.blueprintDocument, new Uint8Array(0));
  assert.equal(decoded.documentWithheld, true);
  assert.equal(decoded.documentSize, 2n * 1024n * 1024n);
  assert.equal(decoded.checksum, large.checksum);
  // Entries sent in full say nothing of withholding: their bytes are as before.
  assert.equal(fromBinary(SystemRegisterEntrySchema, entryBytes(large)).documentSize, 0n);
});

Deno.test("an entry's bytes with the active set's digest appended are protobuf-es's bytes of its message with the digest", () => {
  const digest = `sum-sha256:${"9a".repeat(32)}`;
  for (const value of entries) {
    const plain = entryBytes(value);
    const kept = plain.slice();
    assert.deepEqual(
      withActiveSetDigest(plain, digest),
      protobufEs(SystemRegisterEntrySchema, entryMessage(value, { activeSetDigest: digest })),
    );
    assert.deepEqual(plain, kept, "the entry's own bytes are left as they were");
    assert.deepEqual(
      withActiveSetDigest(entryBytes(value, { withheld: true }), digest),
      protobufEs(
        SystemRegisterEntrySchema,
        entryMessage(value, { withheld: true, activeSetDigest: digest }),
      ),
    );
  }
});

Deno.test("an entry's bytes decode to its message", () => {
  const value = entry({ metadata: { kind: "genesis" } });
  const decoded = fromBinary(SystemRegisterEntrySchema, entryBytes(value));
  assert.equal(decoded.blueprintId, value.blueprintId);
  assert.equal(decoded.version, 42n);
  assert.equal(decoded.isActive, true);
  assert.deepEqual(decoded.metadata, { kind: "genesis" });
  assert.deepEqual(decoded.blueprintDocument, value.document);
});

Deno.test("a notification's bytes are protobuf-es's bytes of its message", () => {
  const now = Date.UTC(2026, 5, 1);
  const frames: Frame[] = [
    { kind: "keepalive", version: 0 },
    { kind: "keepalive", version: 10_001 },
  ];
  for (const value of entries) {
    for (const kind of ["published", "updated", "deprecated"] as const) {
      frames.push({ kind: "event", event: { entry: value, kind }, sequence: 1 });
    }
  }
  for (const frame of frames) {
    assert.deepEqual(
      notificationBytes(frame, now),
      protobufEs(BlueprintNotificationSchema, notificationMessage(frame, now)),
    );
  }
});

Deno.test("subscribers of one event share its fields and keep their own sequence numbers", () => {
  const event: BlueprintEvent = { entry: entry(), kind: "updated" };
  for (const sequence of [1, 2, 127, 128, 1_000_000]) {
    const frame: Frame = { kind: "event", event, sequence };
    const bytes = notificationBytes(frame, 0);
    assert.deepEqual(bytes, protobufEs(BlueprintNotificationSchema, notificationMessage(frame, 0)));
    const decoded = fromBinary(BlueprintNotificationSchema, bytes);
    assert.equal(decoded.sequenceNumber, BigInt(sequence));
    assert.equal(decoded.type, NotificationType.BLUEPRINT_UPDATED);
    assert.equal(decoded.blueprintId, "land-title-transfer");
  }
});

Deno.test("a failed encoding leaves the next one intact", () => {
  assert.throws(() => entryBytes(entry({ version: 1.5 })));
  assert.deepEqual(
    entryBytes(entry()),
    protobufEs(SystemRegisterEntrySchema, entryMessage(entry())),
  );
});

Deno.test("a notification carries its publication's traceparent after its sequence number", () => {
  const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  const event: BlueprintEvent = { entry: entry(), kind: "published", traceparent };
  const frame: Frame = { kind: "event", event, sequence: 3 };
  const bytes = notificationBytes(frame, 0);
  assert.deepEqual(bytes, protobufEs(BlueprintNotificationSchema, notificationMessage(frame, 0)));
  const decoded = fromBinary(BlueprintNotificationSchema, bytes);
  assert.equal(decoded.traceparent, traceparent);
  assert.equal(decoded.sequenceNumber, 3n);
  const untraced = fromBinary(
    BlueprintNotificationSchema,
    notificationBytes(
      { kind: "event", event: { entry: entry(), kind: "published" }, sequence: 1 },
      0,
    ),
  );
  assert.equal(untraced.traceparent, "");
});
