/**
 * The peer's hub-link endpoints (interface.md): connection status, the
 * configured hubs, the replica's checkpoint, a sync on demand, heartbeats,
 * node information, and the replica of the system register itself (paged
 * like the hub's). The replica is read from its store, so it is served
 * whatever the link's state: isolated, restarting, or never configured.
 *
 * @module
 */
import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../../shared/errors.ts";
import {
  addBlueprintPages,
  changeErrors,
  type HttpApp,
  inlineError,
  json,
  rejectInvalid,
} from "../../shared/http/mod.ts";
import type { Clock } from "../../shared/clock.ts";
import type { ReplicaStore } from "../replica/mod.ts";
import {
  CentralNodesSchema,
  CheckpointSchema,
  ConnectionStatusSchema,
  HeartbeatStatusSchema,
  NodeInfoSchema,
  ReplicaEntrySchema,
  ReplicaListSchema,
  SyncTriggerSchema,
} from "./http_schemas.ts";
import {
  centralNodesJson,
  checkpointJson,
  connectionStatusJson,
  heartbeatJson,
  replicaEntryJson,
  syncResultJson,
} from "./http_views.ts";
import type { LinkProcessView } from "./link_process.ts";
import type { HubLinkStatus, SyncResult } from "./status.ts";

/** The link as the endpoints see it: in this process, or in a process of its own. */
export interface HubLinkView {
  /** Its status, once known. */
  status(): HubLinkStatus | undefined;
  /** Its process, when it runs in one. */
  process?(): LinkProcessView;
  /** Syncs now. */
  sync(options: { full: boolean }): Promise<SyncResult>;
}

/** What the node is, for `GET /api/node/info`. */
export interface NodeFacts {
  /** This peer's id. */
  peerId: string;
  /** The service version. */
  version: string;
  /** How other peers reach it. */
  publicUrl: string;
  /** When it started (ms since the epoch). */
  startedAt: number;
  /** The advertisement store's kind. */
  advertisementStore: string;
  /** The configured hubs in priority order. */
  hubs: readonly { address: string; priority: number }[];
  /** Whether hubs are reached over TLS. */
  tls: boolean;
}

/** Options of {@link addHubLinkRoutes}. */
export interface HubLinkRoutesOptions {
  /** The link; undefined when `HUB_NODES` is not set. */
  link: HubLinkView | undefined;
  /** The replica's store (read). */
  replica: ReplicaStore;
  /** The node's facts. */
  node: NodeFacts;
  /** Time. */
  clock: Clock;
}

const tags = ["Hub link"];
const replicaTags = ["System register replica"];
const get = (path: string, summary: string, schema: z.ZodType, description: string) =>
  createRoute({
    method: "get",
    path,
    tags,
    summary,
    responses: { 200: json(schema, description) },
  });

const connectionStatus = get(
  "/api/connection/status",
  "The hub connection: state, current hub and session, isolation, staleness",
  ConnectionStatusSchema,
  "The connection's state.",
);
const centralNodes = get(
  "/api/central-nodes",
  "Every configured hub, in priority order, with its state and last error",
  CentralNodesSchema,
  "The hubs.",
);
const checkpoint = get(
  "/api/sync/checkpoint",
  "The replica's checkpoint: version, blueprints, hub, last sync and its kind",
  CheckpointSchema,
  "The checkpoint.",
);
const heartbeat = get(
  "/api/heartbeat/status",
  "Heartbeats to the current hub: sequence, misses, latency",
  HeartbeatStatusSchema,
  "Heartbeat figures.",
);
const nodeInfo = get(
  "/api/node/info",
  "This peer: id, version, stores, hub link",
  NodeInfoSchema,
  "The node.",
);

const trigger = createRoute({
  method: "post",
  path: "/api/sync/trigger",
  tags,
  summary: "Sync the replica now (incremental, or full with ?full=true)",
  security: [{ bearer: [] }],
  request: {
    query: z.object({
      full: z.enum(["true", "false"], { message: 'must be "true" or "false"' }).optional()
        .openapi({ param: { name: "full", in: "query" }, description: "Replace the replica." }),
    }),
  },
  responses: {
    200: json(SyncTriggerSchema, "The sync ran; how it went."),
    ...changeErrors,
    412: inlineError("No hub link is configured."),
    503: inlineError("No hub is connected."),
  },
});

/** Adds the hub-link and replica endpoints to `app`. */
export function addHubLinkRoutes(app: HttpApp, options: HubLinkRoutesOptions): void {
  const { link, replica, node, clock } = options;
  const status = () => link?.status();
  const stored = async () => status()?.replica.checkpoint ?? await replica.checkpoint();

  app.openapi(connectionStatus, async (c) => {
    const current = status();
    const checkpoint = current ? undefined : await replica.checkpoint().catch(() => undefined);
    return c.json(
      connectionStatusJson(current, {
        checkpoint,
        process: link?.process?.() ?? null,
        now: clock.now(),
      }),
      200,
    );
  });

  app.openapi(centralNodes, (c) => c.json(centralNodesJson(status(), node.hubs), 200));

  app.openapi(checkpoint, async (c) => {
    const current = status();
    return c.json(checkpointJson(current, current ? undefined : await replica.checkpoint()), 200);
  });

  app.openapi(heartbeat, (c) => c.json(heartbeatJson(status(), link !== undefined), 200));

  app.openapi(
    trigger,
    async (c) => {
      const { full } = c.req.valid("query");
      if (!link) {
        throw new AppError(
          "failed_precondition",
          "Cannot sync the system register: this peer has no hub link (HUB_NODES is not set)",
        );
      }
      const result = await link.sync({ full: full === "true" });
      return c.json({ result: syncResultJson(result) }, 200);
    },
    rejectInvalid("Cannot trigger a sync"),
  );

  app.openapi(nodeInfo, async (c) => {
    const now = clock.now();
    const checkpoint = await stored().catch(() => undefined);
    return c.json({
      peerId: node.peerId,
      service: "peer" as const,
      version: node.version,
      publicUrl: node.publicUrl,
      startedAt: new Date(node.startedAt).toISOString(),
      uptimeSeconds: Math.floor((now - node.startedAt) / 1000),
      advertisementStore: node.advertisementStore,
      replicaStore: replica.kind,
      hubLink: {
        enabled: link !== undefined,
        status: status()?.state ?? "Disconnected",
        hubs: node.hubs.map((hub) => hub.address),
        tls: node.tls,
      },
      systemRegister: {
        currentVersion: checkpoint?.version ?? 0,
        totalBlueprints: checkpoint?.blueprints ?? 0,
      },
    }, 200);
  });

  addBlueprintPages(app, {
    tags: replicaTags,
    listSummary: "The replica's entries after a version, in version order, a page at a time",
    readSummary: "A blueprint's entry in the replica",
    listSchema: ReplicaListSchema,
    entrySchema: ReplicaEntrySchema,
    entryDescription: "The blueprint's entry.",
    missingDescription: "The replica has no blueprint with this id.",
    where: "this peer's replica of the system register",
    page: async (after, limit) => {
      const [checkpoint, entries] = await Promise.all([
        replica.checkpoint(),
        replica.list({ afterVersion: after, limit }),
      ]);
      return { currentVersion: checkpoint?.version ?? 0, entries };
    },
    latest: (blueprintId) => replica.get(blueprintId),
    toJson: replicaEntryJson,
  });
}
