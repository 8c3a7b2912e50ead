/**
 * Turns zod validation failures into {@link AppError}s whose message names the
 * field and says what is wrong.
 *
 * @module
 */
import type { z } from "zod";
import { describeUnknownFields } from "../contracts/fields.ts";
import { AppError } from "../errors.ts";
import { shortenInput } from "../quote.ts";

function fieldPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else {
      // A record's key is the client's input: cut when long.
      const name = shortenInput(String(part));
      out += out === "" ? name : `.${name}`;
    }
  }
  return out;
}

function describe(issue: z.core.$ZodIssue): string {
  // zod's own wording quotes every unknown key whole; ours cuts them (a schema's own
  // `unknownFields` setting already does).
  if (issue.code === "unrecognized_keys" && !issue.message.startsWith("unknown field")) {
    return describeUnknownFields(issue.keys);
  }
  const message = issue.message.replace(/^Invalid input: /, "");
  if (/received undefined$/.test(message)) return "is required";
  return message;
}

/** One line describing a validation failure: `advertisements[2].registerId must be 32 hex characters`. */
export function describeIssues(error: z.ZodError): string {
  const shown = error.issues.slice(0, 3).map((issue) => {
    const field = fieldPath(issue.path);
    return field === "" ? describe(issue) : `${field} ${describe(issue)}`;
  });
  const more = error.issues.length > 3 ? ` (and ${error.issues.length - 3} more problems)` : "";
  return shown.join("; ") + more;
}

/** An `invalid_argument` error: `<action>: <field> <what is wrong>`. */
export function invalidArgument(action: string, error: z.ZodError): AppError {
  return new AppError("invalid_argument", `${action}: ${describeIssues(error)}`, {
    details: {
      issues: error.issues.slice(0, 20).map((issue) => ({
        field: fieldPath(issue.path),
        message: describe(issue),
      })),
    },
  });
}
