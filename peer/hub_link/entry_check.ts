/**
 * Checking each entry a hub streams before it reaches the replica: its
 * checksum against its document, its fields, and its place after the
 * previous entry. An entry that fails is never applied; the sync stops at it
 * and is retried (a corruption in transit does not repeat).
 *
 * @module
 */
import type { SystemRegisterEntry } from "../../gen/sorcha/peer/v1/system_register_sync_pb.ts";
import { documentChecksum, isChecksum } from "../../shared/contracts/checksum.ts";
import {
  BLUEPRINT_ID_PATTERN,
  SYSTEM_REGISTER_ID,
} from "../../shared/contracts/system_register.ts";
import { AppError } from "../../shared/errors.ts";
import { quoteInput } from "../../shared/quote.ts";
import type { ReplicaEntry } from "../replica/mod.ts";

/** An entry as received, checked: the replica's form, and whether the hub still holds it active. */
export interface CheckedEntry {
  /** The entry as the replica stores it. */
  entry: ReplicaEntry;
  /** False for an entry the hub sent as inactive: it retires its blueprint from the replica. */
  isActive: boolean;
  /** The digest of the hub's active set after this entry, when the hub sent it (the stream's last entry). */
  activeSetDigest: string | undefined;
}

/** Where the check stands in a stream. */
export interface EntryCheckContext {
  /** The version of the previous entry of the stream (or the cursor before it). */
  afterVersion: number;
  /** The hub, for messages. */
  hub: string;
}

/** An entry that failed its check; the message names it and what is wrong. */
export class RejectedEntryError extends AppError {
  /** The entry's version (0 when it had none). */
  readonly version: number;
  /** The entry's blueprint id, as sent. */
  readonly blueprintId: string;

  /** Creates the error for the entry `{version, blueprintId}` and what is wrong with it. */
  constructor(entry: { version: number; blueprintId: string }, problem: string, hub: string) {
    super(
      "internal",
      `Rejected the entry at version ${entry.version} (blueprint ${
        quoteInput(entry.blueprintId)
      }) from hub ${hub}: ${problem}; it was not applied and the sync will be retried`,
    );
    this.version = entry.version;
    this.blueprintId = entry.blueprintId;
  }
}

/** What is wrong with `message`, or undefined when it passes. */
function problemOf(
  message: SystemRegisterEntry,
  version: number,
  after: number,
): string | undefined {
  if (!Number.isSafeInteger(version) || version <= after) {
    return `its version does not follow ${after}`;
  }
  if (!BLUEPRINT_ID_PATTERN.test(message.blueprintId)) return "its blueprint id is not valid";
  if (message.registerId !== SYSTEM_REGISTER_ID) {
    return `its register id is ${quoteInput(message.registerId)}, not the system register's`;
  }
  if (!isChecksum(message.checksum)) return "its checksum is not sha256:<64 hex digits>";
  if (message.documentWithheld) {
    if (message.blueprintDocument.byteLength !== 0) return "it is withheld but carries a document";
    return undefined;
  }
  if (documentChecksum(message.blueprintDocument) !== message.checksum) {
    return "its document does not match its checksum (changed in transit or at the hub)";
  }
  return undefined;
}

/**
 * Checks one streamed entry; throws a {@link RejectedEntryError} naming it
 * when it fails, otherwise returns it in the replica's form.
 */
export function checkEntry(message: SystemRegisterEntry, context: EntryCheckContext): CheckedEntry {
  const version = Number(message.version);
  const problem = problemOf(message, version, context.afterVersion);
  if (problem) {
    throw new RejectedEntryError(
      { version, blueprintId: message.blueprintId },
      problem,
      context.hub,
    );
  }
  const withheld = message.documentWithheld;
  return {
    entry: {
      blueprintId: message.blueprintId,
      version,
      publishedAt: Number(message.publishedAt),
      publishedBy: message.publishedBy,
      publicationTransactionId: message.publicationTransactionId,
      checksum: message.checksum,
      // Shared with the message, as the document is: a decoded message is not used after this.
      metadata: message.metadata,
      document: withheld ? undefined : message.blueprintDocument,
      documentSize: withheld ? Number(message.documentSize) : message.blueprintDocument.byteLength,
    },
    isActive: message.isActive,
    activeSetDigest: message.activeSetDigest || undefined,
  };
}
