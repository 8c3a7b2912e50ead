import assert from "node:assert/strict";
import { RespEncoder } from "../../peer/replica/resp_commands.ts";

const decoder = new TextDecoder("latin1");

/** A command's wire bytes, as text (each byte one character). */
function wire(command: { toWritable(socket: object): string | Uint8Array }): string {
  const bytes = command.toWritable({});
  return typeof bytes === "string" ? bytes : decoder.decode(bytes);
}

Deno.test("RespEncoder writes each command as a RESP array of bulk strings", () => {
  const encoder = new RespEncoder(new ArrayBuffer(16)); // small: the buffer grows
  encoder.command("HSET", ["key", "field", "value"]);
  encoder.command("ZADD", ["versions", 1234567890, "bp-1", 0, "bp-0"]);
  const [hset, zadd] = encoder.take();
  assert.equal(hset?.name, "hset");
  assert.equal(wire(hset!), "*4\r\n$4\r\nHSET\r\n$3\r\nkey\r\n$5\r\nfield\r\n$5\r\nvalue\r\n");
  assert.equal(zadd?.name, "zadd");
  assert.equal(
    wire(zadd!),
    "*6\r\n$4\r\nZADD\r\n$8\r\nversions\r\n$10\r\n1234567890\r\n$4\r\nbp-1\r\n$1\r\n0\r\n$4\r\nbp-0\r\n",
  );
});

Deno.test("RespEncoder counts text in UTF-8 bytes, and sends bytes as they are", () => {
  const encoder = new RespEncoder(new ArrayBuffer(16));
  const long = `{"label":"${"é".repeat(100)}"}`; // longer than copied by hand, and not ASCII
  encoder.command("HSET", ["k", "é😀", long, new Uint8Array([0, 255, 13, 10]), ""]);
  const [command] = encoder.take();
  const utf8 = (text: string) => decoder.decode(new TextEncoder().encode(text));
  assert.equal(
    wire(command!),
    `*6\r\n$4\r\nHSET\r\n$1\r\nk\r\n$6\r\n${utf8("é😀")}\r\n$${
      new TextEncoder().encode(long).byteLength
    }\r\n${utf8(long)}\r\n$4\r\n\u0000\u00ff\r\n\r\n$0\r\n\r\n`,
  );
});

Deno.test("RespEncoder writes a number that is not a whole number as its text", () => {
  const encoder = new RespEncoder();
  encoder.command("ZADD", ["z", 1.5, "a", -2, "b"]);
  assert.equal(
    wire(encoder.take()[0]!),
    "*6\r\n$4\r\nZADD\r\n$1\r\nz\r\n$3\r\n1.5\r\n$1\r\na\r\n$2\r\n-2\r\n$1\r\nb\r\n",
  );
});

Deno.test("RespEncoder writes a run of texts and numbers with one that is not ASCII argument by argument", () => {
  const encoder = new RespEncoder(new ArrayBuffer(8));
  encoder.command("ZADD", ["z", 7, "ñ", 1.5, "b"]);
  encoder.command("HSET", ["h", "a", new Uint8Array([1]), "x", "y"]);
  const [zadd, hset] = encoder.take();
  assert.equal(
    wire(zadd!),
    "*6\r\n$4\r\nZADD\r\n$1\r\nz\r\n$1\r\n7\r\n$2\r\n\u00c3\u00b1\r\n$3\r\n1.5\r\n$1\r\nb\r\n",
  );
  assert.equal(
    wire(hset!),
    "*6\r\n$4\r\nHSET\r\n$1\r\nh\r\n$1\r\na\r\n$1\r\n\u0001\r\n$1\r\nx\r\n$1\r\ny\r\n",
  );
});
