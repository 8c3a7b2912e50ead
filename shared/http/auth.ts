/**
 * Bearer-token protection of the endpoints that change state.
 *
 * @module
 */
import { timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { AppError } from "../errors.ts";
import { shortenInput } from "../quote.ts";

const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

async function digest(value: string): Promise<Uint8Array> {
  return new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value)),
  );
}

/**
 * Compares two secrets in constant time: both are hashed first, so neither
 * their content nor their length shows in the time taken.
 */
export async function secretsEqual(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([digest(given), digest(expected)]);
  return timingSafeEqual(a, b);
}

/** Options of {@link requireTokenForChanges}. */
export interface TokenOptions {
  /** The token's variable name, shown in error messages (default `API_TOKEN`). */
  name?: string;
  /** Paths left to their own credential (checked by `startsWith`). */
  except?: readonly string[];
}

/**
 * Middleware requiring `Authorization: Bearer <token>` on POST, PUT, PATCH and
 * DELETE requests. Reads pass freely. Without a token it lets everything pass.
 */
export function requireTokenForChanges(
  token: string | undefined,
  options: TokenOptions = {},
): MiddlewareHandler {
  const name = options.name ?? "API_TOKEN";
  const except = options.except ?? [];
  return async (c, next) => {
    if (token === undefined || !STATE_CHANGING.has(c.req.method)) return await next();
    if (except.some((prefix) => c.req.path.startsWith(prefix))) return await next();
    await checkBearer(c, { token, name });
    await next();
  };
}

/** Middleware requiring `Authorization: Bearer <token>` on every request when `token` is set. */
export function requireToken(token: string | undefined, name: string): MiddlewareHandler {
  return async (c, next) => {
    if (token !== undefined) await checkBearer(c, { token, name });
    await next();
  };
}

/** Throws unless the request carries `Authorization: Bearer <expected.token>`. */
async function checkBearer(c: Context, expected: { token: string; name: string }): Promise<void> {
  const request = `${shortenInput(c.req.method)} ${shortenInput(c.req.path)}`;
  const header = c.req.header("authorization");
  const match = header?.match(/^Bearer\s+(.+)$/i);
  if (!match) {
    throw new AppError(
      "unauthenticated",
      `${request} needs an "Authorization: Bearer <${expected.name}>" header`,
    );
  }
  if (!(await secretsEqual(match[1]!.trim(), expected.token))) {
    throw new AppError(
      "permission_denied",
      `${request}: the bearer token is not valid (expected ${expected.name})`,
    );
  }
}
