/**
 * The peer service (`main.ts` without `--hub-link`): advertisements, gossip,
 * the HTTP API and, with `HUB_NODES`, the hub link's supervised process and
 * the replica it keeps.
 *
 * @module
 */
import { systemClock } from "../shared/clock.ts";
import { errorMessage } from "../shared/errors.ts";
import { createSystemScheduler } from "../shared/schedule.ts";
import { log } from "../shared/logging.ts";
import { serveUntilSignal } from "../shared/serve.ts";
import { ServiceMetrics } from "../shared/telemetry/mod.ts";
import { AdvertisementRegistry } from "./advertisements/mod.ts";
import { createPeerApp } from "./app.ts";
import { hubLinkWarnings, type PeerConfig } from "./config.ts";
import {
  createHttpTransport,
  Gossiper,
  loadPeerSigner,
  Membership,
  type PeerSigner,
} from "./gossip/mod.ts";
import { HubLinkProcess, linkCommand } from "./hub_link/mod.ts";
import { resolvePeerId } from "./identity.ts";
import { MemoryReplicaStore, openReplicaStore, type ReplicaStore } from "./replica/mod.ts";
import { openAdvertisementStore } from "./store/mod.ts";
import { VERSION } from "../shared/version.ts";

/**
 * Runs the peer service (logging set up) until a signal stops it; `entry` is the peer's entry
 * point, which the hub link's process runs again with `--hub-link`.
 */
export async function runPeer(config: PeerConfig, entry: string | URL): Promise<void> {
  const logger = log("peer");
  const startedAt = systemClock.now();
  let peerId: string;
  let signer: PeerSigner;
  try {
    peerId = await resolvePeerId({ configured: config.peerId, dataDir: config.dataDir });
    signer = await loadPeerSigner(config.dataDir);
  } catch (error) {
    logger.error("Cannot start: {error}", {
      error: errorMessage(error),
    });
    Deno.exit(1);
  }
  logger.info("Peer {peerId}, reachable by other peers at {publicUrl}", {
    peerId,
    publicUrl: config.publicUrl,
  });
  const store = await openAdvertisementStore({
    ...(config.redisUrl ? { redisUrl: config.redisUrl } : {}),
    dataDir: config.dataDir,
    logger: log("peer", "store"),
  });
  const metrics = new ServiceMetrics("peer");
  const registry = new AdvertisementRegistry(store, {
    ttlMs: config.ttlMs,
    graceMs: config.graceMs,
    metrics,
  });
  const leaseMs = config.ttlMs + config.graceMs;
  if (leaseMs < 3 * config.gossipIntervalMs) {
    logger.warning(
      "ADVERT_TTL_SECONDS plus grace ({leaseSeconds} s) is under three gossip intervals ({intervalSeconds} s each): remote advertisements may expire before a refresh reaches every peer",
      { leaseSeconds: leaseMs / 1000, intervalSeconds: config.gossipIntervalMs / 1000 },
    );
  }
  const membership = new Membership({
    selfId: peerId,
    selfUrl: config.publicUrl,
    seeds: config.gossipSeeds,
    clock: systemClock,
  });
  const gossiper = new Gossiper({
    peerId,
    publicUrl: config.publicUrl,
    signer,
    registry,
    membership,
    transport: createHttpTransport({
      networkToken: config.networkToken,
      timeoutMs: Math.max(1_000, Math.min(config.gossipIntervalMs, 10_000)),
    }),
    clock: systemClock,
    scheduler: createSystemScheduler(),
    intervalMs: config.gossipIntervalMs,
    leaseMs,
    membershipPath: `${config.dataDir}/peers.json`,
    logger: log("peer", "gossip"),
    metrics,
  });
  const hubLink = config.hubLink;
  let replica: ReplicaStore = new MemoryReplicaStore();
  let link: HubLinkProcess | undefined;
  if (hubLink) {
    for (const warning of hubLinkWarnings(hubLink)) logger.warning(warning);
    replica = await openReplicaStore({
      ...(config.redisUrl ? { redisUrl: config.redisUrl } : {}),
      dataDir: config.dataDir,
      logger: log("peer", "replica"),
    });
    link = new HubLinkProcess({
      command: linkCommand(entry),
      logger: log("peer", "hub-link"),
    });
  }
  const stopping = new AbortController();
  const app = createPeerApp({
    stopping: stopping.signal,
    // This process's metrics, then the hub link process's (none without HUB_NODES).
    metrics: {
      render: async () => (await metrics.render()) + (await link?.metrics() ?? ""),
      token: config.metricsToken,
    },
    registry,
    gossiper,
    apiToken: config.apiToken,
    networkToken: config.networkToken,
    logger,
    hubLink: {
      link,
      replica,
      node: {
        peerId,
        version: VERSION,
        publicUrl: config.publicUrl,
        startedAt,
        advertisementStore: store.kind,
        hubs: hubLink?.hubs ?? [],
        tls: hubLink?.tlsCaPath !== undefined,
      },
      clock: systemClock,
    },
  });
  void registry.start().then(() => gossiper.start());
  logger.info("Gossip every {seconds} s with {seeds} seed(s)", {
    seconds: config.gossipIntervalMs / 1000,
    seeds: config.gossipSeeds.length,
  });
  await serveUntilSignal(app.fetch, {
    host: config.host,
    port: config.port,
    service: "peer",
    logger,
    // The link's process starts once the peer serves (not when it cannot start).
    onListen: () => link?.start(),
    // The admin page's event streams end first: the server waits for open responses.
    onStopping: () => stopping.abort(),
    onShutdown: async () => {
      await link?.close();
      await replica.close();
      await gossiper.close();
      await registry.close();
      await store.close();
    },
  });
}
