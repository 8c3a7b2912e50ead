/**
 * The system register's HTTP contract as zod schemas, shared by the hub
 * (validation, OpenAPI document), by the peer's replica endpoints, and by
 * clients. Times are ISO 8601 (UTC); versions are integers.
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import { quoteInput } from "../quote.ts";
import { requiredOr, unknownFields } from "./fields.ts";
import { checkPlainText, plainTextProblem } from "./plain_text.ts";

/** The system register's id (contracts.md §1): every entry's `register_id`. */
export const SYSTEM_REGISTER_ID = "00000000-0000-0000-0000-000000000000";

/** The form of a blueprint id: 1–255 characters, letters, digits, `.`, `_`, `:`, `-`, starting with a letter or digit. */
export const BLUEPRINT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,254}$/;

const BLUEPRINT_ID_MESSAGE =
  'must be 1 to 255 characters: letters, digits, ".", "_", ":" or "-", starting with a letter or digit';

/** A blueprint id: 1–255 characters, URL-safe. */
export const BlueprintIdSchema = z.string(requiredOr(BLUEPRINT_ID_MESSAGE))
  .regex(BLUEPRINT_ID_PATTERN, { message: BLUEPRINT_ID_MESSAGE })
  .openapi({ example: "register-creation-v1" });

/** Largest metadata, in bytes of its JSON. */
export const MAX_METADATA_BYTES = 4095;
/** Largest document, in bytes of its JSON (16 MiB). */
export const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

/**
 * Publisher labels: string pairs under 4 KiB as JSON, keys and values plain
 * text (no control characters, well-formed Unicode: see `plain_text.ts`).
 */
export const MetadataSchema = z.record(
  z.string(),
  z.string({ message: "values must be strings" }),
  { message: "must be an object of string values" },
).refine(
  (map) => new TextEncoder().encode(JSON.stringify(map)).byteLength <= MAX_METADATA_BYTES,
  { message: "must be under 4 KiB as JSON" },
).superRefine((map, context) => {
  for (const [key, value] of Object.entries(map)) {
    const keyProblem = plainTextProblem(key);
    if (keyProblem !== undefined) {
      context.addIssue({ code: "custom", message: `key ${quoteInput(key)} ${keyProblem}` });
      return;
    }
    const valueProblem = plainTextProblem(value);
    if (valueProblem !== undefined) {
      context.addIssue({ code: "custom", path: [key], message: valueProblem });
      return;
    }
  }
}).openapi({
  description:
    "String labels, under 4 KiB as JSON; no control characters and no unpaired surrogates in keys or values.",
  example: { category: "registers" },
});

/** `POST /api/system-register/blueprints` body. */
export const PublishBlueprintRequestSchema = z.strictObject({
  blueprintId: BlueprintIdSchema,
  document: z.record(z.string(), z.unknown(), requiredOr("must be a JSON object")).openapi({
    description: "The blueprint: a JSON object, stored as its UTF-8 JSON bytes (at most 16 MiB).",
    example: { title: "Land title transfer", actions: [] },
  }),
  publishedBy: z.string({ message: "must be a string of 1 to 255 characters" })
    .superRefine(checkPlainText)
    .min(1, { message: "must be a string of 1 to 255 characters" })
    .max(255, { message: "must be a string of 1 to 255 characters" }).optional()
    .openapi({
      description:
        'Who publishes it (default "operator"); no control characters and no unpaired surrogates.',
    }),
  metadata: MetadataSchema.optional(),
}, unknownFields("blueprintId, document, publishedBy, metadata")).openapi(
  "PublishBlueprintRequest",
);

/** The kind of a publication, as subscribers are notified. */
export const NotificationKindSchema = z.enum(["BLUEPRINT_PUBLISHED", "BLUEPRINT_UPDATED"]);

/** `POST /api/system-register/blueprints` answer. */
export const PublishBlueprintResponseSchema = z.object({
  blueprintId: z.string(),
  version: z.number().int().openapi({ description: "Its place in the one sequence of versions." }),
  checksum: z.string().openapi({ example: `sha256:${"ab".repeat(32)}` }),
  publishedAt: z.string(),
  publishedBy: z.string(),
  created: z.boolean().openapi({
    description: "false (status 200): the same document, publisher and metadata were the " +
      "blueprint's active entry already; that entry is returned, nothing is stored and no one " +
      "is notified.",
  }),
  notification: NotificationKindSchema.nullable().openapi({
    description: "What subscribers were told: BLUEPRINT_UPDATED when the blueprint had a " +
      "version already; null when nothing was stored.",
  }),
}).openapi("PublishBlueprintResponse");

/** One entry of the register. */
export const BlueprintEntrySchema = z.object({
  blueprintId: z.string(),
  registerId: z.string(),
  version: z.number().int(),
  publishedAt: z.string(),
  publishedBy: z.string(),
  isActive: z.boolean(),
  publicationTransactionId: z.string(),
  checksum: z.string(),
  metadata: z.record(z.string(), z.string()),
  document: z.unknown().openapi({ description: "The blueprint document (JSON)." }),
}).openapi("BlueprintEntry");

/** `GET /api/system-register/blueprints` answer. */
export const BlueprintListSchema = z.object({
  currentVersion: z.number().int(),
  blueprints: z.array(BlueprintEntrySchema),
  nextSinceVersion: z.number().int().nullable().openapi({
    description: "Pass as `sinceVersion` for the next page; null when this page is the last.",
  }),
}).openapi("BlueprintList");

/** The integrity state. */
export const IntegritySchema = z.object({
  state: z.enum(["intact", "corrupt"]),
  checkedAt: z.string(),
  entries: z.number().int(),
  version: z.number().int().openapi({
    description: "Intact: the last version checked. Corrupt: the first bad entry.",
  }),
  durationMs: z.number(),
  blueprintId: z.string().optional(),
  problem: z.string().optional(),
}).openapi("Integrity");

/** `GET /api/system-register` answer. */
export const SystemRegisterInfoSchema = z.object({
  registerId: z.string(),
  blueprintCount: z.number().int().openapi({ description: "Active blueprints." }),
  entryCount: z.number().int().openapi({ description: "Entries, including superseded versions." }),
  currentVersion: z.number().int(),
  lastPublishedAt: z.string().nullable(),
  store: z.string().openapi({ description: "`sqlite` or `mongodb`." }),
  integrity: IntegritySchema,
}).openapi("SystemRegisterInfo");

/** Publish request as parsed. */
export type PublishBlueprintRequest = z.output<typeof PublishBlueprintRequestSchema>;
/** Publish answer. */
export type PublishBlueprintResponse = z.output<typeof PublishBlueprintResponseSchema>;
/** An entry as JSON. */
export type BlueprintEntryJson = z.output<typeof BlueprintEntrySchema>;
