/**
 * The peer's advertisement HTTP contract (contracts.md §2) as zod schemas,
 * shared by the peer (validation, OpenAPI document) and by clients
 * (response validation).
 *
 * @module
 */
import { z } from "@hono/zod-openapi";

import { requiredOr, strictFields } from "./fields.ts";

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

/** Most parts one full sync may be sent in. */
export const MAX_SYNC_PARTS = 100_000;

/** A full sync's id, shared by its parts: 1 to 64 of `A-Z a-z 0-9 _ -`. */
export const SyncIdSchema = z.string(requiredOr("must be 1 to 64 of A-Z a-z 0-9 _ -"))
  .regex(/^[A-Za-z0-9_-]{1,64}$/, { message: "must be 1 to 64 of A-Z a-z 0-9 _ -" })
  .openapi({ example: "5b0e2c51f7a94c4e8f1d3a6b9c2e7d40" });

/** `part` and `lastPart` go with `syncId`, and `syncId` with `part`. */
function checkPartFields(
  request: {
    syncId?: string | undefined;
    part?: number | undefined;
    lastPart?: boolean | undefined;
  },
  context: z.RefinementCtx,
): void {
  if (request.syncId === undefined) {
    for (const field of ["part", "lastPart"] as const) {
      if (request[field] === undefined) continue;
      context.addIssue({
        code: "custom",
        path: [field],
        message: "is only for a part (with syncId)",
      });
    }
  } else if (request.part === undefined) {
    context.addIssue({ code: "custom", path: ["part"], message: "is required with syncId" });
  }
}

/** A version number (int64 on the wire, a safe integer here). */
export const VersionSchema = z.number(requiredOr("must be a whole number from 0"))
  .int({ message: "must be a whole number from 0" })
  .min(0, { message: "must be a whole number from 0" })
  .max(Number.MAX_SAFE_INTEGER, { message: "must be at most 2^53-1" });

/**
 * One advertisement in a bulk request. Unknown fields are refused, as in every
 * body here (a typo must not pass silently).
 */
export const AdvertisementItemSchema = strictFields({
  registerId: RegisterIdSchema,
  isPublic: z.boolean(requiredOr("must be true or false")).openapi({
    description:
      "false keeps the advertisement private: never listed as available, never sent to other peers.",
  }),
  latestVersion: VersionSchema.default(0),
  latestDocketVersion: VersionSchema.default(0),
}).openapi("AdvertisementItem");

/** `POST /api/registers/bulk-advertise` body. Unknown fields are refused. */
export const BulkAdvertiseRequestSchema = strictFields({
  advertisements: z.array(AdvertisementItemSchema, requiredOr("must be an array"))
    .max(MAX_BULK_ITEMS, { message: `must hold at most ${MAX_BULK_ITEMS} items` })
    .openapi({
      description:
        "Each register at most once (ids compared case-insensitively); a repeated one is a 400.",
    }),
  fullSync: z.boolean(requiredOr("must be true or false")).default(false).openapi({
    description:
      "true: the list is the complete set of local advertisements; every other local advertisement is removed (remote ones are untouched). An empty list then means no public registers. Not looked at on a part (see syncId).",
  }),
  syncId: SyncIdSchema.optional().openapi({
    description:
      "Makes the request one part of a full sync sent in parts (more than 100,000 items): the same id on every part of one sync. The peer keeps the parts aside, changing nothing, and applies their union as one full sync (atomically) when the last part arrives. Absent: the request is applied on its own, as always.",
  }),
  part: z.number(requiredOr("must be a whole number from 0"))
    .int({ message: "must be a whole number from 0" })
    .min(0, { message: "must be a whole number from 0" })
    .max(MAX_SYNC_PARTS - 1, { message: `must be below ${MAX_SYNC_PARTS}` })
    .optional().openapi({
      description:
        "With syncId (required then): this part's number, 0 for the first, each next one 1 more. A part that is not the next one of a sync the peer holds is answered 412 (send the sync again from part 0).",
    }),
  lastPart: z.boolean(requiredOr("must be true or false")).optional().openapi({
    description:
      "With syncId: true on the last part, which applies the union of the parts as one full sync. Default false.",
  }),
}).superRefine(checkPartFields).openapi("BulkAdvertiseRequest");

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

/** `POST /api/registers/{registerId}/advertise` body. Unknown fields are refused. */
export const AdvertiseRegisterRequestSchema = strictFields({
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
    pendingWrites: z.number().int().openapi({
      description: "Writes sent to the store and not answered yet.",
    }),
  }),
  pendingSyncs: z.array(z.object({
    syncId: z.string(),
    parts: z.number().int().openapi({ description: "Parts received (0 to parts - 1)." }),
    items: z.number().int().openapi({ description: "Items received." }),
    expiresAt: z.string().openapi({
      description: "When the parts are dropped unless the next one comes.",
    }),
  })).optional().openapi({
    description:
      "Full syncs sent in parts whose last part has not come yet: nothing of them is applied.",
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
