import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { READ_AHEAD_MESSAGES, readMessages } from "../../shared/grpc/streams.ts";

/** An object-mode stream of `count` numbers, counting its pauses. */
function numbers(count: number): { stream: Readable; pauses: () => number } {
  let pauses = 0;
  const stream = new Readable({ objectMode: true, read() {} });
  const pause = stream.pause.bind(stream);
  stream.pause = () => {
    pauses++;
    return pause();
  };
  for (let i = 0; i < count; i++) stream.push(i);
  stream.push(null);
  return { stream, pauses: () => pauses };
}

Deno.test("readMessages pauses its stream once `readAhead` messages wait (READ_AHEAD_MESSAGES by default), and reads them all in order", async () => {
  for (const readAhead of [undefined, 1, 256]) {
    const { stream, pauses } = numbers(1_000);
    const seen: number[] = [];
    for await (const n of readMessages<number>(stream, { readAhead })) {
      seen.push(n);
      // A slow reader: the stream runs ahead while this one waits.
      if (n % 100 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    assert.deepEqual(seen, Array.from({ length: 1_000 }, (_, i) => i));
    const ahead = readAhead ?? READ_AHEAD_MESSAGES;
    assert.ok(pauses() >= 1, `readAhead ${readAhead}: paused`);
    assert.ok(pauses() <= Math.ceil(1_000 / ahead), `readAhead ${readAhead}: ${pauses()} pauses`);
  }
});
