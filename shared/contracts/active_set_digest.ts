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
import { sha256Words } from "../hashing/sha256_words.ts";

/** Sums wrap at 2^256. */
const MODULUS = 1n << 256n;

/** The prefix of a written digest. */
export const DIGEST_PREFIX = "sum-sha256:";

/** The digest of an empty set. */
export const EMPTY_DIGEST = `${DIGEST_PREFIX}${"0".repeat(64)}`;

/**
 * One entry's term: SHA-256 of `{blueprintId}\n{version}\n{checksum}` as a number, by
 * `node:crypto` (the reference the tests hold {@link ActiveSetDigest} and {@link digestOf} to).
 */
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

/** A term or a sum as eight 32-bit words, most significant first. */
type Words = Uint32Array;

/** Scratch words for one term. */
const scratch = new Uint32Array(8);

/** The text an entry's term is the SHA-256 of. */
function termText(blueprintId: string, version: number, checksum: string): string {
  return `${blueprintId}\n${version}\n${checksum}`;
}

/**
 * One entry's term as words (the SHA-256 digest's bytes, big-endian), in a scratch array that
 * the next term overwrites (terms are added or taken away at once, never kept).
 */
function termWords(blueprintId: string, version: number, checksum: string): Words {
  sha256Words([termText(blueprintId, version, checksum)], scratch);
  return scratch;
}

/** `sum += term` modulo 2^256, in place. */
function addWords(sum: Words, term: Words): void {
  let carry = 0;
  for (let i = 7; i >= 0; i--) {
    const total = sum[i]! + term[i]! + carry;
    sum[i] = total >>> 0;
    carry = total > 0xffffffff ? 1 : 0;
  }
}

/** `sum -= term` modulo 2^256, in place. */
function subtractWords(sum: Words, term: Words): void {
  let borrow = 0;
  for (let i = 7; i >= 0; i--) {
    const total = sum[i]! - term[i]! - borrow;
    sum[i] = total >>> 0;
    borrow = total < 0 ? 1 : 0;
  }
}

/** A sum of words as written. */
function formatWords(sum: Words): string {
  let hex = "";
  for (let i = 0; i < 8; i++) hex += sum[i]!.toString(16).padStart(8, "0");
  return `${DIGEST_PREFIX}${hex}`;
}

/** The digest of a whole set of entries. */
export function digestOf(
  entries: Iterable<{ blueprintId: string; version: number; checksum: string }>,
): string {
  const sum = new Uint32Array(8);
  addTerms(sum, Array.from(entries, (e) => termText(e.blueprintId, e.version, e.checksum)));
  return formatWords(sum);
}

/** Adds the terms of `texts` (see {@link termText}) to `sum`, hashed in one pass. */
function addTerms(sum: Words, texts: readonly string[]): void {
  const terms = new Uint32Array(8 * texts.length);
  sha256Words(texts, terms);
  for (let i = 0; i < texts.length; i++) addWords(sum, terms.subarray(8 * i, 8 * i + 8));
}

/** A blueprint's entry in an {@link ActiveSetDigest}, and whether its term is in the sum yet. */
interface Member {
  version: number;
  checksum: string;
  hashed: boolean;
}

/**
 * A set of active entries (one per blueprint) and its digest, kept up as
 * entries arrive: an entry above its blueprint's version replaces it, an
 * older one changes nothing, and {@link ActiveSetDigest.remove} retires a
 * blueprint. Sums are kept as 32-bit words (no big integers): a full sync of
 * ten thousand entries spends its time hashing, not adding.
 *
 * An added entry's term is hashed when the digest is next read (or the set
 * copied), with every other term still to hash, in one batch
 * (`shared/hashing/sha256_words.ts`: a few calls into WebAssembly for ten
 * thousand terms, where `node:crypto` takes three calls into the runtime for
 * each): a full sync reads the digest once, when its stream has ended. An
 * entry replaced or removed before its term is hashed is never hashed.
 */
export class ActiveSetDigest {
  /** Each blueprint's version and checksum (its term is computed again when it is replaced). */
  readonly #entries = new Map<string, Member>();
  /** Blueprints whose term may not be in the sum yet (a blueprint may be listed twice). */
  #unhashed: string[] = [];
  readonly #sum = new Uint32Array(8);

  /** Blueprints in the set. */
  get size(): number {
    return this.#entries.size;
  }

  /** The digest as written (`sum-sha256:…`). */
  get digest(): string {
    this.#hashPending();
    return formatWords(this.#sum);
  }

  /** The version `blueprintId` has in the set, if any. */
  versionOf(blueprintId: string): number | undefined {
    return this.#entries.get(blueprintId)?.version;
  }

  /** Makes an entry its blueprint's active one, unless the set holds a newer version; says whether it did. */
  add(blueprintId: string, version: number, checksum: string): boolean {
    const previous = this.#entries.get(blueprintId);
    if (previous && previous.version >= version) return false;
    if (previous?.hashed) {
      subtractWords(this.#sum, termWords(blueprintId, previous.version, previous.checksum));
    }
    // A blueprint whose previous term was not hashed yet is listed already.
    if (!previous || previous.hashed) this.#unhashed.push(blueprintId);
    this.#entries.set(blueprintId, { version, checksum, hashed: false });
    return true;
  }

  /** Takes a blueprint out of the set; says whether it was in it. */
  remove(blueprintId: string): boolean {
    const previous = this.#entries.get(blueprintId);
    if (!previous) return false;
    if (previous.hashed) {
      subtractWords(this.#sum, termWords(blueprintId, previous.version, previous.checksum));
    }
    this.#entries.delete(blueprintId);
    return true;
  }

  /** A copy, to change without changing this one. */
  clone(): ActiveSetDigest {
    // Every term hashed first: the copy shares the members, which never change again.
    this.#hashPending();
    const copy = new ActiveSetDigest();
    for (const [id, entry] of this.#entries) copy.#entries.set(id, entry);
    copy.#sum.set(this.#sum);
    return copy;
  }

  /** Adds the terms not hashed yet to the sum. */
  #hashPending(): void {
    const unhashed = this.#unhashed;
    if (unhashed.length === 0) return;
    this.#unhashed = [];
    const texts: string[] = [];
    for (const blueprintId of unhashed) {
      const member = this.#entries.get(blueprintId);
      if (!member || member.hashed) continue; // removed, or listed twice
      texts.push(termText(blueprintId, member.version, member.checksum));
      member.hashed = true;
    }
    addTerms(this.#sum, texts);
  }
}
