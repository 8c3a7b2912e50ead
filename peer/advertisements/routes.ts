/**
 * The peer's advertisement endpoints (contracts.md §2).
 *
 * @module
 */
import { createRoute, z } from "@hono/zod-openapi";
import { type HttpApp, rejectInvalid } from "../../shared/http/app.ts";
import { changeErrors, json } from "../../shared/http/openapi.ts";
import { quoteInput } from "../../shared/quote.ts";
import {
  AdvertiseRegisterRequestSchema,
  AdvertiseRegisterResponseSchema,
  type AvailableRegisterInfo,
  AvailableRegistersSchema,
  BulkAdvertiseRequestSchema,
  BulkAdvertiseResponseSchema,
  RegisterIdSchema,
  SyncStateResponseSchema,
  WithdrawRegisterResponseSchema,
} from "../../shared/contracts/advertisements.ts";
import type { AdvertisementRegistry } from "./registry.ts";

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

/** Body digests of bulk requests on their way to the handler. */
const bodyDigests = new WeakMap<Request, string>();

/** Adds the advertisement endpoints to an app. */
export function addAdvertisementRoutes(app: HttpApp, registry: AdvertisementRegistry): void {
  // A reconciliation that sends the same body as last time, with nothing
  // changed since, only renews leases: answered without parsing the body.
  app.use(bulkAdvertise.path, async (c, next) => {
    if (c.req.method !== "POST" || !c.req.header("content-type")?.includes("application/json")) {
      return await next();
    }
    const digest = await digestOf(await c.req.arrayBuffer());
    const renewed = await registry.renewIdentical(digest);
    if (renewed) return c.json(renewed, 200);
    bodyDigests.set(c.req.raw, digest);
    await next();
  });

  app.openapi(
    bulkAdvertise,
    async (c) => {
      const digest = bodyDigests.get(c.req.raw);
      return c.json(await registry.bulkAdvertise(c.req.valid("json"), { digest }), 200);
    },
    rejectInvalid("Cannot bulk-advertise registers"),
  );

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
    return c.json(registry.syncState(), 200);
  });
}
