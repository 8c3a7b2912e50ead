/**
 * What the hub tells subscribers: a blueprint was published for the first
 * time or re-published (a new version of a known blueprint).
 *
 * @module
 */
import type { BlueprintEntry } from "../system_register/mod.ts";

/** The kinds of notification the hub sends (contracts.md NotificationType, minus UNKNOWN). */
export type NotificationKind = "published" | "updated" | "deprecated";

/** One publication, as seen by the hub (its own or another hub's on the same store). */
export interface BlueprintEvent {
  /** The entry stored. */
  entry: BlueprintEntry;
  /** `published` for a blueprint's first version, `updated` for a later one. */
  kind: NotificationKind;
  /** W3C trace context of the publication, sent with its notifications (absent when tracing is off). */
  traceparent?: string;
}

/** Largest blueprint summary sent in a notification, in bytes (contracts.md: ≤ 4 KiB). */
export const SUMMARY_LIMIT_BYTES = 4096;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A short description of a blueprint for notifications: its id, checksum,
 * size, and the document's `title` and `description` when it has them, as
 * UTF-8 JSON of at most {@link SUMMARY_LIMIT_BYTES} (long texts cut short).
 */
export function blueprintSummary(entry: BlueprintEntry): Uint8Array {
  const summary: Record<string, unknown> = {
    blueprintId: entry.blueprintId,
    version: entry.version,
    checksum: entry.checksum,
    sizeBytes: entry.document.byteLength,
  };
  try {
    const document: unknown = JSON.parse(decoder.decode(entry.document));
    if (document && typeof document === "object" && !Array.isArray(document)) {
      const { title, description } = document as Record<string, unknown>;
      if (typeof title === "string") summary.title = title.slice(0, 256);
      if (typeof description === "string") summary.description = description.slice(0, 1024);
    }
  } catch {
    // Not JSON (the hub only stores JSON, but an entry from elsewhere may not be): no texts.
  }
  let bytes = encoder.encode(JSON.stringify(summary));
  if (bytes.byteLength > SUMMARY_LIMIT_BYTES) {
    delete summary.description;
    bytes = encoder.encode(JSON.stringify(summary));
  }
  return bytes;
}
