/** Lines of a byte stream: split across chunks, multi-byte characters cut in two, no final line feed. */
import assert from "node:assert/strict";
import { lines } from "../../shared/lines.ts";

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}

Deno.test("lines come out whole however the bytes are cut, the last one without a line feed too", async () => {
  const bytes = new TextEncoder().encode('{"a":1}\nnaïve café\n\nlast');
  const cut = [
    bytes.subarray(0, 3),
    bytes.subarray(3, 12),
    bytes.subarray(12, 13),
    bytes.subarray(13),
  ];
  const seen: string[] = [];
  for await (const line of lines(streamOf(cut))) seen.push(line);
  assert.deepEqual(seen, ['{"a":1}', "naïve café", "", "last"]);
});
