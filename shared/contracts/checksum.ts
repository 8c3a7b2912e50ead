/**
 * The checksum of a blueprint document (contracts.md §1, `checksum`):
 * `sha256:` and the lowercase hex SHA-256 of the document's bytes. The hub
 * computes it when a blueprint is published; a peer checks every entry it
 * receives against it.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** `sha256:` and the hex SHA-256 of a document's bytes. */
export function documentChecksum(document: Uint8Array): string {
  return `sha256:${createHash("sha256").update(document).digest("hex")}`;
}

/** Whether `text` has the form of a checksum (`sha256:` and 64 lowercase hex digits). */
export function isChecksum(text: string): boolean {
  return /^sha256:[0-9a-f]{64}$/.test(text);
}
