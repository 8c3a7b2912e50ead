/**
 * The register service's HTTP app: the shared foundation, the register
 * endpoints and the reconciliation endpoints. Tested through `app.request()`.
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
import { toAppError } from "../shared/errors.ts";
import { VERSION } from "../shared/version.ts";
import { addRegisterRoutes } from "./registers/routes.ts";
import type { RegisterService } from "./registers/service.ts";
import type { PeerSync } from "./resync/peer_sync.ts";
import { addResyncRoutes } from "./resync/routes.ts";
import type { RegisterStore } from "./store/mod.ts";

/** What the register service's app needs. */
export interface RegisterAppOptions {
  /** What `GET /metrics` serves; without it the service has no `/metrics`. */
  metrics?: MetricsEndpointOptions;
  /** The registers. */
  service: RegisterService;
  /** The store, for `/readyz`. */
  store: RegisterStore;
  /** The sync with the peer. */
  sync: PeerSync;
  /** When set, state-changing endpoints need this bearer token. */
  apiToken?: string | undefined;
  /** Where unexpected errors are logged. */
  logger?: Logger;
}

/** Creates the register service's HTTP app. */
export function createRegisterApp(options: RegisterAppOptions): HttpApp {
  const app = createHttpApp({
    service: "register",
    version: VERSION,
    description:
      "The ground truth of registers. Tells the peer about every change and reconciles the peer's advertisements with a full sync at startup and at every interval.",
    apiToken: options.apiToken,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    readiness: async () => {
      let store: DependencyState = { state: "ok", kind: options.store.kind };
      try {
        await options.store.ping();
      } catch (error) {
        store = { state: "down", kind: options.store.kind, error: toAppError(error).message };
      }
      // The peer is not needed to serve: while it is away the service works and retries.
      return {
        ready: store.state === "ok",
        dependencies: { store, peer: options.sync.readiness() },
      };
    },
  });
  addRegisterRoutes(app, options.service);
  addResyncRoutes(app, options.sync);
  return app;
}
