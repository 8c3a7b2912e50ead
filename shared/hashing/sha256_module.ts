/**
 * A WebAssembly module hashing many short texts with SHA-256 (FIPS 180-4) in
 * one call, written here instruction by instruction (no toolchain is needed
 * to build it, nothing generated is kept). `sha256_words.ts` is its only
 * user: it writes the texts into the module's memory and reads the digests
 * back.
 *
 * The module imports its memory (`env.memory`) and exports one function,
 * `hash(count, tableAt, outAt)`: for each message `i < count`, the table
 * holds two 32-bit words at `tableAt + 8i` (where the message starts, and
 * its length in bytes); its digest is written at `outAt + 32i` as eight
 * 32-bit words in the memory's (little-endian) order, so that a
 * `Uint32Array` over them reads the digest's big-endian words. The
 * compression is unrolled, its round constants inline and its message
 * schedule in locals; a message's padding is written in the 128 bytes below
 * {@link FREE_AT}, where the caller's data starts.
 *
 * @module
 */

/** SHA-256's round constants (FIPS 180-4, 4.2.2). */
const ROUND_CONSTANTS = [
  0x428a2f98,
  0x71374491,
  0xb5c0fbcf,
  0xe9b5dba5,
  0x3956c25b,
  0x59f111f1,
  0x923f82a4,
  0xab1c5ed5,
  0xd807aa98,
  0x12835b01,
  0x243185be,
  0x550c7dc3,
  0x72be5d74,
  0x80deb1fe,
  0x9bdc06a7,
  0xc19bf174,
  0xe49b69c1,
  0xefbe4786,
  0x0fc19dc6,
  0x240ca1cc,
  0x2de92c6f,
  0x4a7484aa,
  0x5cb0a9dc,
  0x76f988da,
  0x983e5152,
  0xa831c66d,
  0xb00327c8,
  0xbf597fc7,
  0xc6e00bf3,
  0xd5a79147,
  0x06ca6351,
  0x14292967,
  0x27b70a85,
  0x2e1b2138,
  0x4d2c6dfc,
  0x53380d13,
  0x650a7354,
  0x766a0abb,
  0x81c2c92e,
  0x92722c85,
  0xa2bfe8a1,
  0xa81a664b,
  0xc24b8b70,
  0xc76c51a3,
  0xd192e819,
  0xd6990624,
  0xf40e3585,
  0x106aa070,
  0x19a4c116,
  0x1e376c08,
  0x2748774c,
  0x34b0bcb5,
  0x391c0cb3,
  0x4ed8aa4a,
  0x5b9cca4f,
  0x682e6ff3,
  0x748f82ee,
  0x78a5636f,
  0x84c87814,
  0x8cc70208,
  0x90befffa,
  0xa4506ceb,
  0xbef9a3f7,
  0xc67178f2,
];

/** SHA-256's initial hash value (FIPS 180-4, 5.3.3). */
const INITIAL_HASH = [
  0x6a09e667,
  0xbb67ae85,
  0x3c6ef372,
  0xa54ff53a,
  0x510e527f,
  0x9b05688c,
  0x1f83d9ab,
  0x5be0cd19,
];

/** Where a message's last one or two blocks are padded (128 bytes). */
const PAD_AT = 0;
/** The first byte free for the caller's table, digests and texts. */
export const FREE_AT = 128;

/** The opcodes used (WebAssembly 1.0, section 5.4). */
const OP = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  br: 0x0c,
  brIf: 0x0d,
  end: 0x0b,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  select: 0x1b,
  load: 0x28,
  load8U: 0x2d,
  store: 0x36,
  store8: 0x3a,
  i32Const: 0x41,
  eqz: 0x45,
  ltU: 0x49,
  geU: 0x4f,
  add: 0x6a,
  sub: 0x6b,
  and: 0x71,
  or: 0x72,
  xor: 0x73,
  shl: 0x74,
  shrU: 0x76,
  rotl: 0x77,
  rotr: 0x78,
} as const;
const I32 = 0x7f;
const VOID_BLOCK = 0x40;

// The function's locals: its three parameters, then the working variables.
const COUNT = 0;
const TABLE_AT = 1;
const OUT_AT = 2;
const MESSAGE = 3;
const BLOCK_AT = 4;
const BLOCKS_LEFT = 5;
const WORK = 6; // a..h: 6 to 13
const HASH = 14; // H0..H7: 14 to 21
const T1 = 22;
const T2 = 23;
const SCRATCH = 24;
const LENGTH = 25; // the message's length in bytes
const PADDED = 26; // 1 once the message's padded blocks are being hashed
const SCHEDULE = 27; // W[t mod 16]: 27 to 42
const LOCALS = 43;

