/**
 * The two messages the hub streams by the thousand, encoded straight to
 * their bytes: register entries of the sync streams (thousands per full
 * sync) and notifications (one per subscriber per publication). protobuf-es's
 * reflective `create` and `toBinary` (a new, growing buffer per message)
 * would cost about as much as the rest of the server's work; here one
 * buffer is reused, and a notification's fields shared by all its subscribers
 * are encoded once per publication.
 *
 * The bytes are those protobuf-es gives for `entryMessage(entry)` and
 * `notificationMessage(frame, now)` of `messages.ts` (tests hold them
 * equal); streams yield them as they are (see `Encoded` in
 * `shared/grpc/response_writers.ts`).
 *
 * @module
 */
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import {
  BlueprintNotificationSchema,
  NotificationType,
  SystemRegisterEntrySchema,
} from "../../gen/sorcha/peer/v1/system_register_sync_pb.ts";
import { type Encoded, encoded } from "../../shared/grpc/mod.ts";
import type { Frame } from "../notifications/broadcaster.ts";
import {
  type BlueprintEvent,
  blueprintSummary,
  type NotificationKind,
} from "../notifications/events.ts";
import { type BlueprintEntry, SYSTEM_REGISTER_ID } from "../system_register/mod.ts";

/** Beyond this, a message's buffer is not kept for the next one. */
const KEEP_BUFFER_BYTES = 1024 * 1024;
let writer = new BinaryWriter();

/**
 * Runs `write` on the shared writer and returns what it wrote. Fields go in
 * number order, each left out at its default value (proto3), as protobuf-es
 * writes them.
 */
function encode(write: (w: BinaryWriter) => void): Uint8Array {
  let bytes: Uint8Array;
  try {
    write(writer);
    bytes = writer.finish();
  } catch (error) {
    writer = new BinaryWriter(); // left mid-message
    throw error;
  }
  if (bytes.byteLength > KEEP_BUFFER_BYTES) writer = new BinaryWriter();
  return bytes;
}

function string(w: BinaryWriter, field: number, value: string): void {
  if (value !== "") w.tag(field, WireType.LengthDelimited).string(value);
}

function bytes(w: BinaryWriter, field: number, value: Uint8Array): void {
  if (value.byteLength > 0) w.tag(field, WireType.LengthDelimited).bytes(value);
}

function varint64(w: BinaryWriter, field: number, value: number): void {
  if (value !== 0) w.tag(field, WireType.Varint).int64(value);
}

/** Options of {@link entryBytes}. */
export interface EntryBytesOptions {
  /**
   * Leave the document out (it is larger than the peer takes): an empty
   * `blueprint_document`, `document_withheld` true and `document_size` its
   * size; every other field as usual (the same checksum).
   */
  withheld?: boolean;
}

/** `entry` as an encoded SystemRegisterEntry (contracts.md §1); see {@link EntryBytesOptions}. */
export function entryBytes(
  entry: BlueprintEntry,
  options: EntryBytesOptions = {},
): Encoded<typeof SystemRegisterEntrySchema> {
  const withheld = options.withheld === true;
  return encoded(
    SystemRegisterEntrySchema,
    encode((w) => {
      string(w, 1, entry.blueprintId);
      string(w, 2, SYSTEM_REGISTER_ID);
      if (!withheld) bytes(w, 3, entry.document);
      varint64(w, 4, entry.publishedAt);
      string(w, 5, entry.publishedBy);
      varint64(w, 6, entry.version);
      if (entry.isActive) w.tag(7, WireType.Varint).bool(true);
      string(w, 8, entry.publicationTransactionId);
      string(w, 9, entry.checksum);
      for (const [key, value] of Object.entries(entry.metadata)) {
        w.tag(10, WireType.LengthDelimited).fork()
          .tag(1, WireType.LengthDelimited).string(key)
          .tag(2, WireType.LengthDelimited).string(value)
          .join();
      }
      if (withheld) {
        w.tag(11, WireType.Varint).bool(true);
        varint64(w, 12, entry.document.byteLength);
      }
    }),
  );
}

/**
 * An encoded SystemRegisterEntry with `active_set_digest` (13, its last
 * field) added: a copy of `entry` with the field appended, which decodes as
 * the same message with the field set (`entry` itself is left as it is, so
 * the bytes the entry cache holds never carry a stream's digest).
 */
export function withActiveSetDigest(
  entry: Encoded<typeof SystemRegisterEntrySchema>,
  digest: string,
): Encoded<typeof SystemRegisterEntrySchema> {
  return encoded(
    SystemRegisterEntrySchema,
    encode((w) => {
      w.raw(entry);
      string(w, 13, digest);
    }),
  );
}

const NOTIFICATION_TYPES: Readonly<Record<NotificationKind, NotificationType>> = {
  published: NotificationType.BLUEPRINT_PUBLISHED,
  updated: NotificationType.BLUEPRINT_UPDATED,
  deprecated: NotificationType.BLUEPRINT_DEPRECATED,
};

/** The fields of an event's notification before `sequence_number` (8), once per event. */
const eventFields = new WeakMap<BlueprintEvent, Uint8Array>();

/** The fields of an event's notification after `sequence_number` (`traceparent`, 9), once per event. */
const eventSuffixes = new WeakMap<BlueprintEvent, Uint8Array>();

function eventSuffix(event: BlueprintEvent): Uint8Array {
  let suffix = eventSuffixes.get(event);
  if (suffix === undefined) {
    const { traceparent } = event;
    suffix = encode((w) => {
      if (traceparent) string(w, 9, traceparent);
    });
    eventSuffixes.set(event, suffix);
  }
  return suffix;
}

function eventPrefix(event: BlueprintEvent): Uint8Array {
  let prefix = eventFields.get(event);
  if (prefix === undefined) {
    const { entry } = event;
    prefix = encode((w) => {
      string(w, 1, entry.blueprintId);
      varint64(w, 2, entry.version);
      varint64(w, 3, entry.publishedAt);
      string(w, 4, entry.publishedBy);
      bytes(w, 5, blueprintSummary(entry));
      const type = NOTIFICATION_TYPES[event.kind];
      if (type !== NotificationType.UNKNOWN) w.tag(6, WireType.Varint).int32(type);
      string(w, 7, entry.checksum);
    });
    eventFields.set(event, prefix);
  }
  return prefix;
}

/**
 * A subscription frame as an encoded BlueprintNotification (contracts.md §1),
 * `now` being the hub's time for a keep-alive. An event's fields are encoded
 * once for all its subscribers, and so is the publication's `traceparent`
 * (9, when it has one); each subscriber's frame adds its sequence number
 * between them.
 */
export function notificationBytes(
  frame: Frame,
  now: number,
): Encoded<typeof BlueprintNotificationSchema> {
  if (frame.kind === "keepalive") {
    return encoded(
      BlueprintNotificationSchema,
      encode((w) => {
        varint64(w, 2, frame.version);
        varint64(w, 3, now);
      }),
    );
  }
  const prefix = eventPrefix(frame.event);
  const suffix = eventSuffix(frame.event);
  return encoded(
    BlueprintNotificationSchema,
    encode((w) => {
      w.raw(prefix);
      varint64(w, 8, frame.sequence);
      if (suffix.byteLength > 0) w.raw(suffix);
    }),
  );
}
