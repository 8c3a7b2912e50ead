/**
 * The system register's entries over HTTP, a page at a time, as the hub and
 * every peer's replica serve them (`GET /api/system-register/blueprints`
 * and `/{blueprintId}`): the query (`sinceVersion`, `limit`), its checks,
 * the path parameter, and cutting a page with the `sinceVersion` of the next.
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import { BlueprintIdSchema } from "../contracts/system_register.ts";
import { AppError } from "../errors.ts";

/** Entries per page unless `limit` says otherwise. */
export const DEFAULT_PAGE_SIZE = 100;
/** Most entries per page. */
export const MAX_PAGE_SIZE = 1000;

const intParam = (name: string, description: string) =>
  z.string().regex(/^\d{1,15}$/, { message: "must be a non-negative integer" }).optional()
    .openapi({ param: { name, in: "query" }, description });

/** The query of a page: `sinceVersion` and `limit`. */
export const BlueprintPageQuery = z.object({
  sinceVersion: intParam("sinceVersion", "Only entries after this version (default 0)."),
  limit: intParam(
    "limit",
    `Entries per page, 1 to ${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE}).`,
  ),
});

/** The path parameters of one blueprint's entry. */
export const BlueprintParams = z.object({
  blueprintId: BlueprintIdSchema.openapi({ param: { name: "blueprintId", in: "path" } }),
});

/**
 * The page a query asks for: after which version, and how many entries.
 * Throws invalid_argument when `limit` is out of range.
 */
export function pageOf(
  query: z.output<typeof BlueprintPageQuery>,
): { after: number; limit: number } {
  const limit = Number(query.limit ?? DEFAULT_PAGE_SIZE);
  if (limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new AppError(
      "invalid_argument",
      `Cannot list blueprints: limit must be between 1 and ${MAX_PAGE_SIZE}`,
    );
  }
  return { after: Number(query.sinceVersion ?? 0), limit };
}

/**
 * A page from up to `limit + 1` entries read in version order: the first
 * `limit`, and the `sinceVersion` of the next page (null when there is none).
 */
export function cutPage<T extends { version: number }>(
  entries: readonly T[],
  limit: number,
): { page: T[]; nextSinceVersion: number | null } {
  const page = entries.slice(0, limit);
  return {
    page,
    nextSinceVersion: entries.length > limit ? page[page.length - 1]!.version : null,
  };
}