/** The module's bytes (see the module documentation). */
export function sha256ModuleBytes(): Uint8Array<ArrayBuffer> {
  const hashType = [0x60, ...vector([[I32], [I32], [I32]]), 0x00];
  const memoryImport = [...name("env"), ...name("memory"), 0x02, 0x00, 0x01];
  const code = hashFunction();
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // "\0asm", version 1
    ...section(1, vector([hashType])),
    ...section(2, vector([memoryImport])),
    ...section(3, vector([[0x00]])),
    ...section(7, vector([[...name("hash"), 0x00, 0x00]])),
    ...section(10, vector([[...unsigned(code.length), ...code]])),
  ]);
}

/** The code of `hash`: its locals' declaration, then its instructions. */
function hashFunction(): number[] {
  const c = new Code();
  // for (message = 0; message < count; message++)
  c.const(0).set(MESSAGE);
  c.loopWhile(() => c.get(MESSAGE).get(COUNT).op(OP.geU), () => {
    // blockAt = table[message].at; length = table[message].length; its whole blocks first
    c.get(TABLE_AT).get(MESSAGE).const(3).op(OP.shl, OP.add).tee(SCRATCH).load(0).set(BLOCK_AT);
    c.get(SCRATCH).load(4).tee(LENGTH).const(6).op(OP.shrU).set(BLOCKS_LEFT);
    c.const(0).set(PADDED);
    for (let i = 0; i < 8; i++) c.const(INITIAL_HASH[i]!).set(HASH + i);
    c.loopWhile(() => c.get(PADDED).get(BLOCKS_LEFT).op(OP.eqz, OP.and), () => {
      c.loopWhile(() => c.get(BLOCKS_LEFT).op(OP.eqz), () => {
        compressBlock(c);
        c.get(BLOCK_AT).const(64).op(OP.add).set(BLOCK_AT);
        c.get(BLOCKS_LEFT).const(1).op(OP.sub).set(BLOCKS_LEFT);
      });
      c.get(PADDED).op(OP.eqz).ifThen(() => padTail(c));
    });
    // out[message] = H0..H7
    c.get(OUT_AT).get(MESSAGE).const(5).op(OP.shl, OP.add).set(SCRATCH);
    for (let i = 0; i < 8; i++) c.get(SCRATCH).get(HASH + i).store(4 * i);
    c.get(MESSAGE).const(1).op(OP.add).set(MESSAGE);
  });
  c.op(OP.end);
  return [...vector([[...unsigned(LOCALS - 3), I32]]), ...c.bytes];
}

/**
 * After a message's whole blocks (`blockAt` at its rest, under 64 bytes): the rest, 0x80,
 * zeros and the length in bits (big-endian) as one or two blocks at {@link PAD_AT}, to hash next.
 */
function padTail(c: Code): void {
  for (let i = 0; i < 32; i++) c.const(PAD_AT).const(0).store(4 * i);
  // scratch = the rest's length; copy it byte by byte
  c.get(LENGTH).const(63).op(OP.and).set(SCRATCH);
  c.loopWhile(() => c.get(SCRATCH).op(OP.eqz), () => {
    c.get(SCRATCH).const(1).op(OP.sub).set(SCRATCH);
    c.get(SCRATCH).get(BLOCK_AT).get(SCRATCH).op(OP.add).op(OP.load8U, 0, 0).store8(PAD_AT);
  });
  c.get(LENGTH).const(63).op(OP.and).const(0x80).store8(PAD_AT);
  // blocks = rest < 56 ? 1 : 2; the length goes in the last 4 bytes of the last block
  c.const(1).const(2).get(LENGTH).const(63).op(OP.and).const(56).op(OP.ltU).op(OP.select);
  c.tee(BLOCKS_LEFT).const(6).op(OP.shl).const(4).op(OP.sub); // the length's place, from PAD_AT
  c.get(LENGTH).const(3).op(OP.shl).tee(SCRATCH).const(8).op(OP.rotr).const(0xff00ff00);
  c.op(OP.and).get(SCRATCH).const(8).op(OP.rotl).const(0x00ff00ff).op(OP.and, OP.or);
  c.store(PAD_AT);
  c.const(PAD_AT).set(BLOCK_AT);
  c.const(1).set(PADDED);
}

