import assert from "node:assert/strict";
import { QUOTE_LIMIT, quoteInput, shortenInput } from "../../shared/quote.ts";

Deno.test("a short input is quoted whole, as JSON", () => {
  assert.equal(quoteInput("abc"), '"abc"');
  assert.equal(quoteInput('say "hi"\n'), '"say \\"hi\\"\\n"');
  assert.equal(quoteInput("x".repeat(QUOTE_LIMIT)), `"${"x".repeat(QUOTE_LIMIT)}"`);
  assert.equal(quoteInput(42), '"42"');
});

Deno.test("a long input is cut to 100 characters with an ellipsis and its length", () => {
  assert.equal(quoteInput("y".repeat(60_000)), `"${"y".repeat(100)}…" (60000 characters)`);
  assert.equal(quoteInput("y".repeat(30), 10), `"${"y".repeat(10)}…" (30 characters)`);
});

Deno.test("a cut never splits a surrogate pair", () => {
  const value = `${"a".repeat(99)}😀${"b".repeat(50)}`;
  assert.equal(quoteInput(value), `"${"a".repeat(99)}…" (151 characters)`);
  assert.equal(shortenInput(value), `${"a".repeat(99)}… (151 characters)`);
});

Deno.test("shortenInput leaves short text as it is and cuts long text unquoted", () => {
  assert.equal(shortenInput("/api/registers"), "/api/registers");
  assert.equal(shortenInput(`/${"p".repeat(200)}`), `/${"p".repeat(99)}… (201 characters)`);
});
