/**
 * Buffers lent out to a worker (transferred with a message) and handed back
 * once it is done with them, to fill again: a new buffer of a mebibyte costs
 * some 0.5 ms of page faults when it is first written, a buffer used before
 * costs none. For the workers a full sync hands its entries to, one part
 * after another.
 *
 * @module
 */

/** Buffers to reuse; see the module documentation. */
export class BufferPool {
  readonly #minBytes: number;
  readonly #kept: number;
  readonly #buffers: ArrayBuffer[] = [];

  /** A pool whose new buffers have at least `minBytes`, keeping at most `kept` handed back. */
  constructor(options: { minBytes: number; kept: number }) {
    this.#minBytes = options.minBytes;
    this.#kept = options.kept;
  }

  /** A buffer of at least `bytes`: one handed back, or a new one. */
  take(bytes: number): ArrayBuffer {
    const at = this.#buffers.findIndex((buffer) => buffer.byteLength >= bytes);
    if (at >= 0) return this.#buffers.splice(at, 1)[0]!;
    return new ArrayBuffer(Math.max(bytes, this.#minBytes));
  }

  /** Takes a buffer back (unless enough are kept already). */
  give(buffer: ArrayBuffer): void {
    if (this.#buffers.length < this.#kept && buffer.byteLength > 0) this.#buffers.push(buffer);
  }
}
