/**
 * The peer's advertisement endpoints (contracts.md §2): the wire schemas of
 * `shared/contracts/advertisements.ts` mapped to and from the registry's
 * types (`registry.ts`).
 *
 * A bulk request's body is read as bytes and its digest handed to the
 * registry with a way to parse it: a body identical to the last one applied,
 * with nothing changed since, only renews leases and is never parsed.
 *
 * @module
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import {
  changeErrors,
  type HttpApp,
  invalidArgument,
  json,
  rejectInvalid,
} from "../../shared/http/mod.ts";
import { quoteInput } from "../../shared/quote.ts";
import {
  AdvertiseRegisterRequestSchema,
  AdvertiseRegisterResponseSchema,
  type AvailableRegisterInfo,
  AvailableRegistersSchema,
  type BulkAdvertiseRequest,
  BulkAdvertiseRequestSchema,
  type BulkAdvertiseResponse,
  BulkAdvertiseResponseSchema,
  RegisterIdSchema,
  type SyncStateResponse,
  SyncStateResponseSchema,
  WithdrawRegisterResponseSchema,
} from "../../shared/contracts/advertisements.ts";
import type { AdvertisementRegistry, BulkRequest } from "./registry.ts";

const errors = changeErrors;

const RegisterParams = z.object({
  registerId: RegisterIdSchema.openapi({ param: { name: "registerId", in: "path" } }),
});

const bulkAdvertise = createRoute({
  method: "post",
  path: "/api/registers/bulk-advertise",
  tags: ["Registers"],
  summary: "Advertise many registers at once; with fullSync, replace the local set",
  security: [{ bearer: [] }],
  request: {
    body: {
      required: true,
      content: { "application/json": { schema: BulkAdvertiseRequestSchema } },
    },
  },
  responses: { 200: json(BulkAdvertiseResponseSchema, "Counts of what changed."), ...errors },
});

const available = createRoute({
  method: "get",
  path: "/api/registers/available",
  tags: ["Registers"],
  summary: "Public registers advertised here or by other peers",
  responses: { 200: json(AvailableRegistersSchema, "One entry per register, sorted by id.") },
});

const advertise = createRoute({
  method: "post",
  path: "/api/registers/{registerId}/advertise",
  tags: ["Registers"],
  summary: "Advertise one local register (or renew its lease)",
  security: [{ bearer: [] }],
  request: {
    params: RegisterParams,
    body: {
      required: true,
      content: { "application/json": { schema: AdvertiseRegisterRequestSchema } },
    },
  },
  responses: { 200: json(AdvertiseRegisterResponseSchema, "The advertisement."), ...errors },
});

const withdraw = createRoute({
  method: "delete",
  path: "/api/registers/{registerId}/advertise",
  tags: ["Registers"],
  summary: "Stop advertising one local register",
  security: [{ bearer: [] }],
  request: { params: RegisterParams },
  responses: { 200: json(WithdrawRegisterResponseSchema, "Whether it was advertised."), ...errors },
});

const syncState = createRoute({
  method: "get",
  path: "/api/registers/sync-state",
  tags: ["Registers"],
  summary: "The last full sync (when, counts, outcome) and the store's state",
  responses: { 200: json(SyncStateResponseSchema, "Sync state.") },
});

/** SHA-256 of a request body, in hex. */
async function digestOf(body: ArrayBuffer): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
  return Array.from(hash, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** A JSON media type, with parameters, as the other routes' validation takes it. */
const JSON_CONTENT_TYPE = /^application\/([a-z-.]+\+)?json(;\s*[a-zA-Z0-9-]+=([^;]+))*$/i;

/**
 * A bulk request's body, as bytes: `415` unless it is sent as JSON (an empty body may come
 * without a content type, and then parses as `{}`).
 */
async function bulkBody(c: Context): Promise<ArrayBuffer | undefined> {
  const contentType = c.req.header("content-type");
  const body = await c.req.arrayBuffer();
  const json = contentType === undefined
    ? body.byteLength === 0
    : JSON_CONTENT_TYPE.test(contentType);
  if (!json) throw new HTTPException(415, { message: "Unsupported Media Type" });
  return contentType === undefined ? undefined : body;
}

/** A bulk request's body parsed and checked: `400` naming what is wrong, as the other routes. */
function parseBulk(body: ArrayBuffer | undefined): BulkRequest {
  let value: unknown = {};
  if (body !== undefined) {
    try {
      value = JSON.parse(new TextDecoder().decode(body));
    } catch {
      throw new HTTPException(400, { message: "Malformed JSON in request body" });
    }
  }
  const result = BulkAdvertiseRequestSchema.safeParse(value);
  if (!result.success) throw invalidArgument("Cannot bulk-advertise registers", result.error);
  return result.data satisfies BulkAdvertiseRequest;
}

/** Adds the advertisement endpoints to an app. */
export function addAdvertisementRoutes(app: HttpApp, registry: AdvertisementRegistry): void {
  // Documented like the others, but served by a handler that reads the body itself, so that
  // an identical body is recognised by its digest before anything parses it.
  app.openAPIRegistry.registerPath(bulkAdvertise);
  app.post(bulkAdvertise.path, async (c) => {
    const body = await bulkBody(c);
    const digest = body === undefined ? undefined : await digestOf(body);
    const result = await registry.bulkAdvertise(() => parseBulk(body), { digest });
    return c.json(result satisfies BulkAdvertiseResponse, 200);
  });

  app.openapi(available, async (c) => {
    await registry.start();
    // The cached JSON text is sent as is; its shape is AvailableRegistersSchema.
    return c.body(registry.availableJson(), 200, {
      "content-type": "application/json",
    }) as unknown as ReturnType<typeof c.json<AvailableRegisterInfo[], 200>>;
  });

  app.openapi(
    advertise,
    async (c) => {
      const { registerId } = c.req.valid("param");
      const result = await registry.advertise(registerId, c.req.valid("json"));
      return c.json({
        outcome: result.outcome,
        persisted: result.persisted,
        advertisement: {
          ...result.entry.advertisement,
          expiresAt: new Date(result.entry.expiresAt).toISOString(),
        },
      }, 200);
    },
    rejectInvalid((c) => `Cannot advertise register ${quoteInput(c.req.param("registerId"))}`),
  );

  app.openapi(
    withdraw,
    async (c) => {
      return c.json(await registry.withdraw(c.req.valid("param").registerId), 200);
    },
    rejectInvalid((c) => `Cannot withdraw register ${quoteInput(c.req.param("registerId"))}`),
  );

  app.openapi(syncState, async (c) => {
    await registry.start();
    return c.json(registry.syncState() satisfies SyncStateResponse, 200);
  });
}
