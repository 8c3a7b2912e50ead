/**
 * The peer's configuration, parsed once from environment variables.
 *
 * @module
 */
import { z } from "zod";
import { PEER_ID_PATTERN } from "./identity.ts";
import { type HubAddress, isIpAddress, parseHubList } from "./hub_link/hub_address.ts";
import {
  commonConfigShape,
  optionalSecret,
  optionalString,
  optionalUrl,
  parseConfig,
  port,
  seconds,
  type ServiceConfig,
  serviceConfig,
  stringWithDefault,
  urlList,
  wholeNumber,
} from "../shared/config.ts";

/** `HUB_NODES`: comma-separated `host:port` entries in priority order; empty means none. */
function hubList() {
  return z.preprocess(
    (value) => value ?? "",
    z.string().transform((value, context) => {
      try {
        return parseHubList(value);
      } catch (error) {
        context.addIssue({ code: "custom", message: (error as Error).message });
        return z.NEVER;
      }
    }),
  );
}

/** The variables the peer reads, with their defaults. */
export const peerConfigSchema = z.object({
  ...commonConfigShape,
  PORT: port(8080),
  DATA_DIR: stringWithDefault(".data/peer"),
  REDIS_URL: optionalUrl(["redis:", "rediss:"]),
  PEER_ID: optionalString().refine((v) => v === undefined || PEER_ID_PATTERN.test(v), {
    message: "expected 1 to 64 of A-Z a-z 0-9 _ -",
  }),
  PUBLIC_URL: optionalUrl(["http:", "https:"]),
  GOSSIP_SEEDS: urlList(["http:", "https:"]),
  GOSSIP_INTERVAL_SECONDS: seconds(30),
  NETWORK_TOKEN: optionalSecret(),
  ADVERT_TTL_SECONDS: seconds(300),
  HUB_NODES: hubList(),
  HEARTBEAT_INTERVAL_SECONDS: seconds(30),
  HEARTBEAT_TIMEOUT_SECONDS: seconds(30),
  HEARTBEAT_MAX_MISSED: wholeNumber(2, { min: 1, max: 100 }),
  HUB_RETRY_MAX_SECONDS: seconds(60),
  HUB_CONNECT_TIMEOUT_SECONDS: seconds(5),
  SYNC_INTERVAL_SECONDS: seconds(300),
  HUB_TLS_CA: optionalString(),
  HUB_TLS_SERVER_NAME: optionalString().refine(
    (v) => v === undefined || /^[A-Za-z0-9*][A-Za-z0-9.*-]{0,252}$/.test(v),
    { message: "expected a host name such as hub.example.org" },
  ),
  ADVERT_GRACE_SECONDS: z.preprocess(
    (v) => (typeof v === "string" && v.trim() === "" ? undefined : v),
    z.coerce.number({ message: "expected a number of seconds from 0, such as 60 or 0.5" })
      .refine((n) => Number.isFinite(n) && n >= 0, {
        message: "expected a number of seconds from 0, such as 60 or 0.5",
      })
      .optional(),
  ),
});

/** How the peer links to hubs (present when `HUB_NODES` lists at least one). */
export interface HubLinkConfig {
  /** The hubs, in priority order. */
  hubs: HubAddress[];
  /** Time between heartbeats, in ms. */
  heartbeatIntervalMs: number;
  /** How long a heartbeat may take before it counts as missed, in ms. */
  heartbeatTimeoutMs: number;
  /** Missed heartbeats in a row before failing over to the next hub. */
  heartbeatMaxMissed: number;
  /** Ceiling of the reconnection and sync retry backoff, in ms. */
  retryMaxMs: number;
  /** How long one connection attempt to one hub may take, in ms. */
  connectTimeoutMs: number;
  /** Time between periodic syncs, in ms. */
  syncIntervalMs: number;
  /** Time between fail-back probes of the hubs above the current one, in ms (two heartbeat intervals). */
  failbackIntervalMs: number;
  /** PEM file of the roots to verify hubs with; TLS to every hub when set. */
  tlsCaPath: string | undefined;
  /** The certificate name to verify (for hubs listed by IP address). */
  tlsServerName: string | undefined;
}

