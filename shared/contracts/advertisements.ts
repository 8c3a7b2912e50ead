/**
 * The peer's advertisement HTTP contract (contracts.md §2) as zod schemas,
 * shared by the peer (validation, OpenAPI document) and by clients
 * (response validation).
 *
 * @module
 */
import { z } from "@hono/zod-openapi";

import { requiredOr } from "./fields.ts";

export { requiredOr };

/** Most items one bulk request may carry. */
export const MAX_BULK_ITEMS = 100_000;

/** A register id: 32 hex characters (a GUID without hyphens); the peer lower-cases it. */
export const RegisterIdSchema = z.string(requiredOr("must be 32 hex characters"))
  .regex(/^[0-9a-fA-F]{32}$/, { message: "must be 32 hex characters" })
  .openapi({
    description:
      "32 hex characters: a GUID without hyphens. Upper case is accepted and stored in lower case.",
    example: "6f1c2a0e9b3d4f7a8c5e1d2b3a4f5e6d",
  });

/** A version number (int64 on the wire, a safe integer here). */
export const VersionSchema = z.number(requiredOr("must be a whole number from 0"))
  .int({ message: "must be a whole number from 0" })
  .min(0, { message: "must be a whole number from 0" })
  .max(Number.MAX_SAFE_INTEGER, { message: "must be at most 2^53-1" });

/** One advertisement in a bulk request. */
export const AdvertisementItemSchema = z.object({
  registerId: RegisterIdSchema,
  isPublic: z.boolean(requiredOr("must be true or false")).openapi({
    description:
      "false keeps the advertisement private: never listed as available, never sent to other peers.",
  }),
  latestVersion: VersionSchema.default(0),
  latestDocketVersion: VersionSchema.default(0),
}).openapi("AdvertisementItem");

/** `POST /api/registers/bulk-advertise` body. */
export const BulkAdvertiseRequestSchema = z.object({
  advertisements: z.array(AdvertisementItemSchema, requiredOr("must be an array"))
    .max(MAX_BULK_ITEMS, { message: `must hold at most ${MAX_BULK_ITEMS} items` })
    .openapi({
      description:
        "Each register at most once (ids compared case-insensitively); a repeated one is a 400.",
    }),
  fullSync: z.boolean(requiredOr("must be true or false")).default(false).openapi({
    description:
      "true: the list is the complete set of local advertisements; every other local advertisement is removed (remote ones are untouched). An empty list then means no public registers.",
  }),
}).openapi("BulkAdvertiseRequest");

/** `POST /api/registers/bulk-advertise` answer. */
export const BulkAdvertiseResponseSchema = z.object({
  processed: z.number().int().openapi({ description: "Items received." }),
  added: z.number().int().openapi({ description: "New advertisements." }),
  updated: z.number().int().openapi({ description: "Advertisements whose values changed." }),
  removed: z.number().int().openapi({
    description: "Local advertisements a full sync removed.",
  }),
  unchanged: z.number().int().openapi({
    description: "Advertisements already as sent: their lease was renewed, nothing was rewritten.",
  }),
  persisted: z.boolean().openapi({
    description:
      "Whether the store took the changes now; false while it is unreachable (they are written once it returns).",
  }),
}).openapi("BulkAdvertiseResponse");

/** One entry of `GET /api/registers/available`. */
export const AvailableRegisterInfoSchema = z.object({
  registerId: z.string(),
  peerCount: z.number().int().openapi({
    description: "Distinct other peers advertising the register.",
  }),
  latestVersion: z.number().int().openapi({ description: "Highest version seen." }),
  latestDocketVersion: z.number().int().openapi({ description: "Highest docket version seen." }),
  isPublic: z.boolean(),
  fullReplicaPeerCount: z.number().int().openapi({
    description: "Other peers holding a full replica.",
  }),
  isLocal: z.boolean().openapi({
    description: "Whether this node advertises the register itself.",
  }),
}).openapi("AvailableRegisterInfo");

/** `GET /api/registers/available` answer. */
export const AvailableRegistersSchema = z.array(AvailableRegisterInfoSchema);

