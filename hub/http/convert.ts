/**
 * The hub's domain values as HTTP JSON (shared/contracts/system_register.ts).
 *
 * @module
 */
import type {
  BlueprintEntryJson,
  SystemRegisterInfoSchema,
} from "../../shared/contracts/system_register.ts";
import type { z } from "zod";
import { documentJson } from "../../shared/contracts/documents.ts";
import {
  type BlueprintEntry,
  type IntegrityState,
  SYSTEM_REGISTER_ID,
  type SystemRegisterHead,
} from "../system_register/mod.ts";

/** An ISO 8601 time from ms since the epoch. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** An entry as JSON, its document parsed (or as text when it is not JSON). */
export function entryJson(entry: BlueprintEntry): BlueprintEntryJson {
  return {
    blueprintId: entry.blueprintId,
    registerId: SYSTEM_REGISTER_ID,
    version: entry.version,
    publishedAt: iso(entry.publishedAt),
    publishedBy: entry.publishedBy,
    isActive: entry.isActive,
    publicationTransactionId: entry.publicationTransactionId,
    checksum: entry.checksum,
    metadata: entry.metadata,
    document: documentJson(entry.document),
  };
}

/** The integrity state as JSON. */
export function integrityJson(state: IntegrityState) {
  return {
    state: state.ok ? "intact" as const : "corrupt" as const,
    checkedAt: iso(state.checkedAt),
    entries: state.entries,
    version: state.version,
    durationMs: Math.round(state.ms * 10) / 10,
    ...(state.ok ? {} : { blueprintId: state.blueprintId, problem: state.problem }),
  };
}

/** `GET /api/system-register`. */
export function registerInfoJson(
  head: SystemRegisterHead,
  options: { integrity: IntegrityState; store: string },
): z.output<typeof SystemRegisterInfoSchema> {
  return {
    registerId: SYSTEM_REGISTER_ID,
    blueprintCount: head.activeCount,
    entryCount: head.entryCount,
    currentVersion: head.version,
    lastPublishedAt: head.lastPublishedAt === undefined ? null : iso(head.lastPublishedAt),
    store: options.store,
    integrity: integrityJson(options.integrity),
  };
}
