/**
 * Reading back the stored full-sync record, shared by the Redis and SQLite stores.
 *
 * @module
 */
import type { FullSyncRecord } from "./types.ts";

/** Parses a stored full-sync record; `undefined` when the JSON is not one. */
export function decodeFullSyncRecord(value: string): FullSyncRecord | undefined {
  try {
    const parsed = JSON.parse(value) as Partial<FullSyncRecord> | null;
    if (
      !parsed || typeof parsed.at !== "string" || typeof parsed.counts !== "object" ||
      parsed.counts === null || (parsed.outcome !== "persisted" && parsed.outcome !== "memory-only")
    ) return undefined;
    return parsed as FullSyncRecord;
  } catch {
    return undefined;
  }
}
