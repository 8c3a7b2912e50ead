/**
 * Starts the peer service: `deno task peer`. The only place that reads the
 * environment; everything else receives what it needs.
 *
 * @module
 */
import { ConfigError } from "../shared/config.ts";
import { log, setupLogging } from "../shared/logging.ts";
import { serveUntilSignal } from "../shared/serve.ts";
import { AdvertisementRegistry } from "./advertisements/mod.ts";
import { createPeerApp } from "./app.ts";
import { parsePeerConfig, type PeerConfig } from "./config.ts";
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
  try {
    peerId = await resolvePeerId({ configured: config.peerId, dataDir: config.dataDir });
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
  const app = createPeerApp({ registry, apiToken: config.apiToken, logger });
  void registry.start();
  await serveUntilSignal(app.fetch, {
    host: config.host,
    port: config.port,
    service: "peer",
    logger,
    onShutdown: async () => {
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
