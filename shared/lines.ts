/**
 * Text lines of a byte stream, as they arrive (a child process's output,
 * say).
 *
 * @module
 */

/** Reads `stream` as UTF-8 lines, without their line feeds; a last line without one counts too. */
export async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let pending = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    pending += text;
    let end: number;
    while ((end = pending.indexOf("\n")) >= 0) {
      yield pending.slice(0, end);
      pending = pending.slice(end + 1);
    }
  }
  if (pending !== "") yield pending;
}
