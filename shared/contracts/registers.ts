/**
 * The register service's HTTP contract as zod schemas, shared by the service
 * (validation, OpenAPI document) and by clients (answer validation).
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import { BulkAdvertiseResponseSchema, VersionSchema } from "./advertisements.ts";
import { requiredOr, unknownFields } from "./fields.ts";
import { checkPlainText } from "./plain_text.ts";

const NAME_MESSAGE = "must be a string of 1 to 200 characters";

/**
 * A register's name: trimmed, 1 to 200 characters, with no control character
 * and no unpaired surrogate anywhere (checked before trimming): such a name
 * is refused, never stored changed (see `plain_text.ts`).
 */
export const RegisterNameSchema = z.string(requiredOr(NAME_MESSAGE))
  .superRefine(checkPlainText).trim()
  .min(1, { message: NAME_MESSAGE }).max(200, { message: NAME_MESSAGE })
  .openapi({
    description:
      "1 to 200 characters once trimmed; no control characters (U+0000–U+001F, U+007F–U+009F) and no unpaired surrogates.",
    example: "Land titles",
  });

const flag = (description: string) =>
  z.boolean(requiredOr("must be true or false")).openapi({ description });

/** A register as the service answers it. */
export const RegisterSchema = z.object({
  id: z.string().openapi({
    description: "32 lower-case hex characters, generated at creation.",
    example: "6f1c2a0e9b3d4f7a8c5e1d2b3a4f5e6d",
  }),
  name: z.string(),
  advertise: z.boolean().openapi({ description: "Whether the peer network is told about it." }),
  isPublic: z.boolean().openapi({
    description: "Whether an advertised register is listed as available; false keeps it private.",
  }),
  latestVersion: z.number().int(),
  latestDocketVersion: z.number().int(),
  createdAt: z.string().openapi({ description: "ISO 8601, UTC." }),
  updatedAt: z.string().openapi({ description: "ISO 8601, UTC." }),
}).openapi("Register");

/** `GET /api/registers` answer. */
export const RegisterListSchema = z.array(RegisterSchema);

/** `POST /api/registers` body. Unknown fields are refused (a typo must not pass silently). */
export const CreateRegisterRequestSchema = z.strictObject({
  name: RegisterNameSchema,
  advertise: flag("Whether to advertise the register to the peer network."),
  isPublic: flag("Whether it is listed as available when advertised (default true).")
    .default(true),
}, unknownFields("name, advertise, isPublic")).openapi("CreateRegisterRequest");

/** The fields `PATCH /api/registers/{id}` may change. */
export const UPDATABLE_FIELDS = [
  "name",
  "advertise",
  "isPublic",
  "latestVersion",
  "latestDocketVersion",
] as const;

/** `PATCH /api/registers/{id}` body: at least one field. */
export const UpdateRegisterRequestSchema = z.strictObject({
  name: RegisterNameSchema.optional(),
  advertise: flag("Whether to advertise the register to the peer network.").optional(),
  isPublic: flag("Whether it is listed as available when advertised.").optional(),
  latestVersion: VersionSchema.optional(),
  latestDocketVersion: VersionSchema.optional(),
}, unknownFields(UPDATABLE_FIELDS.join(", ")))
  .refine((body) => UPDATABLE_FIELDS.some((field) => body[field] !== undefined), {
    message: `must change at least one of ${UPDATABLE_FIELDS.join(", ")}`,
    // Only when the fields are otherwise valid: an unknown field is the message that helps.
    when: (payload) => payload.issues.length === 0,
  })
  .openapi("UpdateRegisterRequest");

/** `DELETE /api/registers/{id}` answer: the register as it was. */
export const DeleteRegisterResponseSchema = z.object({
  deleted: RegisterSchema,
}).openapi("DeleteRegisterResponse");

/** `GET /api/resync/status` answer (and `POST /api/resync` on success). */
export const ResyncStatusSchema = z.object({
  peerUrl: z.string(),
  intervalSeconds: z.number(),
  schedule: z.string().openapi({
    description: "How reconciliations repeat: a Deno.cron expression (UTC) or `every <n> s`.",
  }),
  running: z.boolean().openapi({ description: "Whether a push to the peer is under way." }),
  retrying: z.boolean().openapi({
    description: "Whether the last push failed and a retry with backoff is pending.",
  }),
  lastSyncAt: z.string().nullable().openapi({
    description: "When the last full sync attempt ended, null before the first.",
  }),
  lastStatus: z.enum(["never", "succeeded", "failed"]),
  lastTrigger: z.enum(["startup", "interval", "manual", "retry"]).nullable(),
  lastDurationMs: z.number().nullable(),
  registerCount: z.number().int().nullable().openapi({
    description: "Registers with advertise: true sent in the last attempt.",
  }),
  lastError: z.string().nullable().openapi({
    description: "Why the last attempt failed; null when it succeeded.",
  }),
  lastResult: BulkAdvertiseResponseSchema.nullable().openapi({
    description: "The peer's counts for the last successful full sync.",
  }),
  lastSuccessAt: z.string().nullable(),
  consecutiveFailures: z.number().int(),
  nextDueAt: z.string().nullable().openapi({
    description: "When the next attempt is due: the next retry while retrying, else the next run.",
  }),
}).openapi("ResyncStatus");

/** A register. */
export type RegisterJson = z.output<typeof RegisterSchema>;
/** Create body as parsed. */
export type CreateRegisterRequest = z.output<typeof CreateRegisterRequestSchema>;
/** Create body as sent. */
export type CreateRegisterInput = z.input<typeof CreateRegisterRequestSchema>;
/** Patch body. */
export type UpdateRegisterRequest = z.output<typeof UpdateRegisterRequestSchema>;
/** Resync status. */
export type ResyncStatus = z.output<typeof ResyncStatusSchema>;
