/**
 * Small helpers for describing routes in the OpenAPI document.
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import { ErrorResponseSchema } from "../contracts/advertisements.ts";

/** A JSON response (or body) entry: `{description, content: {"application/json": {schema}}}`. */
export function json<T>(schema: T, description: string) {
  return { description, content: { "application/json": { schema } } };
}

/** The error answers every state-changing endpoint may give. */
export const changeErrors = {
  400: json(ErrorResponseSchema, "Malformed request; nothing was changed."),
  401: json(ErrorResponseSchema, "API_TOKEN is set and the request carries no bearer token."),
  403: json(ErrorResponseSchema, "The bearer token is not API_TOKEN."),
};

/** A 404 answer. */
export function notFoundError(description: string) {
  return { 404: json(ErrorResponseSchema, description) };
}

/**
 * An error answer described inline (`{error: {code, message}}`, not the
 * named `Error` schema).
 */
export function inlineError(description: string) {
  return json(
    z.object({ error: z.object({ code: z.string(), message: z.string() }) }),
    description,
  );
}
