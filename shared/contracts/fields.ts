/**
 * zod error settings shared by the HTTP contracts, so every endpoint words
 * the same problem the same way.
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import { quoteInput } from "../quote.ts";

/** A zod error setting: "is required" for a missing value, `message` otherwise. */
export function requiredOr(message: string) {
  return {
    error: (issue: { input?: unknown }) => issue.input === undefined ? "is required" : message,
  };
}

/** Most unknown fields one message names; the rest are counted. */
const NAMED_UNKNOWN_FIELDS = 5;

/**
 * `unknown field "x"` for unknown `keys`: each quoted (cut when long, see
 * `quote.ts`), at most {@link NAMED_UNKNOWN_FIELDS} of them, then how many more.
 */
export function describeUnknownFields(keys: readonly string[]): string {
  const named = keys.slice(0, NAMED_UNKNOWN_FIELDS).map((key) => quoteInput(key)).join(", ");
  const more = keys.length > NAMED_UNKNOWN_FIELDS
    ? ` and ${keys.length - NAMED_UNKNOWN_FIELDS} more`
    : "";
  return `unknown field ${named}${more}`;
}

/** A strict object's error setting: an unknown field is named, with the expected ones. */
export function unknownFields(expected: string) {
  return {
    error: (issue: { code?: string; keys?: string[] }) =>
      issue.code === "unrecognized_keys"
        ? `${describeUnknownFields(issue.keys ?? [])} (expected ${expected})`
        : undefined,
  };
}

/**
 * An object schema that refuses unknown fields with a 400 naming them and
 * the fields expected: the keys of `shape`, so a field added to the shape is
 * accepted, and listed, at once.
 */
export function strictFields<T extends z.core.$ZodLooseShape>(shape: T) {
  return z.strictObject(shape, unknownFields(Object.keys(shape).join(", ")));
}
