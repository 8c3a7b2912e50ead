/**
 * Integrity of the system register: every entry's checksum is `sha256:`
 * over its document bytes, and every entry carries a chain hash over its
 * version, blueprint, checksum, time and publisher and the previous entry's
 * chain hash. A changed document breaks its checksum; a changed, removed or
 * reordered entry breaks the chain at that point.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { documentChecksum } from "../../shared/contracts/checksum.ts";
import type { BlueprintEntry } from "./types.ts";

/** The chain hash before the first entry. */
export const GENESIS_CHAIN_HASH = `sha256:${"0".repeat(64)}`;

export { documentChecksum };

/** The fields a chain hash covers. */
export type ChainedFields = Pick<
  BlueprintEntry,
  "version" | "blueprintId" | "checksum" | "publishedAt" | "publishedBy"
>;

/** The chain hash of an entry following one whose chain hash is `previous`. */
export function chainHash(previous: string, entry: ChainedFields): string {
  const text = [
    previous,
    String(entry.version),
    entry.blueprintId,
    entry.checksum,
    String(entry.publishedAt),
    entry.publishedBy,
  ].join("\n");
  return `sha256:${createHash("sha256").update(text).digest("hex")}`;
}

/** The outcome of {@link validateIntegrity}. */
export type IntegrityReport =
  | { ok: true; entries: number; version: number; ms: number }
  | {
    ok: false;
    entries: number;
    /** The first entry found wrong. */
    version: number;
    blueprintId: string;
    /** What is wrong with it, in words. */
    problem: string;
    ms: number;
  };

/** What is wrong with `entry` following the entry `previous` describes, if anything. */
export function entryProblem(
  entry: BlueprintEntry,
  previous: { version: number; chainHash: string },
): string | undefined {
  if (entry.version <= previous.version) {
    return `version ${entry.version} does not follow version ${previous.version}`;
  }
  if (documentChecksum(entry.document) !== entry.checksum) {
    return "its document does not match its checksum (the document was changed)";
  }
  if (chainHash(previous.chainHash, entry) !== entry.chainHash) {
    return "its chain hash does not follow the previous entry (an entry was changed, removed or reordered)";
  }
  return undefined;
}

/**
 * Checks every entry, in version order: its checksum against its document,
 * its version after the previous one, and its chain hash. Stops at the first
 * wrong entry and names it.
 */
export async function validateIntegrity(
  entries: AsyncIterable<BlueprintEntry>,
): Promise<IntegrityReport> {
  const began = performance.now();
  const previous = { version: 0, chainHash: GENESIS_CHAIN_HASH };
  let count = 0;
  for await (const entry of entries) {
    count++;
    const problem = entryProblem(entry, previous);
    if (problem) {
      const { version, blueprintId } = entry;
      return {
        ok: false,
        entries: count,
        version,
        blueprintId,
        problem,
        ms: performance.now() - began,
      };
    }
    previous.version = entry.version;
    previous.chainHash = entry.chainHash;
  }
  return { ok: true, entries: count, version: previous.version, ms: performance.now() - began };
}
