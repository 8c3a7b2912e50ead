/**
 * The hub's HTTP app: the shared foundation plus the system-register and
 * peer endpoints. `/readyz` reports the store and the register's integrity:
 * a corrupt register is not ready. Tested through `app.request()`.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import { createRoute, z } from "@hono/zod-openapi";
import {
  createHttpApp,
  type DependencyState,
  type HttpApp,
  json,
  type MetricsEndpointOptions,
} from "../shared/http/mod.ts";
import { type Clock, systemClock } from "../shared/clock.ts";
import { errorMessage } from "../shared/errors.ts";
import { VERSION } from "../shared/version.ts";
import { iso } from "./http/convert.ts";
import { addPeerRoutes, addSystemRegisterRoutes } from "./http/routes.ts";
import type { PeerSessions } from "./peers/sessions.ts";
import type { SystemRegister } from "./system_register/mod.ts";

/** What the hub's app needs. */
export interface HubAppOptions {
  /** What `GET /metrics` serves; without it the service has no `/metrics`. */
  metrics?: MetricsEndpointOptions;
  /** This hub's id. */
  hubId: string;
  /** The system register. */
  register: SystemRegister;
  /** Connected peers. */
  sessions: PeerSessions;
  /** When the hub started (ms since the epoch, on `clock`). */
  startedAt: number;
  /** The hub's time source, which `startedAt` was read from (default the system clock). */
  clock?: Clock;
  /** What `GET /api/node/info` says of the gRPC side. */
  grpc: { port: () => number | undefined; tls: boolean; networkTokenRequired: boolean };
  /** When set, publishing needs this bearer token. */
  apiToken?: string | undefined;
  /** Largest request body, in bytes. */
  maxBodyBytes?: number;
  /** Where unexpected errors are logged. */
  logger?: Logger;
}

const NodeInfoSchema = z.object({
  service: z.literal("hub"),
  hubId: z.string(),
  version: z.string(),
  startedAt: z.string(),
  uptimeSeconds: z.number().int(),
  grpcPort: z.number().int().nullable(),
  grpcTls: z.boolean(),
  networkTokenRequired: z.boolean(),
  store: z.string(),
  systemRegisterVersion: z.number().int(),
  activePeers: z.number().int(),
  subscribers: z.number().int(),
}).openapi("HubNodeInfo");

const nodeInfo = createRoute({
  method: "get",
  path: "/api/node/info",
  tags: ["Node"],
  summary: "This hub: id, version, ports, store, figures",
  responses: { 200: json(NodeInfoSchema, "The hub.") },
});

/** Creates the hub's HTTP app. */
export function createHubApp(options: HubAppOptions): HttpApp {
  const { register, sessions } = options;
  const clock = options.clock ?? systemClock;
  const app = createHttpApp({
    service: "hub",
    version: VERSION,
    description:
      "Owns the system register of blueprints: publishing over HTTP, peers connect, beat and sync over gRPC.",
    apiToken: options.apiToken,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    maxBodyBytes: options.maxBodyBytes ?? 17 * 1024 * 1024,
    ...(options.logger ? { logger: options.logger } : {}),
    readiness: async () => {
      let store: DependencyState;
      try {
        await register.store.currentVersion();
        store = { state: "ok" };
      } catch (error) {
        store = { state: "down", message: errorMessage(error) };
      }
      const integrity = register.integrity;
      return {
        ready: store.state === "ok" && integrity.ok,
        dependencies: {
          store: { ...store, kind: register.store.kind },
          integrity: integrity.ok
            ? { state: "ok", version: integrity.version, checkedAt: iso(integrity.checkedAt) }
            : {
              state: "down",
              corrupt: true,
              message:
                `Entry version ${integrity.version} (blueprint "${integrity.blueprintId}"): ${integrity.problem}`,
              checkedAt: iso(integrity.checkedAt),
            },
        },
      };
    },
  });
  addSystemRegisterRoutes(app, register);
  addPeerRoutes(app, { sessions, register });
  app.openapi(nodeInfo, (c) =>
    c.json({
      service: "hub" as const,
      hubId: options.hubId,
      version: VERSION,
      startedAt: iso(options.startedAt),
      uptimeSeconds: Math.floor((clock.now() - options.startedAt) / 1000),
      grpcPort: options.grpc.port() ?? null,
      grpcTls: options.grpc.tls,
      networkTokenRequired: options.grpc.networkTokenRequired,
      store: register.store.kind,
      systemRegisterVersion: register.version,
      activePeers: sessions.activeCount(),
      subscribers: register.notifications.size,
    }, 200));
  return app;
}
