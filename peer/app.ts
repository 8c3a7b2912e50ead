/**
 * The peer's HTTP app: the shared foundation plus the peer's endpoints.
 * Tested through `app.request()` without sockets.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import {
  createHttpApp,
  type DependencyState,
  type HttpApp,
  type MetricsEndpointOptions,
} from "../shared/http/mod.ts";
import { VERSION } from "../shared/version.ts";
import { addAdminRoutes } from "./admin/mod.ts";
import { addAdvertisementRoutes, type AdvertisementRegistry } from "./advertisements/mod.ts";
import { addGossipRoutes, GOSSIP_PATH_PREFIX, type Gossiper } from "./gossip/mod.ts";
import { addHubLinkRoutes, type HubLinkRoutesOptions } from "./hub_link/mod.ts";

/** What the peer's app needs. */
export interface PeerAppOptions {
  /** What `GET /metrics` serves; without it the service has no `/metrics`. */
  metrics?: MetricsEndpointOptions;
  /** The advertisements. */
  registry: AdvertisementRegistry;
  /** Gossip with other peers; without it the gossip endpoints are absent. */
  gossiper?: Gossiper;
  /** When set, state-changing endpoints need this bearer token. */
  apiToken?: string | undefined;
  /** When set, the gossip endpoints need this bearer token instead. */
  networkToken?: string | undefined;
  /** Largest request body accepted, in bytes. */
  maxBodyBytes?: number;
  /** Where unexpected errors are logged. */
  logger?: Logger;
  /** The hub link's endpoints and the replica; without it they are absent. */
  hubLink?: HubLinkRoutesOptions;
  /** Aborted when the service begins to stop: the admin page's event streams end. */
  stopping?: AbortSignal;
}

/** Creates the peer's HTTP app. */
export function createPeerApp(options: PeerAppOptions): HttpApp {
  const app = createHttpApp({
    service: "peer",
    version: VERSION,
    description:
      "Keeps which registers are advertised on this node and by other peers, and serves the public ones.",
    apiToken: options.apiToken,
    apiTokenExempt: [GOSSIP_PATH_PREFIX],
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    readiness: () => ({
      ready: options.registry.started,
      dependencies: {
        store: options.registry.readiness(),
        ...(options.hubLink?.link ? { hubLink: hubLinkReadiness(options.hubLink) } : {}),
      },
    }),
  });
  addAdvertisementRoutes(app, options.registry);
  if (options.hubLink) addHubLinkRoutes(app, options.hubLink);
  if (options.gossiper) {
    addGossipRoutes(app, options.gossiper, { networkToken: options.networkToken });
  }
  addAdminRoutes(app, {
    registry: options.registry,
    gossiper: options.gossiper,
    hubLink: options.hubLink,
    tokenRequired: options.apiToken !== undefined,
    version: VERSION,
    ...(options.hubLink ? { clock: options.hubLink.clock } : {}),
    logger: options.logger,
    stopping: options.stopping,
  });
  return app;
}

/**
 * The hub link's line in `/readyz`: `ok` while connected, `degraded`
 * otherwise (isolated, connecting, restarting). Never `down`: a peer
 * without a hub still serves its advertisements and its replica.
 */
function hubLinkReadiness(options: HubLinkRoutesOptions): DependencyState {
  const status = options.link?.status();
  const state = status?.state ?? "Disconnected";
  return {
    state: state === "Connected" ? "ok" : "degraded",
    link: state,
    hub: status?.session?.centralNodeId ?? null,
    replicaVersion: status?.replica.checkpoint?.version ?? null,
  };
}
