/**
 * The hub's HTTP endpoints: the system register (state, publishing, entries)
 * and the peers connected over gRPC.
 *
 * @module
 */
import { createRoute, z } from "@hono/zod-openapi";
import {
  BlueprintEntrySchema,
  BlueprintListSchema,
  PublishBlueprintRequestSchema,
  PublishBlueprintResponseSchema,
  SystemRegisterInfoSchema,
} from "../../shared/contracts/system_register.ts";
import { AppError } from "../../shared/errors.ts";
import {
  addBlueprintPages,
  changeErrors,
  type HttpApp,
  inlineError,
  json,
  rejectInvalid,
} from "../../shared/http/mod.ts";
import { quoteInput } from "../../shared/quote.ts";
import type { SystemRegister } from "../system_register/mod.ts";
import { entryJson, iso, registerInfoJson } from "./convert.ts";
import type { PeerSessions } from "../peers/sessions.ts";

const encoder = new TextEncoder();
const tags = ["System register"];

const info = createRoute({
  method: "get",
  path: "/api/system-register",
  tags,
  summary: "The system register: id, blueprints, current version, integrity",
  responses: { 200: json(SystemRegisterInfoSchema, "The register's state.") },
});

const publish = createRoute({
  method: "post",
  path: "/api/system-register/blueprints",
  tags,
  summary:
    "Publish a blueprint (a new version when its id exists); subscribers are notified. Publishing what is active already changes nothing",
  security: [{ bearer: [] }],
  request: {
    body: {
      required: true,
      content: { "application/json": { schema: PublishBlueprintRequestSchema } },
    },
  },
  responses: {
    201: json(PublishBlueprintResponseSchema, "Stored, with its version and checksum."),
    200: json(
      PublishBlueprintResponseSchema,
      "The same document, publisher and metadata are the blueprint's active entry already: that entry, unchanged (`created: false`); no version is made and no one is notified.",
    ),
    ...changeErrors,
    403: inlineError(
      "The bearer token is not API_TOKEN, or the blueprint is the genesis (`register-creation-v1`), which only the hub publishes.",
    ),
    412: inlineError("The register is corrupt; nothing is published until it is repaired."),
  },
});

/** Adds the system-register endpoints to `app`. */
export function addSystemRegisterRoutes(app: HttpApp, register: SystemRegister): void {
  app.openapi(info, async (c) => {
    const head = await register.store.head();
    return c.json(
      registerInfoJson(head, { integrity: register.integrity, store: register.store.kind }),
      200,
    );
  });

  app.openapi(
    publish,
    async (c) => {
      const body = c.req.valid("json");
      const document = encoder.encode(JSON.stringify(body.document));
      const action = `Cannot publish blueprint ${quoteInput(body.blueprintId)}`;
      if (document.byteLength > 16 * 1024 * 1024) {
        throw new AppError("payload_too_large", `${action}: its document is larger than 16 MiB`);
      }
      const outcome = await register.publish({
        blueprintId: body.blueprintId,
        document,
        publishedBy: body.publishedBy ?? "operator",
        metadata: body.metadata ?? {},
      });
      const { entry } = outcome;
      const answer = {
        blueprintId: entry.blueprintId,
        version: entry.version,
        checksum: entry.checksum,
        publishedAt: iso(entry.publishedAt),
        publishedBy: entry.publishedBy,
      };
      if (!outcome.created) return c.json({ ...answer, created: false, notification: null }, 200);
      return c.json({
        ...answer,
        created: true,
        notification: outcome.kind === "updated"
          ? "BLUEPRINT_UPDATED" as const
          : "BLUEPRINT_PUBLISHED" as const,
      }, 201);
    },
    rejectInvalid("Cannot publish blueprint"),
  );

  addBlueprintPages(app, {
    tags,
    listSummary: "Active entries after a version, in version order, a page at a time",
    readSummary: "A blueprint's active entry",
    listSchema: BlueprintListSchema,
    entrySchema: BlueprintEntrySchema,
    entryDescription: "The blueprint's current version.",
    missingDescription: "No blueprint has this id.",
    where: "the system register",
    page: async (after, limit) => {
      const currentVersion = await register.store.currentVersion();
      const entries = [];
      for await (
        const entry of register.entries({ afterVersion: after, activeOnly: true, limit })
      ) {
        entries.push(entry);
      }
      return { currentVersion, entries };
    },
    latest: (blueprintId) => register.store.latest(blueprintId),
    toJson: entryJson,
  });
}

const PeerSchema = z.object({
  peerId: z.string(),
  sessionId: z.string(),
  address: z.string(),
  port: z.number().int(),
  connectedAt: z.string(),
  lastHeartbeatAt: z.string(),
  lastSyncVersion: z.number().int(),
  versionLag: z.number().int(),
  health: z.string().openapi({ description: "healthy, warning, critical or timeout." }),
  missedHeartbeats: z.number().int(),
  heartbeatsReceived: z.number().int(),
  averageLatencyMs: z.number(),
  statusMessage: z.string(),
}).openapi("ConnectedPeer");

const peers = createRoute({
  method: "get",
  path: "/api/peers",
  tags: ["Peers"],
  summary: "Peers connected over gRPC and their heartbeat state",
  responses: {
    200: json(
      z.object({ activePeers: z.number().int(), peers: z.array(PeerSchema) }),
      "The connected peers.",
    ),
  },
});

/** Adds `GET /api/peers` to `app`. */
export function addPeerRoutes(
  app: HttpApp,
  options: { sessions: PeerSessions; register: SystemRegister },
): void {
  app.openapi(peers, (c) => {
    const { sessions, register } = options;
    const statuses = new Map(
      sessions.heartbeatStatuses({ hubVersion: register.version }).map((s) => [s.peerId, s]),
    );
    const list = sessions.active().map((session) => {
      const status = statuses.get(session.peerId);
      return {
        peerId: session.peerId,
        sessionId: session.sessionId,
        address: session.address,
        port: session.port,
        connectedAt: iso(session.connectedAt),
        lastHeartbeatAt: iso(session.lastHeartbeatAt),
        lastSyncVersion: session.lastSyncVersion,
        versionLag: status?.versionLag ?? 0,
        health: status?.health ?? "healthy",
        missedHeartbeats: status?.missedHeartbeats ?? 0,
        heartbeatsReceived: status?.totalReceived ?? 0,
        averageLatencyMs: status?.averageLatencyMs ?? 0,
        statusMessage: status?.statusMessage ?? "",
      };
    }).sort((a, b) => a.peerId.localeCompare(b.peerId));
    return c.json({ activePeers: list.length, peers: list }, 200);
  });
}
