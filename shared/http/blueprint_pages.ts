/**
 * The system register's entries over HTTP, a page at a time, as the hub and
 * every peer's replica serve them (`GET /api/system-register/blueprints`
 * and `/{blueprintId}`): the query (`sinceVersion`, `limit`), its checks,
 * the path parameter, cutting a page with the `sinceVersion` of the next,
 * and the two routes with their handlers over a source of entries.
 *
 * @module
 */
import { createRoute, z } from "@hono/zod-openapi";
import { BlueprintIdSchema } from "../contracts/system_register.ts";
import { AppError } from "../errors.ts";
import { quoteInput } from "../quote.ts";
import { type HttpApp, rejectInvalid } from "./app.ts";
import { changeErrors, json, notFoundError } from "./openapi.ts";

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

/** Where {@link addBlueprintPages} reads entries, and how it shows them. */
export interface BlueprintPagesOptions<E extends { version: number }> {
  /** The OpenAPI tags of both routes. */
  tags: string[];
  /** The list route's summary. */
  listSummary: string;
  /** The read route's summary. */
  readSummary: string;
  /** The list answer's schema. */
  listSchema: z.ZodTypeAny;
  /** One entry's schema. */
  entrySchema: z.ZodTypeAny;
  /** The description of the read route's 200 answer. */
  entryDescription: string;
  /** The description of the read route's 404 answer. */
  missingDescription: string;
  /** Where entries are kept, for the not-found message (`No blueprint "x" in ${where}`). */
  where: string;
  /** The current version and up to `limit` active entries after version `after`, in version order. */
  page(after: number, limit: number): Promise<{ currentVersion: number; entries: E[] }>;
  /** A blueprint's entry, or undefined when there is none. */
  latest(blueprintId: string): Promise<E | undefined>;
  /** An entry as JSON. */
  toJson(entry: E): unknown;
}

/**
 * Adds `GET /api/system-register/blueprints` (a page of entries) and
 * `GET /api/system-register/blueprints/{blueprintId}` (one entry) to `app`.
 */
export function addBlueprintPages<E extends { version: number }>(
  app: HttpApp,
  options: BlueprintPagesOptions<E>,
): void {
  const list = createRoute({
    method: "get",
    path: "/api/system-register/blueprints",
    tags: options.tags,
    summary: options.listSummary,
    request: { query: BlueprintPageQuery },
    responses: { 200: json(options.listSchema, "A page of entries."), 400: changeErrors[400] },
  });
  const read = createRoute({
    method: "get",
    path: "/api/system-register/blueprints/{blueprintId}",
    tags: options.tags,
    summary: options.readSummary,
    request: { params: BlueprintParams },
    responses: {
      200: json(options.entrySchema, options.entryDescription),
      400: changeErrors[400],
      ...notFoundError(options.missingDescription),
    },
  });

  app.openapi(
    list,
    async (c) => {
      const { after, limit } = pageOf(c.req.valid("query"));
      const { currentVersion, entries } = await options.page(after, limit + 1);
      const { page, nextSinceVersion } = cutPage(entries, limit);
      return c.json({
        currentVersion,
        blueprints: page.map(options.toJson),
        nextSinceVersion,
      }, 200);
    },
    rejectInvalid("Cannot list blueprints"),
  );

  app.openapi(
    read,
    async (c) => {
      const { blueprintId } = c.req.valid("param");
      const entry = await options.latest(blueprintId);
      if (!entry) {
        throw new AppError(
          "not_found",
          `No blueprint ${quoteInput(blueprintId)} in ${options.where}`,
        );
      }
      return c.json(options.toJson(entry), 200);
    },
    rejectInvalid("Cannot read blueprint"),
  );
}