/** The peer's configuration as the rest of the code receives it. */
export interface PeerConfig extends ServiceConfig {
  /** Redis URL; unset means the embedded store. */
  redisUrl: string | undefined;
  /** `PEER_ID`; unset means the id kept in `DATA_DIR` (generated once). */
  peerId: string | undefined;
  /** How other peers reach this one (default `http://{HOST}:{PORT}`). */
  publicUrl: string;
  /** Base URLs of the peers to gossip with first. */
  gossipSeeds: string[];
  /** Time between gossip rounds, in ms. */
  gossipIntervalMs: number;
  /** The peer-to-peer and peer-to-hub credential, when set. */
  networkToken: string | undefined;
  /** Advertisement TTL in ms. */
  ttlMs: number;
  /** Grace after the TTL in ms (default: a quarter of the TTL). */
  graceMs: number;
  /** The hub link; undefined without `HUB_NODES`. */
  hubLink: HubLinkConfig | undefined;
}

/** Parses the peer's configuration; throws a one-line `ConfigError` on a bad value. */
export function parsePeerConfig(env: Record<string, string | undefined>): PeerConfig {
  const raw = parseConfig(peerConfigSchema, env);
  const ttlMs = raw.ADVERT_TTL_SECONDS * 1000;
  return {
    ...serviceConfig(raw),
    redisUrl: raw.REDIS_URL,
    peerId: raw.PEER_ID,
    publicUrl: (raw.PUBLIC_URL ?? `http://${raw.HOST}:${raw.PORT}`).replace(/\/+$/, ""),
    gossipSeeds: raw.GOSSIP_SEEDS,
    gossipIntervalMs: raw.GOSSIP_INTERVAL_SECONDS * 1000,
    networkToken: raw.NETWORK_TOKEN,
    ttlMs,
    graceMs: raw.ADVERT_GRACE_SECONDS === undefined ? ttlMs / 4 : raw.ADVERT_GRACE_SECONDS * 1000,
    hubLink: raw.HUB_NODES.length === 0 ? undefined : {
      hubs: raw.HUB_NODES,
      heartbeatIntervalMs: raw.HEARTBEAT_INTERVAL_SECONDS * 1000,
      heartbeatTimeoutMs: raw.HEARTBEAT_TIMEOUT_SECONDS * 1000,
      heartbeatMaxMissed: raw.HEARTBEAT_MAX_MISSED,
      retryMaxMs: raw.HUB_RETRY_MAX_SECONDS * 1000,
      connectTimeoutMs: raw.HUB_CONNECT_TIMEOUT_SECONDS * 1000,
      syncIntervalMs: raw.SYNC_INTERVAL_SECONDS * 1000,
      failbackIntervalMs: 2 * raw.HEARTBEAT_INTERVAL_SECONDS * 1000,
      tlsCaPath: raw.HUB_TLS_CA,
      tlsServerName: raw.HUB_TLS_SERVER_NAME,
    },
  };
}

/**
 * Warnings about a hub link configuration that works but may not do what
 * the operator wants (logged once at start).
 */
export function hubLinkWarnings(config: HubLinkConfig): string[] {
  const warnings: string[] = [];
  if (config.tlsCaPath && !config.tlsServerName) {
    const byIp = config.hubs.filter((hub) => isIpAddress(hub.host)).map((hub) => hub.address);
    if (byIp.length > 0) {
      warnings.push(
        `HUB_NODES lists ${
          byIp.join(", ")
        } by IP address with TLS: set HUB_TLS_SERVER_NAME to the name on the hubs' certificate, or their certificates must name the IP address`,
      );
    }
  }
  if (config.heartbeatTimeoutMs * config.heartbeatMaxMissed > 10 * 60_000) {
    warnings.push(
      "HEARTBEAT_TIMEOUT_SECONDS times HEARTBEAT_MAX_MISSED is over 10 minutes: a hung hub will take that long to be noticed",
    );
  }
  return warnings;
}
