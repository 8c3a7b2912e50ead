import assert from "node:assert/strict";
import { plainTextProblem } from "../../shared/contracts/plain_text.ts";

Deno.test("text for people may hold any printable character, accents, emoji and joiners", () => {
  for (const text of ["Land titles", "Zoë ✓ «ünïcode»", "👩‍👩‍👧 family", "עברית", " spaced "]) {
    assert.equal(plainTextProblem(text), undefined, text);
  }
});

Deno.test("a control character is named with its code point and index", () => {
  assert.equal(
    plainTextProblem("evil \u0000 nul"),
    "must not contain control characters (U+0000 at index 5)",
  );
  assert.equal(plainTextProblem("a\tb"), "must not contain control characters (U+0009 at index 1)");
  assert.equal(
    plainTextProblem("del\u007f"),
    "must not contain control characters (U+007F at index 3)",
  );
  assert.equal(
    plainTextProblem("\u009f"),
    "must not contain control characters (U+009F at index 0)",
  );
});

Deno.test("an unpaired surrogate is named; a pair is text", () => {
  assert.equal(
    plainTextProblem("a\ud83d"),
    "must be well-formed Unicode (an unpaired surrogate U+D83D at index 1)",
  );
  assert.equal(
    plainTextProblem("\ude00b"),
    "must be well-formed Unicode (an unpaired surrogate U+DE00 at index 0)",
  );
  assert.equal(plainTextProblem("\ud83d\ude00"), undefined);
});
