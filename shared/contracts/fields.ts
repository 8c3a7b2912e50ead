/**
 * zod error settings shared by the HTTP contracts, so every endpoint words
 * the same problem the same way.
 *
 * @module
 */

/** A zod error setting: "is required" for a missing value, `message` otherwise. */
export function requiredOr(message: string) {
  return {
    error: (issue: { input?: unknown }) => issue.input === undefined ? "is required" : message,
  };
}

/** A strict object's error setting: an unknown field is named, with the expected ones. */
export function unknownFields(expected: string) {
  return {
    error: (issue: { code?: string; keys?: string[] }) =>
      issue.code === "unrecognized_keys"
        ? `unknown field ${
          (issue.keys ?? []).map((k) => JSON.stringify(k)).join(", ")
        } (expected ${expected})`
        : undefined,
  };
}
