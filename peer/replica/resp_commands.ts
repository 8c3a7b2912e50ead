/**
 * Redis commands encoded by us (RESP, the protocol's wire form) and sent
 * through ioredis as they are, for a replacement's writes: a part of 1,024
 * entries is three commands of a few thousand arguments each, which ioredis
 * would encode argument by argument (a small buffer or string for each,
 * measured twice, copied twice): some 100 ms of the link's thread for
 * 10,000 entries of 1 KiB, about what receiving them costs. Here each
 * argument is written once into one buffer per part, and a run of texts
 * (ids, versions, entries' JSON) as one string. ioredis still sends each
 * command, matches its reply and applies its timeout and connection rules.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { Command } from "ioredis";

/** An argument of a command: text (sent as UTF-8), a whole number, or bytes. */
export type RespArgument = string | number | Uint8Array;

const encoder = new TextEncoder();
const CR = 13;
const LF = 10;
/** Bytes a `$<length>\r\n` header may take before the text it announces (lengths below 10^9). */
const HEADER_ROOM = 12;

/**
 * Commands written one after another into one growing buffer (one encoder per part); see the
 * module documentation.
 */
export class RespEncoder {
  #bytes: Uint8Array;
  #at = 0;
  /** Where each command ends, and its name. */
  readonly #commands: { name: string; end: number }[] = [];

  /**
   * An encoder writing into `buffer` (a new one of 64 KiB by default), which it replaces with a
   * larger one when it fills up.
   */
  constructor(buffer: ArrayBuffer = new ArrayBuffer(64 * 1024)) {
    this.#bytes = new Uint8Array(buffer.byteLength > 0 ? buffer : new ArrayBuffer(1024));
  }

  /**
   * The buffer the commands are written in (the one given, or a larger one): free to reuse once
   * every command taken is answered (Redis has then received all of their bytes).
   */
  get buffer(): ArrayBuffer {
    return this.#bytes.buffer as ArrayBuffer;
  }

  /** Appends the command `name` (`HSET`, ...) with `args`. */
  command(name: string, args: readonly RespArgument[]): void {
    this.#header(0x2a, args.length + 1); // *
    this.#text(name);
    let i = 0;
    while (i < args.length) {
      const arg = args[i]!;
      if (arg instanceof Uint8Array) {
        this.#bulk(arg);
        i++;
      } else if (i + 1 < args.length && !(args[i + 1] instanceof Uint8Array)) {
        i = this.#texts(args, i);
      } else {
        if (typeof arg === "string") this.#text(arg);
        else this.#number(arg);
        i++;
      }
    }
    this.#commands.push({ name: name.toLowerCase(), end: this.#at });
  }

  /**
   * Writes the run of texts and numbers of `args` from `from` (up to the next bytes, or the end)
   * as one string by one `encodeInto`, each `$<length>\r\n<text>\r\n`: a part's ids, versions
   * and entries' JSON in a few calls rather than a few calls each. The lengths written are the
   * texts' lengths, right when the run is ASCII; otherwise the run is written again, argument by
   * argument. Returns where the run ends.
   */
  #texts(args: readonly RespArgument[], from: number): number {
    let run = "";
    let end = from;
    for (; end < args.length; end++) {
      const arg = args[end]!;
      if (arg instanceof Uint8Array) break;
      const text = typeof arg === "string" ? arg : String(arg);
      run += `$${text.length}\r\n${text}\r\n`;
    }
    const start = this.#at;
    this.#room(run.length * 3);
    const { written } = encoder.encodeInto(run, this.#bytes.subarray(start));
    if (written === run.length) {
      this.#at = start + written;
      return end;
    }
    for (let i = from; i < end; i++) {
      const arg = args[i]!;
      if (typeof arg === "string") this.#text(arg);
      else if (typeof arg === "number") this.#number(arg);
    }
    return end;
  }

