/**
 * Reading and writing grpc-js streams (Node object-mode streams) with their
 * flow control: a reader takes messages at most a few ahead of being asked
 * for them (grpc-js reads no further frames meanwhile), and a writer waits
 * while the stream's buffer is full.
 *
 * @module
 */
import type { Readable, Writable } from "node:stream";

/** Messages a reader takes from its stream ahead of being asked for them. */
export const READ_AHEAD_MESSAGES = 32;

/** Options of {@link readMessages}. */
export interface ReadMessagesOptions {
  /** Messages taken ahead of being asked for (default {@link READ_AHEAD_MESSAGES}). */
  readAhead?: number | undefined;
  /** Ends the reading early, quietly. */
  signal?: AbortSignal | undefined;
  /** What a stream error is thrown as (default: as it is). */
  mapError?: ((error: unknown) => unknown) | undefined;
  /** Called once when the reading ends: `complete` when the stream's end was reached. */
  onFinish?: ((complete: boolean) => void) | undefined;
}

/**
 * The messages of `stream`, in order, read only a little ahead of being
 * asked for ({@link READ_AHEAD_MESSAGES}: the stream is paused beyond, so
 * grpc-js reads no further frames and HTTP/2 flow control holds the sender
 * back). Ends after the stream's last message; throws the stream's `error`
 * after the messages that came before it. Ends early, quietly, when
 * `options.signal` aborts. The stream is never destroyed, so a duplex stream
 * can keep writing after its reader stopped.
 *
 * An iterator object rather than a generator: a message already read is
 * handed over without a turn of generator machinery (thousands per sync).
 */
export function readMessages<T>(
  stream: Readable,
  options: ReadMessagesOptions = {},
): AsyncIterableIterator<T> {
  return new MessageReader<T>(stream, options);
}

class MessageReader<T> implements AsyncIterableIterator<T> {
  readonly #stream: Readable;
  readonly #options: ReadMessagesOptions;
  readonly #readAhead: number;
  #buffer: T[] = [];
  #head = 0;
  #paused = false;
  #ended = false;
  #finished = false;
  #failure: { error: unknown } | undefined;
  #waiting:
    | { resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void }
    | undefined;

  constructor(stream: Readable, options: ReadMessagesOptions) {
    this.#stream = stream;
    this.#options = options;
    this.#readAhead = Math.max(1, options.readAhead ?? READ_AHEAD_MESSAGES);
    stream.on("data", this.#onData);
    stream.on("end", this.#onEnd);
    stream.on("error", this.#onError);
    options.signal?.addEventListener("abort", this.#onAbort);
    if (options.signal?.aborted) this.#onAbort();
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#head < this.#buffer.length) {
      const value = this.#take();
      return Promise.resolve({ value, done: false });
    }
    if (this.#finished) return Promise.resolve({ value: undefined, done: true });
    if (this.#failure) {
      const { error } = this.#failure;
      this.#finish(false);
      return Promise.reject(this.#options.mapError ? this.#options.mapError(error) : error);
    }
    if (this.#ended) {
      this.#finish(true);
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => (this.#waiting = { resolve, reject }));
  }

  return(): Promise<IteratorResult<T>> {
    this.#finish(this.#ended && this.#head >= this.#buffer.length);
    return Promise.resolve({ value: undefined, done: true });
  }

  #take(): T {
    const value = this.#buffer[this.#head]!;
    this.#buffer[this.#head++] = undefined as T;
    if (this.#head === this.#buffer.length) {
      this.#buffer = [];
      this.#head = 0;
      if (this.#paused && !this.#finished) {
        this.#paused = false;
        this.#stream.resume();
      }
    }
    return value;
  }

  /** Hands the waiting reader what it waits for, if anything is there. */
  #settle(): void {
    const waiting = this.#waiting;
    if (waiting === undefined) return;
    this.#waiting = undefined;
    // The common case (a message came for a waiting reader) without a promise of its own.
    if (this.#head < this.#buffer.length) waiting.resolve({ value: this.#take(), done: false });
    else this.next().then(waiting.resolve, waiting.reject);
  }

  #onData = (message: T): void => {
    if (this.#finished) return;
    this.#buffer.push(message);
    if (this.#buffer.length - this.#head >= this.#readAhead && !this.#paused) {
      this.#paused = true;
      this.#stream.pause();
    }
    this.#settle();
  };

  #onEnd = (): void => {
    this.#ended = true;
    this.#settle();
  };

  #onError = (error: unknown): void => {
    this.#failure ??= { error };
    this.#settle();
  };

  #onAbort = (): void => {
    this.#finish(false);
    this.#buffer = [];
    this.#head = 0;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.resolve({ value: undefined, done: true });
  };

  #finish(complete: boolean): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#stream.off("data", this.#onData);
    this.#stream.off("end", this.#onEnd);
    this.#stream.off("error", this.#onError);
    this.#options.signal?.removeEventListener("abort", this.#onAbort);
    // Without a "data" listener a flowing stream would drop what comes next: keep it for others.
    if (!complete) this.#stream.pause();
    this.#options.onFinish?.(complete);
  }
}

/**
 * Waits until `stream`'s buffer drains, or it closes, fails, or
 * `options.signal` aborts. Resolves with whether the stream can take more
 * (false once it is closed or the signal aborted).
 */
export async function drained(
  stream: Writable,
  options: { signal?: AbortSignal | undefined } = {},
): Promise<boolean> {
  const { signal } = options;
  if (!(signal?.aborted || stream.destroyed || stream.writableEnded)) {
    await new Promise<void>((resolve) => {
      const done = () => {
        stream.off("drain", done);
        stream.off("close", done);
        stream.off("error", done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      stream.on("drain", done);
      stream.on("close", done);
      stream.on("error", done);
      signal?.addEventListener("abort", done);
    });
  }
  return !(signal?.aborted || stream.destroyed || stream.writableEnded);
}

/**
 * Writes `message` to `stream` and, when its buffer is full, waits until it
 * drains, closes, fails, or `options.signal` aborts. Returns whether the
 * stream can take more (false once it is closed or the signal aborted).
 */
export async function writeMessage<T>(
  stream: Writable,
  message: T,
  options: { signal?: AbortSignal | undefined } = {},
): Promise<boolean> {
  const { signal } = options;
  if (signal?.aborted || stream.destroyed || stream.writableEnded) return false;
  if (stream.write(message)) return true;
  return await drained(stream, options);
}