/** One block at `blockAt` into H0..H7 (FIPS 180-4, 6.2.2), unrolled. */
function compressBlock(c: Code): void {
  const w = (t: number) => SCHEDULE + (t % 16);
  // W[t] for t < 16: the block's words, read big-endian.
  for (let t = 0; t < 16; t++) {
    c.get(BLOCK_AT).load(4 * t).set(SCRATCH);
    c.get(SCRATCH).const(8).op(OP.rotr).const(0xff00ff00).op(OP.and);
    c.get(SCRATCH).const(8).op(OP.rotl).const(0x00ff00ff).op(OP.and, OP.or).set(w(t));
  }
  for (let i = 0; i < 8; i++) c.get(HASH + i).set(WORK + i);
  // The locals holding a..h: each round writes the new a into h's and the new e into d's, and
  // the names move on, rather than the values.
  let [a, b, cc, d, e, f, g, h] = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => WORK + i) as Eight;
  for (let t = 0; t < 64; t++) {
    if (t >= 16) {
      // W[t] = σ1(W[t-2]) + W[t-7] + σ0(W[t-15]) + W[t-16], in the place of W[t-16].
      c.get(w(t - 2)).const(17).op(OP.rotr).get(w(t - 2)).const(19).op(OP.rotr, OP.xor);
      c.get(w(t - 2)).const(10).op(OP.shrU, OP.xor).get(w(t - 7)).op(OP.add);
      c.get(w(t - 15)).const(7).op(OP.rotr).get(w(t - 15)).const(18).op(OP.rotr, OP.xor);
      c.get(w(t - 15)).const(3).op(OP.shrU, OP.xor, OP.add).get(w(t)).op(OP.add).set(w(t));
    }
    // T1 = h + Σ1(e) + Ch(e, f, g) + K[t] + W[t]
    c.get(h).get(e).const(6).op(OP.rotr).get(e).const(11).op(OP.rotr, OP.xor);
    c.get(e).const(25).op(OP.rotr, OP.xor, OP.add);
    c.get(e).get(f).op(OP.and).get(e).const(-1).op(OP.xor).get(g).op(OP.and, OP.xor, OP.add);
    c.const(ROUND_CONSTANTS[t]!).op(OP.add).get(w(t)).op(OP.add).set(T1);
    // T2 = Σ0(a) + Maj(a, b, c)
    c.get(a).const(2).op(OP.rotr).get(a).const(13).op(OP.rotr, OP.xor);
    c.get(a).const(22).op(OP.rotr, OP.xor);
    c.get(a).get(b).op(OP.and).get(a).get(cc).op(OP.and, OP.xor);
    c.get(b).get(cc).op(OP.and, OP.xor, OP.add).set(T2);
    c.get(d).get(T1).op(OP.add).set(d); // the new e
    c.get(T1).get(T2).op(OP.add).set(h); // the new a
    [a, b, cc, d, e, f, g, h] = [h, a, b, cc, d, e, f, g];
  }
  // After 64 rounds (a multiple of 8) the names are back where they started.
  for (let i = 0; i < 8; i++) c.get(HASH + i).get(WORK + i).op(OP.add).set(HASH + i);
}

/** Eight local indices. */
type Eight = [number, number, number, number, number, number, number, number];

/** Instructions being written. */
class Code {
  readonly bytes: number[] = [];

  op(...codes: number[]): this {
    this.bytes.push(...codes);
    return this;
  }

  get(local: number): this {
    return this.op(OP.localGet, local);
  }

  set(local: number): this {
    return this.op(OP.localSet, local);
  }

  tee(local: number): this {
    return this.op(OP.localTee, local);
  }

  /** An `i32.const` (the value's 32 bits, signed as the encoding wants). */
  const(value: number): this {
    return this.op(OP.i32Const, ...signed(value | 0));
  }

  /** `i32.load` of an aligned word at the address on the stack plus `offset`. */
  load(offset: number): this {
    return this.op(OP.load, 2, ...unsigned(offset));
  }

  /** `i32.store` of an aligned word at the address below the value plus `offset`. */
  store(offset: number): this {
    return this.op(OP.store, 2, ...unsigned(offset));
  }

  /** `i32.store8` of the low byte of the value at the address below it plus `offset`. */
  store8(offset: number): this {
    return this.op(OP.store8, 0, ...unsigned(offset));
  }

  /** `if (condition) body()`, the condition an i32 on the stack. */
  ifThen(body: () => void): this {
    this.op(OP.if, VOID_BLOCK);
    body();
    return this.op(OP.end);
  }

  /** `while (!done()) body()`: `done` leaves an i32 on the stack. */
  loopWhile(done: () => void, body: () => void): this {
    this.op(OP.block, VOID_BLOCK, OP.loop, VOID_BLOCK);
    done();
    this.op(OP.brIf, 1);
    body();
    return this.op(OP.br, 0, OP.end, OP.end);
  }
}

function section(id: number, content: number[]): number[] {
  return [id, ...unsigned(content.length), ...content];
}

function vector(items: number[][]): number[] {
  return [...unsigned(items.length), ...items.flat()];
}

function name(text: string): number[] {
  return vector([...text].map((char) => [char.charCodeAt(0)]));
}

/** LEB128 of a whole number from 0. */
function unsigned(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 of a 32-bit integer. */
function signed(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}
