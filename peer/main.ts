/**
 * Starts the peer service: `deno task peer`. With `HUB_NODES`, it also
 * starts the hub link as a supervised process of its own: this entry point
 * again, with `--hub-link` (see `hub_link/link_process.ts`). The only place
 * that reads the environment; everything else receives what it needs.
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
import { type HubLinkConfig, hubLinkWarnings, parsePeerConfig, type PeerConfig } from "./config.ts";
import {
  createHttpTransport,
  Gossiper,
  loadPeerSigner,
  Membership,
  type PeerSigner,
} from "./gossip/mod.ts";
import {
  HUB_LINK_ARGUMENT,
  HubLink,
  HubLinkProcess,
  linkCommand,
  MAX_BLUEPRINT_BYTES,
  openHubClient,
  serveLinkOverPipes,
} from "./hub_link/mod.ts";
import { resolvePeerId } from "./identity.ts";
import { MemoryReplicaStore, openReplicaStore, type ReplicaStore } from "./replica/mod.ts";
import { openAdvertisementStore } from "./store/mod.ts";
import { readPemFile } from "../shared/pem.ts";
import { VERSION } from "../shared/version.ts";

/** HTTP/2 ping interval and timeout of hub channels, from the heartbeat timings. */
function keepalive(config: HubLinkConfig): { keepaliveMs: number; keepaliveTimeoutMs: number } {
  const clamp = (ms: number, max: number) => Math.min(max, Math.max(1000, ms));
  return {
    keepaliveMs: clamp(config.heartbeatIntervalMs, 10_000),
    keepaliveTimeoutMs: clamp(config.heartbeatTimeoutMs, 20_000),
  };
}

function setup(config: PeerConfig): void {
  setupLogging({
    level: config.logLevel,
    format: config.logFormat,
    color: Deno.stderr.isTerminal() && !Deno.env.get("NO_COLOR"),
  });
}

/** The link process (`main.ts --hub-link`): the hub link, talking to its parent over its pipes. */
async function runHubLink(config: PeerConfig, hubLink: HubLinkConfig): Promise<void> {
  setup(config);
  const logger = log("peer", "hub-link");
  let peerId: string;
  let ca: Uint8Array | undefined;
  let store: ReplicaStore;
  try {
    peerId = await resolvePeerId({ configured: config.peerId, dataDir: config.dataDir });
    ca = hubLink.tlsCaPath ? await readPemFile(hubLink.tlsCaPath, "HUB_TLS_CA") : undefined;
    store = await openReplicaStore({
      ...(config.redisUrl ? { redisUrl: config.redisUrl } : {}),
      dataDir: config.dataDir,
      logger,
    });
  } catch (error) {
    logger.error("The hub link cannot start: {error}", {
      error: error instanceof Error ? error.message : String(error),
    });
    Deno.exit(1);
  }
  const scheduler = createSystemScheduler();
  const link = new HubLink({
    peerId,
    publicUrl: config.publicUrl,
    config: hubLink,
    store,
    openClient: (address) =>
      openHubClient(address, {
        token: config.networkToken,
        ...(ca ? { tls: { ca, serverName: hubLink.tlsServerName } } : {}),
        ...keepalive(hubLink),
      }),
    maxBlueprintBytes: MAX_BLUEPRINT_BYTES,
    clock: systemClock,
    scheduler,
    logger,
  });
  link.start();
  const stopped = Promise.withResolvers<void>();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => stopped.resolve());
  }
  await Promise.race([
    serveLinkOverPipes(link, {
      input: Deno.stdin.readable,
      output: Deno.stdout.writable,
      scheduler,
    }),
    stopped.promise,
  ]);
  // Channels are left open: the exit closes their sockets without a GOAWAY (see hub_clients.ts).
  await link.close({ keepChannels: true });
  await store.close();
  Deno.exit(0);
}

async function main(config: PeerConfig): Promise<void> {
  setup(config);
  const logger = log("peer");
  const startedAt = systemClock.now();
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
      command: linkCommand(import.meta.url),
      logger: log("peer", "hub-link"),
    });
    link.start();
  }
  const app = createPeerApp({
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
    onShutdown: async () => {
      await link?.close();
      await replica.close();
      await gossiper.close();
      await registry.close();
      await store.close();
    },
  });
}

let config: PeerConfig;
try {
  config = parsePeerConfig(Deno.env.toObject());
  // Read once here too, so that a bad file stops the peer before it does anything.
  if (config.hubLink?.tlsCaPath) await readPemFile(config.hubLink.tlsCaPath, "HUB_TLS_CA");
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  Deno.exit(1);
}
if (Deno.args.includes(HUB_LINK_ARGUMENT)) {
  if (!config.hubLink) {
    console.error("The hub link needs HUB_NODES: it lists no hub");
    Deno.exit(1);
  }
  await runHubLink(config, config.hubLink);
} else {
  await main(config);
}
