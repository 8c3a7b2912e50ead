/**
 * Text for people (a register's name, a publisher, labels): no control
 * characters and well-formed Unicode. Such text is refused with a 400 rather
 * than stored, because the stores would change it silently: the embedded
 * SQLite of `node:sqlite` reads a text column only up to its first NUL, a
 * MongoDB key cannot hold a NUL, and an unpaired surrogate becomes U+FFFD
 * in every UTF-8 store and on the gRPC wire.
 *
 * @module
 */
import { z } from "@hono/zod-openapi";

function codePoint(code: number): string {
  return `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
}

/**
 * What makes `value` unfit as text for people, or undefined when nothing
 * does: its first control character (Unicode category Cc: U+0000–U+001F,
 * U+007F–U+009F) or unpaired surrogate, with its index (0-based, in UTF-16
 * code units as JavaScript counts them).
 */
export function plainTextProblem(value: string): string | undefined {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) {
      return `must not contain control characters (${codePoint(code)} at index ${i})`;
    }
    if (code >= 0xd800 && code <= 0xdfff) {
      const next = value.charCodeAt(i + 1);
      if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return `must be well-formed Unicode (an unpaired surrogate ${codePoint(code)} at index ${i})`;
    }
  }
  return undefined;
}

/** Adds a zod issue for text {@link plainTextProblem} finds unfit. */
export function checkPlainText(value: string, context: z.RefinementCtx): void {
  const problem = plainTextProblem(value);
  if (problem !== undefined) context.addIssue({ code: "custom", message: problem });
}