/** `POST /api/registers/{registerId}/advertise` body. */
export const AdvertiseRegisterRequestSchema = z.object({
  isPublic: z.boolean(requiredOr("must be true or false")),
  latestVersion: VersionSchema.optional().openapi({
    description: "Optional; when absent the version already known is kept.",
  }),
  latestDocketVersion: VersionSchema.optional().openapi({
    description: "Optional; when absent the docket version already known is kept.",
  }),
}).openapi("AdvertiseRegisterRequest");

/** An advertisement as the peer keeps it. */
export const AdvertisementSchema = z.object({
  registerId: z.string(),
  peerId: z.string().optional(),
  syncState: z.enum(["Subscribing", "Syncing", "FullyReplicated", "Active", "Error"]),
  latestVersion: z.number().int(),
  latestDocketVersion: z.number().int(),
  isPublic: z.boolean(),
  lastUpdated: z.string(),
  expiresAt: z.string().openapi({ description: "When the lease ends unless renewed." }),
}).openapi("Advertisement");

/** `POST /api/registers/{registerId}/advertise` answer. */
export const AdvertiseRegisterResponseSchema = z.object({
  outcome: z.enum(["added", "updated", "unchanged"]),
  advertisement: AdvertisementSchema,
  persisted: z.boolean(),
}).openapi("AdvertiseRegisterResponse");

/** `DELETE /api/registers/{registerId}/advertise` answer. */
export const WithdrawRegisterResponseSchema = z.object({
  registerId: z.string(),
  removed: z.boolean().openapi({
    description: "false when the register was not advertised (the call is idempotent).",
  }),
  persisted: z.boolean(),
}).openapi("WithdrawRegisterResponse");

const CountsSchema = z.object({
  processed: z.number().int(),
  added: z.number().int(),
  updated: z.number().int(),
  removed: z.number().int(),
});

/** `GET /api/registers/sync-state` answer. */
export const SyncStateResponseSchema = z.object({
  lastFullSync: z.object({
    at: z.string(),
    counts: CountsSchema,
    outcome: z.enum(["persisted", "memory-only"]),
    storeError: z.string().optional(),
  }).nullable().openapi({ description: "The last full sync received, null before the first." }),
  localCount: z.number().int().openapi({ description: "Live local advertisements." }),
  publicLocalCount: z.number().int(),
  remoteCount: z.number().int().openapi({ description: "Live remote advertisements." }),
  ttlSeconds: z.number(),
  leaseSeconds: z.number().openapi({
    description: "TTL plus grace: how long an advertisement stays without a refresh.",
  }),
  store: z.object({
    kind: z.string(),
    state: z.enum(["starting", "ok", "degraded"]),
    loaded: z.boolean(),
    lastError: z.string().optional(),
  }),
}).openapi("SyncState");

/** The JSON error body every service answers with. */
export const ErrorResponseSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
}).openapi("Error");

/** Bulk request body as parsed (defaults applied). */
export type BulkAdvertiseRequest = z.output<typeof BulkAdvertiseRequestSchema>;
/** Bulk request body as sent (defaults optional). */
export type BulkAdvertiseInput = z.input<typeof BulkAdvertiseRequestSchema>;
/** One parsed bulk item. */
export type AdvertisementItem = z.output<typeof AdvertisementItemSchema>;
/** Bulk answer. */
export type BulkAdvertiseResponse = z.output<typeof BulkAdvertiseResponseSchema>;
/** One available register. */
export type AvailableRegisterInfo = z.output<typeof AvailableRegisterInfoSchema>;
/** Single advertise body. */
export type AdvertiseRegisterRequest = z.output<typeof AdvertiseRegisterRequestSchema>;
/** Single advertise body as sent (versions optional). */
export type AdvertiseRegisterInput = z.input<typeof AdvertiseRegisterRequestSchema>;
/** Single advertise answer. */
export type AdvertiseRegisterResponse = z.output<typeof AdvertiseRegisterResponseSchema>;
/** Withdraw answer. */
export type WithdrawRegisterResponse = z.output<typeof WithdrawRegisterResponseSchema>;
/** Sync-state answer. */
export type SyncStateResponse = z.output<typeof SyncStateResponseSchema>;
