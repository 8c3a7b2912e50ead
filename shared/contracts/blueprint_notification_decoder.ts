/**
 * BlueprintNotification decoded straight from its bytes, for subscribers
 * that take one per publication on each of many streams: protobuf-es's
 * reflective `fromBinary` costs several times more per message, and
 * allocates more for the collector to reclaim. The result is what
 * `fromBinary(BlueprintNotificationSchema, bytes)` gives (tests hold them
 * equal); a message with a field this decoder does not know (a newer
 * contract) or an unexpected wire type is handed to `fromBinary`, which keeps
 * unknown fields.
 *
 * Pass it to `createClient(SystemRegisterSync, channel, { decoders:
 * [blueprintNotificationDecoder] })`.
 *
 * @module
 */
import { fromBinary } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import {
  type BlueprintNotification,
  BlueprintNotificationSchema,
  NotificationType,
} from "../../gen/sorcha/peer/v1/system_register_sync_pb.ts";
import type { MessageDecoder } from "../grpc/mod.ts";

/** Decodes one BlueprintNotification; see the module documentation. */
export function decodeBlueprintNotification(bytes: Uint8Array): BlueprintNotification {
  const reader = new BinaryReader(bytes);
  const notification: BlueprintNotification = {
    $typeName: BlueprintNotificationSchema.typeName,
    blueprintId: "",
    version: 0n,
    publishedAt: 0n,
    publishedBy: "",
    blueprintSummary: new Uint8Array(0),
    type: NotificationType.UNKNOWN,
    checksum: "",
    sequenceNumber: 0n,
    traceparent: "",
  };
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    const delimited = wireType === WireType.LengthDelimited;
    const varint = wireType === WireType.Varint;
    if (field === 1 && delimited) notification.blueprintId = reader.string();
    else if (field === 2 && varint) notification.version = BigInt(reader.int64());
    else if (field === 3 && varint) notification.publishedAt = BigInt(reader.int64());
    else if (field === 4 && delimited) notification.publishedBy = reader.string();
    else if (field === 5 && delimited) notification.blueprintSummary = reader.bytes();
    else if (field === 6 && varint) notification.type = reader.int32();
    else if (field === 7 && delimited) notification.checksum = reader.string();
    else if (field === 8 && varint) notification.sequenceNumber = BigInt(reader.int64());
    else if (field === 9 && delimited) notification.traceparent = reader.string();
    else return fromBinary(BlueprintNotificationSchema, bytes);
  }
  return notification;
}

/** {@link decodeBlueprintNotification} as a decoder for `createClient`. */
export const blueprintNotificationDecoder: MessageDecoder<typeof BlueprintNotificationSchema> = {
  schema: BlueprintNotificationSchema,
  decode: decodeBlueprintNotification,
};
