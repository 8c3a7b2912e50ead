/**
 * Starts the peer service: `deno task peer`. The only place that reads the
 * environment; everything else receives what it needs.
 *
 * @module
 */
import { systemClock } from "../shared/clock.ts";
import { ConfigError } from "../shared/config.ts";
import { createSystemScheduler } from "../shared/schedule.ts";
import { log, setupLogging } from "../shared/logging.ts";
import { serveUntilSignal } from "../shared/serve.ts";
import { AdvertisementRegistry } from "./advertisements/mod.ts";
import { createPeerApp } from "./app.ts";
import { parsePeerConfig, type PeerConfig } from "./config.ts";
import {
  createHttpTransport,
  Gossiper,
  loadPeerSigner,
  Membership,
  type PeerSigner,
} from "./gossip/mod.ts";
import { resolvePeerId } from "./identity.ts";
import { openAdvertisementStore } from "./store/mod.ts";

async function main(config: PeerConfig): Promise<void> {
  setupLogging({
    level: config.logLevel,
    format: config.logFormat,
    color: Deno.stderr.isTerminal() && !Deno.env.get("NO_COLOR"),
  });
  const logger = log("peer");
  let peerId: string;
  let signer: PeerSigner;
  try {
    peerId = await resolvePeerId({ configured: config.peerId, dataDir: config.dataDir });
    signer = await loadPeerSigner(config.dataDir);
  } catch (error) {
    logger.error("Cannot start: {error}", {
      error: error instanceof Error ? error.message : String(error),
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
  const registry = new AdvertisementRegistry(store, {
    ttlMs: config.ttlMs,
    graceMs: config.graceMs,
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
  });
  const app = createPeerApp({
    registry,
    gossiper,
    apiToken: config.apiToken,
    networkToken: config.networkToken,
    logger,
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
    onShutdown: async () => {
      await gossiper.close();
      await registry.close();
      await store.close();
    },
  });
}

let config: PeerConfig;
try {
  config = parsePeerConfig(Deno.env.toObject());
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  Deno.exit(1);
}
await main(config);
