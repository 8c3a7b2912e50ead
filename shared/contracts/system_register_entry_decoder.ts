/**
 * SystemRegisterEntry decoded straight from its bytes, for sync streams of
 * thousands of entries: protobuf-es's reflective `fromBinary` costs several
 * times more per entry, as much as the rest of a client's work. The result
 * is what `fromBinary(SystemRegisterEntrySchema, bytes)` gives (tests hold
 * them equal); a message with a field this decoder does not know (a newer
 * contract) or an unexpected wire type is handed to `fromBinary`, which keeps
 * unknown fields.
 *
 * Pass it to `createClient(SystemRegisterSync, channel, { decoders:
 * [systemRegisterEntryDecoder] })`.
 *
 * @module
 */
import { fromBinary } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import {
  type SystemRegisterEntry,
  SystemRegisterEntrySchema,
} from "../../gen/sorcha/peer/v1/system_register_sync_pb.ts";
import type { MessageDecoder } from "../grpc/mod.ts";

/** Decodes one SystemRegisterEntry; see the module documentation. */
export function decodeSystemRegisterEntry(bytes: Uint8Array): SystemRegisterEntry {
  const reader = new BinaryReader(bytes);
  const entry: SystemRegisterEntry = {
    $typeName: SystemRegisterEntrySchema.typeName,
    blueprintId: "",
    registerId: "",
    blueprintDocument: new Uint8Array(0),
    publishedAt: 0n,
    publishedBy: "",
    version: 0n,
    isActive: false,
    publicationTransactionId: "",
    checksum: "",
    metadata: {},
    documentWithheld: false,
    documentSize: 0n,
    activeSetDigest: "",
  };
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    const delimited = wireType === WireType.LengthDelimited;
    const varint = wireType === WireType.Varint;
    if (field === 1 && delimited) entry.blueprintId = reader.string();
    else if (field === 2 && delimited) entry.registerId = reader.string();
    else if (field === 3 && delimited) entry.blueprintDocument = reader.bytes();
    else if (field === 4 && varint) entry.publishedAt = BigInt(reader.int64());
    else if (field === 5 && delimited) entry.publishedBy = reader.string();
    else if (field === 6 && varint) entry.version = BigInt(reader.int64());
    else if (field === 7 && varint) entry.isActive = reader.bool();
    else if (field === 8 && delimited) entry.publicationTransactionId = reader.string();
    else if (field === 9 && delimited) entry.checksum = reader.string();
    else if (field === 10 && delimited) {
      const end = reader.uint32() + reader.pos;
      let key = "";
      let value = "";
      while (reader.pos < end) {
        const [mapField, mapWireType] = reader.tag();
        if (mapField === 1 && mapWireType === WireType.LengthDelimited) key = reader.string();
        else if (mapField === 2 && mapWireType === WireType.LengthDelimited) {
          value = reader.string();
        } else return fromBinary(SystemRegisterEntrySchema, bytes);
      }
      entry.metadata[key] = value;
    } else if (field === 11 && varint) entry.documentWithheld = reader.bool();
    else if (field === 12 && varint) entry.documentSize = BigInt(reader.int64());
    else if (field === 13 && delimited) entry.activeSetDigest = reader.string();
    else return fromBinary(SystemRegisterEntrySchema, bytes);
  }
  return entry;
}

/** {@link decodeSystemRegisterEntry} as a decoder for `createClient`. */
export const systemRegisterEntryDecoder: MessageDecoder<typeof SystemRegisterEntrySchema> = {
  schema: SystemRegisterEntrySchema,
  decode: decodeSystemRegisterEntry,
};
