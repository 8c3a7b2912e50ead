/**
 * A hub, wired: the system register on its store (genesis, integrity,
 * following), peer sessions with a periodic sweep of silent peers, the gRPC
 * server and the HTTP app, and the metrics of each (served at `GET /metrics`).
 * `main.ts` starts one from the environment; tests and benchmarks start them
 * in-process with {@link startHub}.
 *
 * @module
 */
import { ServerCredentials } from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import type { Logger } from "@logtape/logtape";
import { type Clock, systemClock } from "../shared/clock.ts";
import type { HttpApp } from "../shared/http/mod.ts";
import { log } from "../shared/logging.ts";
import { createSystemScheduler, type Scheduler } from "../shared/schedule.ts";
import { ServiceMetrics } from "../shared/telemetry/mod.ts";
import { createHubApp } from "./app.ts";
import type { HubContext, PeerSettings } from "./grpc/context.ts";
import { ConcurrencyLimiter, RateLimiter } from "./grpc/rate_limit.ts";
import { EntryCache } from "./grpc/entry_cache.ts";
import { defineSyncMetrics } from "./grpc/metrics.ts";
import { createHubGrpcServer, type HubGrpcServer } from "./grpc/server.ts";
import { definePeerMetrics } from "./peers/metrics.ts";
import { PeerSessions } from "./peers/sessions.ts";
import { SyncLog } from "./peers/sync_log.ts";
import {
  openSystemRegister,
  openSystemRegisterStore,
  type Publication,
  type PublishOutcome,
  type SystemRegister,
  type SystemRegisterStore,
} from "./system_register/mod.ts";

/** Everything a hub is configured with; only `hubId` and `dataDir` are required. */
export interface HubOptions {
  /** This hub's id. */
  hubId: string;
  /** Where the embedded store lives (unless `mongodbUrl` or `store` is given). */
  dataDir: string;
  /** MongoDB instead of the embedded store. */
  mongodbUrl?: string | undefined;
  /** A store to use as is (tests); the hub closes it. */
  store?: SystemRegisterStore;
  /** Bind address of both servers (default 127.0.0.1). */
  host?: string;
  /** gRPC port (default 0: any free port). */
  grpcPort?: number;
  /** HTTP port: when set, {@link startHub} serves the app on it (0: any free port). */
  httpPort?: number;
  /** Contract calls need it as a bearer token, when set. */
  networkToken?: string | undefined;
  /** Publishing needs it as a bearer token, when set. */
  apiToken?: string | undefined;
  /** PEM certificate chain and key: gRPC over TLS. */
  tls?: { cert: Uint8Array; key: Uint8Array } | undefined;
  /** Heartbeat interval peers are told, in seconds (default 30). */
  heartbeatIntervalSeconds?: number;
  /** Grace past the interval before a beat counts as missed, in seconds (default 30). */
  heartbeatTimeoutSeconds?: number;
  /** Missed beats before a peer is dropped (default 3). */
  heartbeatMaxMissed?: number;
  /** Periodic sync interval peers are told, in seconds (default 300). */
  syncIntervalSeconds?: number;
  /** Sync streams per peer at once (default 2). */
  maxConcurrentSyncs?: number;
  /** Subscriptions per peer at once (default 4). */
  maxSubscriptionsPerPeer?: number;
  /** Requests per second per peer (default 20; 0: no limit). */
  rateLimitPerSecond?: number;
  /** Burst per peer (default 40). */
  rateLimitBurst?: number;
  /** Idle time before a keep-alive on a subscription, in seconds (default 15). */
  keepAliveSeconds?: number;
  /** How often to look for other hubs' publications on a shared store, in seconds (default 0.5). */
  storePollSeconds?: number;
  /** How often the whole register is validated again, in seconds (default 300). */
  integrityCheckSeconds?: number;
  /** Notifications a subscriber may fall behind before it is dropped (default 1024). */
  subscriberQueueLimit?: number;
  /** Memory for encoded entries served by the sync streams, in MiB (default 64; 0: none). */
  syncCacheMegabytes?: number;
  /** Time source (default the system clock). */
  clock?: Clock;
  /** Timers (default the system scheduler). */
  scheduler?: Scheduler;
  /** Where it logs (default the `sorcha.hub` category). */
  logger?: Logger;
  /** Its metrics (default new ones of the `hub` service). */
  metrics?: ServiceMetrics;
  /** Bearer token `GET /metrics` needs, when set. */
  metricsToken?: string | undefined;
}

/** A running hub; close it (or `await using`) to stop. */
export interface Hub extends AsyncDisposable {
  /** This hub's id. */
  readonly hubId: string;
  /** The gRPC port it listens on. */
  readonly grpcPort: number;
  /** The HTTP port, when {@link startHub} serves HTTP. */
  readonly httpPort: number | undefined;
  /** The HTTP app (for `app.request()` or `Deno.serve`). */
  readonly app: HttpApp;
  /** The system register. */
  readonly register: SystemRegister;
  /** Connected peers. */
  readonly sessions: PeerSessions;
  /** Its metrics (as `GET /metrics` renders them). */
  readonly metrics: ServiceMetrics;
  /** Publishes a blueprint (as `POST /api/system-register/blueprints` does). */
  publish(
    publication: Omit<Publication, "metadata"> & { metadata?: Record<string, string> },
  ): Promise<PublishOutcome>;
  /** Stops both servers, ends subscriptions, closes the store. */
  close(): Promise<void>;
}

