/**
 * SHA-256 of many short texts at once, each digest as eight 32-bit words.
 *
 * What the system register's digest needs (`shared/contracts/active_set_digest.ts`):
 * one SHA-256 of a text of some hundred bytes per entry, ten thousand of them
 * at a peer's first sync. `node:crypto` takes three calls into the runtime and
 * a hex string for each (some 2.5 µs, where its hashing takes a tenth of
 * that); `hash-wasm` (its calls per text) and `@noble/hashes` (pure
 * JavaScript, slow until compiled) were slower still in a fresh process. Here
 * the texts are encoded at once into a WebAssembly module's memory and
 * hashed (padding included) by one call per {@link CHUNK} texts
 * (`sha256_module.ts`, plain SHA-256 without the CPU's SHA instructions):
 * some 40% less time than `node:crypto` for ten thousand terms in a fresh
 * process, 17 ms less at the end of a peer's first sync. Tests compare it
 * with `node:crypto` digest for digest.
 *
 * @module
 */
import { FREE_AT, sha256ModuleBytes } from "./sha256_module.ts";

/** Texts hashed by one call of the module (larger calls wait longer for its optimized code). */
const CHUNK = 256;
const PAGE_BYTES = 64 * 1024;

/** The module, its memory and views of it (renewed when the memory grows). */
interface Hasher {
  memory: WebAssembly.Memory;
  hash: (count: number, tableAt: number, outAt: number) => void;
  bytes: Uint8Array;
  words: Uint32Array;
}

let hasher: Hasher | undefined;
const encoder = new TextEncoder();

/**
 * Writes the SHA-256 of each of `texts` (as UTF-8) into `out`: text `i`'s digest as the
 * big-endian words `out[8i]` to `out[8i + 7]`. `out` must hold `8 × texts.length` words.
 */
export function sha256Words(texts: readonly string[], out: Uint32Array): void {
  if (out.length < 8 * texts.length) {
    throw new RangeError(`sha256Words: ${texts.length} texts need ${8 * texts.length} words`);
  }
  for (let start = 0; start < texts.length; start += CHUNK) {
    hashChunk(texts, { start, end: Math.min(start + CHUNK, texts.length) }, out);
  }
}

/** Hashes `texts[start..end)` in one call of the module. */
function hashChunk(
  texts: readonly string[],
  range: { start: number; end: number },
  out: Uint32Array,
): void {
  const { start, end } = range;
  const count = end - start;
  let joined = "";
  for (let i = start; i < end; i++) joined += texts[i];
  // Layout: the table (where each text starts and its length in bytes), the digests (8 words a
  // text), then the texts' UTF-8 one after another (at most 3 bytes a UTF-16 unit).
  const tableAt = FREE_AT;
  const outAt = tableAt + 8 * count;
  const textsAt = outAt + 32 * count;
  const { bytes, words, hash } = ready(textsAt + 3 * joined.length);
  const written = encoder.encodeInto(joined, bytes.subarray(textsAt)).written;
  // All ASCII: each text's byte length is its length. Otherwise each is encoded on its own.
  const ascii = written === joined.length;
  let at = textsAt;
  for (let i = 0; i < count; i++) {
    const text = texts[start + i]!;
    const length = ascii ? text.length : encoder.encodeInto(text, bytes.subarray(at)).written;
    // The module writes a length's low 32 bits of bits only.
    if (length >= 2 ** 29) throw new RangeError("sha256Words: a text has 512 MiB or more");
    words[tableAt / 4 + 2 * i] = at;
    words[tableAt / 4 + 2 * i + 1] = length;
    at += length;
  }
  hash(count, tableAt, outAt);
  out.set(words.subarray(outAt / 4, outAt / 4 + 8 * count), 8 * start);
}

/** The module, with a memory of at least `bytes`. */
function ready(bytes: number): Hasher {
  hasher ??= instantiate();
  const { memory } = hasher;
  if (memory.buffer.byteLength < bytes) {
    memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / PAGE_BYTES));
    hasher.bytes = new Uint8Array(memory.buffer);
    hasher.words = new Uint32Array(memory.buffer);
  }
  return hasher;
}

function instantiate(): Hasher {
  const memory = new WebAssembly.Memory({ initial: 4 });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(sha256ModuleBytes()), {
    env: { memory },
  });
  return {
    memory,
    hash: instance.exports.hash as Hasher["hash"],
    bytes: new Uint8Array(memory.buffer),
    words: new Uint32Array(memory.buffer),
  };
}
