import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { sha256Words } from "../../shared/hashing/sha256_words.ts";

/** node:crypto's SHA-256 of each text, as the words' hex. */
function expected(texts: readonly string[]): string[] {
  return texts.map((text) => createHash("sha256").update(text, "utf8").digest("hex"));
}

function hashed(texts: readonly string[]): string[] {
  const out = new Uint32Array(8 * texts.length);
  sha256Words(texts, out);
  return texts.map((_, i) =>
    Array.from(out.subarray(8 * i, 8 * i + 8), (word) => word.toString(16).padStart(8, "0"))
      .join("")
  );
}

Deno.test("sha256Words gives node:crypto's digest for texts of every length across several blocks", () => {
  const texts = Array.from({ length: 300 }, (_, n) => "x".repeat(n));
  assert.deepEqual(hashed(texts), expected(texts));
});

Deno.test("sha256Words gives node:crypto's digests for a thousand system register terms in one call", () => {
  const texts = Array.from(
    { length: 1000 },
    (_, i) => `blueprint-${i * 7919}\n${i + 1}\nsha256:${(i % 16).toString(16).repeat(64)}`,
  );
  assert.deepEqual(hashed(texts), expected(texts));
});

Deno.test("sha256Words hashes texts that are not ASCII as their UTF-8", () => {
  const texts = ["é", "registre-été\n3\nsha256:00", "🙂🙂", "a\u0000b", "ü".repeat(100), "plain"];
  assert.deepEqual(hashed(texts), expected(texts));
  // ASCII and other texts in one call: each text's own byte length is used.
  const mixed = ["abc", "ñandú", "x".repeat(70), "日本語".repeat(30)];
  assert.deepEqual(hashed(mixed), expected(mixed));
});

Deno.test("sha256Words hashes a text larger than its memory first holds", () => {
  const texts = ["a".repeat(1_000_000), "b", "c".repeat(70_000)];
  assert.deepEqual(hashed(texts), expected(texts));
  assert.deepEqual(hashed(["after growing"]), expected(["after growing"]));
});

Deno.test("sha256Words writes nothing for no texts and refuses an output too small", () => {
  sha256Words([], new Uint32Array(0));
  assert.throws(() => sha256Words(["a", "b"], new Uint32Array(8)), /2 texts need 16 words/);
});
