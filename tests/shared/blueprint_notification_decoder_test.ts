/**
 * The hand-written BlueprintNotification decoder gives what protobuf-es
 * gives, for every field, and hands messages it does not fully know to
 * protobuf-es.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import assert from "node:assert/strict";
import {
  BlueprintNotificationSchema,
  NotificationType,
} from "../../gen/sorcha/peer/v1/system_register_sync_pb.ts";
import {
  blueprintNotificationDecoder,
  decodeBlueprintNotification,
} from "../../shared/contracts/blueprint_notification_decoder.ts";
import { deserializer } from "../../shared/grpc/mod.ts";
import { Buffer } from "node:buffer";

const full = create(BlueprintNotificationSchema, {
  blueprintId: "blueprint-é-✓",
  version: 9_007_199_254_740_993n,
  publishedAt: 1_763_000_000_000n,
  publishedBy: "hub-1",
  blueprintSummary: new TextEncoder().encode('{"title":"x"}'),
  type: NotificationType.BLUEPRINT_UPDATED,
  checksum: "sha256:" + "ab".repeat(32),
  sequenceNumber: 42n,
  traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
});

Deno.test("the BlueprintNotification decoder gives what protobuf-es gives, every field set or left at its default", () => {
  const keepAlive = create(BlueprintNotificationSchema, { version: 7n, publishedAt: 1n });
  const unknownType = { ...full, type: 77 as NotificationType };
  for (const message of [full, keepAlive, create(BlueprintNotificationSchema), unknownType]) {
    const bytes = toBinary(BlueprintNotificationSchema, message);
    assert.deepEqual(
      decodeBlueprintNotification(bytes),
      fromBinary(BlueprintNotificationSchema, bytes),
    );
  }
});

Deno.test("the BlueprintNotification decoder hands a message with an unknown field to protobuf-es, which keeps it", () => {
  const bytes = new BinaryWriter()
    .raw(toBinary(BlueprintNotificationSchema, full))
    .tag(99, WireType.LengthDelimited).string("newer")
    .finish();
  const decoded = decodeBlueprintNotification(bytes);
  assert.deepEqual(decoded, fromBinary(BlueprintNotificationSchema, bytes));
  assert.deepEqual(toBinary(BlueprintNotificationSchema, decoded), bytes);
});

Deno.test("a field of an unexpected wire type is handed to protobuf-es by the BlueprintNotification decoder", () => {
  // Field 2 (version) as a length-delimited field: protobuf-es refuses it, and so does the decoder.
  const bytes = new BinaryWriter().tag(2, WireType.LengthDelimited).string("x").finish();
  assert.throws(() => fromBinary(BlueprintNotificationSchema, bytes));
  assert.throws(() => decodeBlueprintNotification(bytes));
});

Deno.test("a client deserializer of notifications uses the BlueprintNotification decoder when given", () => {
  const bytes = Buffer.from(toBinary(BlueprintNotificationSchema, full));
  assert.deepEqual(
    deserializer(BlueprintNotificationSchema, blueprintNotificationDecoder)(bytes),
    deserializer(BlueprintNotificationSchema)(bytes),
  );
});

Deno.test("malformed bytes are refused by the BlueprintNotification decoder as by protobuf-es", () => {
  const truncated = toBinary(BlueprintNotificationSchema, full).subarray(0, 20);
  assert.throws(() => fromBinary(BlueprintNotificationSchema, truncated));
  assert.throws(() => decodeBlueprintNotification(truncated));
});