/** Opens the store, the register and the servers; listens on gRPC (and HTTP when `httpPort` is set). */
export async function startHub(options: HubOptions): Promise<Hub> {
  const clock = options.clock ?? systemClock;
  const scheduler = options.scheduler ?? createSystemScheduler();
  const logger = options.logger ?? log("hub");
  const metrics = options.metrics ?? new ServiceMetrics("hub");
  const store = options.store ??
    await openSystemRegisterStore({ mongodbUrl: options.mongodbUrl, dataDir: options.dataDir });
  let register: SystemRegister;
  // Filled once the server exists; integrity changes before that are read at its creation.
  const health: { server?: HubGrpcServer } = {};
  try {
    register = await openSystemRegister(store, {
      hubId: options.hubId,
      clock,
      scheduler,
      pollMs: (options.storePollSeconds ?? 0.5) * 1000,
      keepAliveMs: (options.keepAliveSeconds ?? 15) * 1000,
      integrityCheckMs: (options.integrityCheckSeconds ?? 300) * 1000,
      ...(options.subscriberQueueLimit
        ? { subscriberQueueLimit: options.subscriberQueueLimit }
        : {}),
      logger,
      metrics,
      onIntegrityChange: (ok) => health.server?.setServing(ok),
    });
  } catch (error) {
    await store.close();
    throw error;
  }
  const heartbeatIntervalSeconds = options.heartbeatIntervalSeconds ?? 30;
  const heartbeatTimeoutSeconds = options.heartbeatTimeoutSeconds ?? 30;
  const sessions = new PeerSessions({
    clock,
    heartbeatIntervalMs: heartbeatIntervalSeconds * 1000,
    heartbeatTimeoutMs: heartbeatTimeoutSeconds * 1000,
    maxMissed: options.heartbeatMaxMissed ?? 3,
    onDropped: (dropped) =>
      logger.warning("Peer {peer} dropped: {missed} heartbeats missed since {last}", {
        peer: dropped.peerId,
        missed: dropped.missedHeartbeats,
        last: new Date(dropped.lastHeartbeatAt).toISOString(),
        session: dropped.sessionId,
      }),
  });
  definePeerMetrics(metrics, sessions);
  const settings: PeerSettings = {
    heartbeatIntervalSeconds: Math.max(1, Math.round(heartbeatIntervalSeconds)),
    heartbeatTimeoutSeconds: Math.max(1, Math.round(heartbeatTimeoutSeconds)),
    periodicSyncIntervalMinutes: Math.max(1, Math.round((options.syncIntervalSeconds ?? 300) / 60)),
    maxConcurrentSyncs: options.maxConcurrentSyncs ?? 2,
    maxSubscriptionsPerPeer: options.maxSubscriptionsPerPeer ?? 4,
  };
  const context: HubContext = {
    hubId: options.hubId,
    clock,
    startedAt: clock.now(),
    register,
    sessions,
    syncLog: new SyncLog(clock),
    entryCache: new EntryCache((options.syncCacheMegabytes ?? 64) * 1024 * 1024),
    rateLimiter: new RateLimiter({
      ratePerSecond: options.rateLimitPerSecond ?? 20,
      burst: options.rateLimitBurst ?? 40,
      clock,
    }),
    syncSlots: new ConcurrencyLimiter(settings.maxConcurrentSyncs),
    settings,
    syncMetrics: defineSyncMetrics(metrics),
    logger,
  };
  const grpc = createHubGrpcServer(context, {
    networkToken: options.networkToken,
    logger,
  });
  health.server = grpc;
  const stop = new AbortController();
  scheduler.every("hub peer sweep", (heartbeatIntervalSeconds * 1000) / 2, () => {
    sessions.sweep();
    return Promise.resolve();
  }, { signal: stop.signal });
  let grpcPort: number | undefined;
  const app = createHubApp({
    hubId: options.hubId,
    register,
    sessions,
    startedAt: context.startedAt,
    clock,
    grpc: {
      port: () => grpcPort,
      tls: options.tls !== undefined,
      networkTokenRequired: options.networkToken !== undefined,
    },
    apiToken: options.apiToken,
    metrics: { render: () => metrics.render(), token: options.metricsToken },
    logger,
  });
  let http: Deno.HttpServer<Deno.NetAddr> | undefined;
  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= (async () => {
      stop.abort();
      register.close();
      await http?.shutdown();
      await grpc.server.close({ graceMs: 2000 });
      await store.close();
    })();
  try {
    grpc.setServing(register.integrity.ok);
    grpcPort = await grpc.server.listen({
      host: options.host ?? "127.0.0.1",
      port: options.grpcPort ?? 0,
      ...(options.tls
        ? {
          // Root certificates only check client certificates, which the hub does not ask
          // for. Given null, grpc-js loads GRPC_DEFAULT_SSL_ROOTS_FILE_PATH when it is set,
          // and on Deno a large CA bundle there breaks every TLS handshake.
          credentials: ServerCredentials.createSsl(Buffer.from(options.tls.cert), [{
            cert_chain: Buffer.from(options.tls.cert),
            private_key: Buffer.from(options.tls.key),
          }], false),
        }
        : {}),
    });
    logger.info("Hub {hub} serving gRPC on {host}:{port}{tls}", {
      hub: options.hubId,
      host: options.host ?? "127.0.0.1",
      port: grpcPort,
      tls: options.tls ? " (TLS)" : "",
    });
    if (options.httpPort !== undefined) {
      http = Deno.serve({
        hostname: options.host ?? "127.0.0.1",
        port: options.httpPort,
        onListen: () => {},
      }, app.fetch);
    }
  } catch (error) {
    await close();
    throw error;
  }
  const port = grpcPort;
  return {
    hubId: options.hubId,
    grpcPort: port,
    httpPort: http?.addr.port,
    app,
    register,
    sessions,
    metrics,
    publish: (publication) => register.publish({ metadata: {}, ...publication }),
    close,
    [Symbol.asyncDispose]: close,
  };
}
