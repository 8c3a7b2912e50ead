/**
 * The digest of a system register's active set: what a hub and a peer's
 * replica compare to know they hold the same entries, not only the same
 * number of them (Eureka compares counts; counts can agree while contents
 * differ).
 *
 * Each active entry contributes a term, the SHA-256 of
 * `{blueprintId}\n{version}\n{checksum}` read as a 256-bit big-endian
 * number; the digest is the sum of the terms modulo 2^256, written
 * `sum-sha256:` and 64 lowercase hex digits. A sum is order-free and moves
 * by one subtraction and one addition when an entry supersedes another, so
 * hubs and peers keep it up as entries arrive instead of rereading the set.
 * It finds divergence (a missing, extra, stale or altered entry); it is not
 * a defence against a hub that lies, which could send anything.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** Sums wrap at 2^256. */
const MODULUS = 1n << 256n;

/** The prefix of a written digest. */
export const DIGEST_PREFIX = "sum-sha256:";

/** The digest of an empty set. */
export const EMPTY_DIGEST = `${DIGEST_PREFIX}${"0".repeat(64)}`;

/** One entry's term: SHA-256 of `{blueprintId}\n{version}\n{checksum}` as a number. */
export function digestTerm(blueprintId: string, version: number, checksum: string): bigint {
  const hex = createHash("sha256").update(`${blueprintId}\n${version}\n${checksum}`).digest("hex");
  return BigInt(`0x${hex}`);
}

/** `sum` with `term` added (modulo 2^256). */
export function addTerm(sum: bigint, term: bigint): bigint {
  return (sum + term) % MODULUS;
}

/** `sum` with `term` taken away (modulo 2^256). */
export function removeTerm(sum: bigint, term: bigint): bigint {
  return (sum - term + MODULUS) % MODULUS;
}

/** A sum as written on the wire and in checkpoints. */
export function formatDigest(sum: bigint): string {
  return `${DIGEST_PREFIX}${sum.toString(16).padStart(64, "0")}`;
}

/** A written digest as its sum; undefined when it is not one. */
export function parseDigest(text: string): bigint | undefined {
  if (!text.startsWith(DIGEST_PREFIX)) return undefined;
  const hex = text.slice(DIGEST_PREFIX.length);
  return /^[0-9a-f]{64}$/.test(hex) ? BigInt(`0x${hex}`) : undefined;
}

/** The digest of a whole set of entries. */
export function digestOf(
  entries: Iterable<{ blueprintId: string; version: number; checksum: string }>,
): string {
  let sum = 0n;
  for (const e of entries) sum = addTerm(sum, digestTerm(e.blueprintId, e.version, e.checksum));
  return formatDigest(sum);
}

/**
 * A set of active entries (one per blueprint) and its digest, kept up as
 * entries arrive: an entry above its blueprint's version replaces it, an
 * older one changes nothing, and {@link ActiveSetDigest.remove} retires a
 * blueprint.
 */
export class ActiveSetDigest {
  readonly #terms = new Map<string, { version: number; term: bigint }>();
  #sum = 0n;

  /** Blueprints in the set. */
  get size(): number {
    return this.#terms.size;
  }

  /** The digest as written (`sum-sha256:…`). */
  get digest(): string {
    return formatDigest(this.#sum);
  }

  /** The version `blueprintId` has in the set, if any. */
  versionOf(blueprintId: string): number | undefined {
    return this.#terms.get(blueprintId)?.version;
  }

  /** Makes an entry its blueprint's active one, unless the set holds a newer version; says whether it did. */
  add(blueprintId: string, version: number, checksum: string): boolean {
    const previous = this.#terms.get(blueprintId);
    if (previous && previous.version >= version) return false;
    const term = digestTerm(blueprintId, version, checksum);
    if (previous) this.#sum = removeTerm(this.#sum, previous.term);
    this.#sum = addTerm(this.#sum, term);
    this.#terms.set(blueprintId, { version, term });
    return true;
  }

  /** Takes a blueprint out of the set; says whether it was in it. */
  remove(blueprintId: string): boolean {
    const previous = this.#terms.get(blueprintId);
    if (!previous) return false;
    this.#sum = removeTerm(this.#sum, previous.term);
    this.#terms.delete(blueprintId);
    return true;
  }

  /** A copy, to change without changing this one. */
  clone(): ActiveSetDigest {
    const copy = new ActiveSetDigest();
    for (const [id, term] of this.#terms) copy.#terms.set(id, term);
    copy.#sum = this.#sum;
    return copy;
  }
}
