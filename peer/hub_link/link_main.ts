/**
 * The hub-link process (`main.ts --hub-link`; `link_process.ts` says why the
 * link is a process): the hub link, talking to the peer's HTTP process over
 * its pipes, with its metrics (`metrics.ts`: exported over OTLP by this
 * process, rendered for the peer's `/metrics` through the pipes). `main.ts`
 * loads this module only in that process, and the HTTP service's modules
 * only in the other: a first full sync runs while the link
 * process is young, and whatever it loaded is heap that its garbage collector
 * marks meanwhile (the HTTP app, Swagger UI's bundle among its modules, made a
 * sync of 10,000 entries some 30 ms slower).
 *
 * @module
 */
import { systemClock } from "../../shared/clock.ts";
import { errorMessage } from "../../shared/errors.ts";
import { log } from "../../shared/logging.ts";
import { readPemFile } from "../../shared/pem.ts";
import { createSystemScheduler } from "../../shared/schedule.ts";
import type { HubLinkConfig, PeerConfig } from "../config.ts";
import { resolvePeerId } from "../identity.ts";
import { openReplicaStore, type ReplicaStore } from "../replica/mod.ts";
import { serveLinkOverPipes } from "./child.ts";
import { MAX_BLUEPRINT_BYTES, openHubClient } from "./hub_client.ts";
import { HubLink } from "./link.ts";
import { LinkMetrics } from "./metrics.ts";

/** Longest time the process takes to close once its peer is gone or it is told to stop, in ms. */
const CLOSE_DEADLINE_MS = 5_000;

/** HTTP/2 ping interval and timeout of hub channels, from the heartbeat timings. */
function keepalive(config: HubLinkConfig): { keepaliveMs: number; keepaliveTimeoutMs: number } {
  const clamp = (ms: number, max: number) => Math.min(max, Math.max(1000, ms));
  return {
    keepaliveMs: clamp(config.heartbeatIntervalMs, 10_000),
    keepaliveTimeoutMs: clamp(config.heartbeatTimeoutMs, 20_000),
  };
}

/**
 * Runs the link process (`main.ts --hub-link`, logging set up): the hub link, talking to its
 * parent over its pipes, until the parent is gone or a signal stops it; then exits.
 */
export async function runHubLink(config: PeerConfig, hubLink: HubLinkConfig): Promise<void> {
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
      writer: true,
    });
  } catch (error) {
    logger.error("The hub link cannot start: {error}", {
      error: errorMessage(error),
    });
    Deno.exit(1);
  }
  const scheduler = createSystemScheduler();
  const metrics = new LinkMetrics(() => link.status());
  const link: HubLink = new HubLink({
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
    recorder: metrics,
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
      metrics: () => metrics.render(),
    }),
    stopped.promise,
  ]);
  // Whatever closing waits on, a link process whose peer is gone never lingers: its store's
  // commits are atomic, so exiting in the middle of one loses nothing.
  Deno.unrefTimer(setTimeout(() => Deno.exit(0), CLOSE_DEADLINE_MS));
  // Channels are left open: the exit closes their sockets without a GOAWAY (see hub_clients.ts).
  await link.close({ keepChannels: true });
  await store.close();
  Deno.exit(0);
}
