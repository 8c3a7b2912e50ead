/**
 * Whether a publication repeats a blueprint's active entry: the same
 * document bytes, the same publisher and the same metadata (in any order).
 * Such a re-publication stores nothing (it returns the entry), so a
 * publisher may send the same blueprint again, after a timeout say, without
 * making a new version (see `PublishOptions.ifChanged`).
 *
 * @module
 */
import type { BlueprintEntry, PublishInput } from "./types.ts";

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameMetadata(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length &&
    keys.every((key) => Object.hasOwn(b, key) && a[key] === b[key]);
}

/** Whether `input` would store what `entry` (the blueprint's active entry) holds already. */
export function isSamePublication(entry: BlueprintEntry, input: PublishInput): boolean {
  return entry.blueprintId === input.blueprintId && entry.publishedBy === input.publishedBy &&
    sameMetadata(entry.metadata, input.metadata) && sameBytes(entry.document, input.document);
}
