/**
 * The hand-written SystemRegisterEntry decoder gives what protobuf-es gives,
 * for every field, and hands messages it does not fully know to protobuf-es.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import assert from "node:assert/strict";
import { SystemRegisterEntrySchema } from "../../gen/sorcha/peer/v1/system_register_sync_pb.ts";
import {
  decodeSystemRegisterEntry,
  systemRegisterEntryDecoder,
} from "../../shared/contracts/system_register_entry_decoder.ts";
import { deserializer } from "../../shared/grpc/mod.ts";
import { Buffer } from "node:buffer";

const full = create(SystemRegisterEntrySchema, {
  blueprintId: "blueprint-é-✓",
  registerId: "00000000-0000-0000-0000-000000000000",
  blueprintDocument: new TextEncoder().encode('{"title":"x"}'),
  publishedAt: 1_763_000_000_000n,
  publishedBy: "hub-1",
  version: 9_007_199_254_740_993n,
  isActive: true,
  publicationTransactionId: "tx-1",
  checksum: "sha256:" + "ab".repeat(32),
  metadata: { team: "ops", "": "empty key", note: "" },
});

Deno.test("the SystemRegisterEntry decoder gives what protobuf-es gives, every field set or left at its default", () => {
  for (const message of [full, create(SystemRegisterEntrySchema), { ...full, isActive: false }]) {
    const bytes = toBinary(SystemRegisterEntrySchema, message);
    assert.deepEqual(
      decodeSystemRegisterEntry(bytes),
      fromBinary(SystemRegisterEntrySchema, bytes),
    );
  }
});

const withheld = create(SystemRegisterEntrySchema, {
  ...full,
  blueprintDocument: new Uint8Array(0),
  documentWithheld: true,
  documentSize: 5n * 1024n * 1024n,
  activeSetDigest: "sum-sha256:" + "0f".repeat(32),
});

Deno.test("the SystemRegisterEntry decoder gives what protobuf-es gives for a withheld document and a stream's active set digest", () => {
  const messages = [
    withheld,
    { ...withheld, activeSetDigest: "" },
    { ...full, activeSetDigest: withheld.activeSetDigest },
    { ...withheld, documentSize: 9_007_199_254_740_993n },
  ];
  for (const message of messages) {
    const bytes = toBinary(SystemRegisterEntrySchema, message);
    const decoded = decodeSystemRegisterEntry(bytes);
    assert.deepEqual(decoded, fromBinary(SystemRegisterEntrySchema, bytes));
    assert.equal(decoded.documentWithheld, message.documentWithheld);
    assert.equal(decoded.documentSize, message.documentSize);
    assert.equal(decoded.activeSetDigest, message.activeSetDigest);
  }
});

Deno.test("the SystemRegisterEntry decoder reads a digest appended after the other fields, as protobuf-es does", () => {
  const bytes = new BinaryWriter()
    .raw(toBinary(SystemRegisterEntrySchema, full))
    .tag(13, WireType.LengthDelimited).string(withheld.activeSetDigest)
    .finish();
  const decoded = decodeSystemRegisterEntry(bytes);
  assert.deepEqual(decoded, fromBinary(SystemRegisterEntrySchema, bytes));
  assert.deepEqual(decoded, { ...full, activeSetDigest: withheld.activeSetDigest });
});

Deno.test("the SystemRegisterEntry decoder hands a message with an unknown field to protobuf-es, which keeps it", () => {
  const bytes = new BinaryWriter()
    .raw(toBinary(SystemRegisterEntrySchema, full))
    .tag(99, WireType.Varint).uint32(7)
    .finish();
  const decoded = decodeSystemRegisterEntry(bytes);
  assert.deepEqual(decoded, fromBinary(SystemRegisterEntrySchema, bytes));
  assert.deepEqual(toBinary(SystemRegisterEntrySchema, decoded), bytes);
});

Deno.test("a client deserializer uses a decoder given for its type, and protobuf-es otherwise", () => {
  const bytes = Buffer.from(toBinary(SystemRegisterEntrySchema, full));
  assert.deepEqual(
    deserializer(SystemRegisterEntrySchema, systemRegisterEntryDecoder)(bytes),
    deserializer(SystemRegisterEntrySchema)(bytes),
  );
});

Deno.test("malformed bytes are refused by the SystemRegisterEntry decoder as by protobuf-es", () => {
  const truncated = toBinary(SystemRegisterEntrySchema, full).subarray(0, 20);
  assert.throws(() => fromBinary(SystemRegisterEntrySchema, truncated));
  assert.throws(() => decodeSystemRegisterEntry(truncated));
});