  /** The commands appended, each ready for `redis.sendCommand` (their bytes share one buffer). */
  take(): Command[] {
    const buffer = Buffer.from(this.#bytes.buffer, this.#bytes.byteOffset, this.#at);
    let start = 0;
    return this.#commands.map(({ name, end }) => {
      const command = new EncodedCommand(name, buffer.subarray(start, end));
      start = end;
      return command;
    });
  }

  /** `$<length>\r\n<bytes>\r\n`. */
  #bulk(bytes: Uint8Array): void {
    this.#header(0x24, bytes.byteLength); // $
    this.#room(bytes.byteLength + 2);
    this.#bytes.set(bytes, this.#at);
    this.#at += bytes.byteLength;
    this.#bytes[this.#at++] = CR;
    this.#bytes[this.#at++] = LF;
  }

  /** `$<length>\r\n<UTF-8 of text>\r\n`: the text is written first, after room for its header. */
  #text(text: string): void {
    // Room for the header, the longest encoding and CRLF at once: nothing below grows the buffer.
    this.#room(HEADER_ROOM + text.length * 3 + 2);
    const bytes = this.#bytes;
    const bytesAt = this.#at + HEADER_ROOM;
    const written = asciiInto(text, bytes, bytesAt) ??
      encoder.encodeInto(text, bytes.subarray(bytesAt)).written;
    const headerEnd = this.#header(0x24, written);
    if (headerEnd !== bytesAt) bytes.copyWithin(headerEnd, bytesAt, bytesAt + written);
    this.#at = headerEnd + written;
    bytes[this.#at++] = CR;
    bytes[this.#at++] = LF;
  }

  /** A whole number from 0 as its decimal text (others through `String`). */
  #number(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) return this.#text(String(n));
    this.#header(0x24, decimalDigits(n));
    this.#line(n);
  }

  /** Writes `<prefix><n>\r\n` at the end; returns where it ends. */
  #header(prefix: number, n: number): number {
    this.#room(1);
    this.#bytes[this.#at++] = prefix;
    return this.#line(n);
  }

  /** Writes `<n>\r\n` (`n` a whole number from 0) at the end; returns where it ends. */
  #line(n: number): number {
    const digits = decimalDigits(n);
    this.#room(digits + 2);
    const bytes = this.#bytes;
    let at = this.#at;
    for (let i = digits - 1, rest = n; i >= 0; i--, rest = Math.floor(rest / 10)) {
      bytes[at + i] = 0x30 + (rest % 10);
    }
    at += digits;
    bytes[at++] = CR;
    bytes[at++] = LF;
    this.#at = at;
    return at;
  }

  /** Grows the buffer so that `bytes` more fit. */
  #room(bytes: number): void {
    if (this.#at + bytes <= this.#bytes.byteLength) return;
    const grown = new Uint8Array(Math.max(this.#bytes.byteLength * 2, this.#at + bytes));
    grown.set(this.#bytes.subarray(0, this.#at));
    this.#bytes = grown;
  }
}

/** Texts up to this length are copied by {@link asciiInto}; longer ones by `encodeInto`. */
const SHORT_TEXT = 48;

/**
 * Copies a short ASCII `text` (an id, a number) into `bytes` at `at`, cheaper than a call of
 * `encodeInto` and the view it needs; undefined (nothing to count on written) for a longer text
 * or another one.
 */
function asciiInto(text: string, bytes: Uint8Array, at: number): number | undefined {
  if (text.length > SHORT_TEXT) return undefined;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) return undefined;
    bytes[at + i] = code;
  }
  return text.length;
}

/** How many decimal digits a whole number from 0 has. */
function decimalDigits(n: number): number {
  let digits = 1;
  for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  return digits;
}

/** A command whose wire form is already written: ioredis sends those bytes as they are. */
class EncodedCommand extends Command {
  readonly #wire: Buffer;

  constructor(name: string, wire: Buffer) {
    super(name);
    this.#wire = wire;
  }

  override toWritable(_socket: object): Buffer {
    return this.#wire;
  }
}
