/**
 * Reading and writing grpc-js streams (Node object-mode streams) one message
 * at a time with their flow control: a reader takes the next message only when
 * asked (grpc-js then reads the next frame), and a writer waits while the
 * stream's buffer is full.
 *
 * @module
 */
import type { Readable, Writable } from "node:stream";

/**
 * The messages of `stream`, in order, read only as fast as they are asked for.
 * Ends after the stream's last message; throws the stream's `error` after
 * the messages that came before it. Ends early, quietly, when `options.signal`
 * aborts. The stream is never destroyed, so a duplex stream can keep writing
 * after its reader stopped.
 */
export async function* readMessages<T>(
  stream: Readable,
  options: { signal?: AbortSignal | undefined } = {},
): AsyncGenerator<T, void, undefined> {
  const { signal } = options;
  let wake: (() => void) | undefined;
  let ended = false;
  let failure: { error: unknown } | undefined;
  const notify = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  const onEnd = () => {
    ended = true;
    notify();
  };
  const onError = (error: unknown) => {
    failure ??= { error };
    notify();
  };
  stream.on("readable", notify);
  stream.on("end", onEnd);
  stream.on("error", onError);
  signal?.addEventListener("abort", notify);
  try {
    while (true) {
      const message: unknown = stream.read();
      if (message !== null) {
        yield message as T;
        continue;
      }
      if (failure) throw failure.error;
      if (ended || stream.readableEnded || signal?.aborted) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    stream.off("readable", notify);
    stream.off("end", onEnd);
    stream.off("error", onError);
    signal?.removeEventListener("abort", notify);
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
