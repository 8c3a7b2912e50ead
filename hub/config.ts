/**
 * The hub's configuration, parsed once from environment variables.
 *
 * @module
 */
import { z } from "zod";
import {
  commonConfigShape,
  ConfigError,
  optionalSecret,
  optionalString,
  optionalUrl,
  parseConfig,
  port,
  seconds,
  type ServiceConfig,
  serviceConfig,
  stringWithDefault,
  wholeNumber,
} from "../shared/config.ts";
import { errorMessage } from "../shared/errors.ts";

/** The variables the hub reads, with their defaults. */
export const hubConfigSchema = z.object({
  ...commonConfigShape,
  PORT: port(8090),
  GRPC_PORT: port(50051),
  DATA_DIR: stringWithDefault(".data/hub"),
  HUB_ID: optionalString(),
  MONGODB_URL: optionalUrl(["mongodb:", "mongodb+srv:"]),
  NETWORK_TOKEN: optionalSecret(),
  HUB_HOSTNAME_PATTERN: optionalString(),
  HUB_HOSTNAME: optionalString(),
  GRPC_TLS_CERT: optionalString(),
  GRPC_TLS_KEY: optionalString(),
  HEARTBEAT_INTERVAL_SECONDS: seconds(30),
  HEARTBEAT_TIMEOUT_SECONDS: seconds(30),
  HEARTBEAT_MAX_MISSED: wholeNumber(3, { min: 1, max: 100 }),
  SYNC_INTERVAL_SECONDS: seconds(300),
  MAX_CONCURRENT_SYNCS: wholeNumber(2, { min: 1, max: 100 }),
  MAX_SUBSCRIPTIONS_PER_PEER: wholeNumber(4, { min: 1, max: 100 }),
  GRPC_RATE_LIMIT_PER_SECOND: wholeNumber(20, { min: 0 }),
  GRPC_RATE_LIMIT_BURST: wholeNumber(40, { min: 1 }),
  KEEPALIVE_SECONDS: seconds(15),
  STORE_POLL_SECONDS: seconds(0.5),
  INTEGRITY_CHECK_INTERVAL_SECONDS: seconds(300),
  SYNC_CACHE_MB: wholeNumber(64, { min: 0, max: 65_536 }),
});

/** The hub's configuration as the rest of the code receives it. */
export interface HubConfig extends ServiceConfig {
  /** This hub's id (default: its hostname). */
  hubId: string;
  /** The hostname checked against the pattern. */
  hostname: string;
  /** gRPC port. */
  grpcPort: number;
  /** MongoDB URL; unset means the embedded store. */
  mongodbUrl: string | undefined;
  /** Credential of peers. */
  networkToken: string | undefined;
  /** PEM files for gRPC TLS, both or neither. */
  tls: { certPath: string; keyPath: string } | undefined;
  /** Heartbeat interval peers are told, in seconds. */
  heartbeatIntervalSeconds: number;
  /** Grace before a beat counts as missed, in seconds. */
  heartbeatTimeoutSeconds: number;
  /** Missed beats before a peer is dropped. */
  heartbeatMaxMissed: number;
  /** Periodic sync interval peers are told, in seconds. */
  syncIntervalSeconds: number;
  /** Sync streams per peer at once. */
  maxConcurrentSyncs: number;
  /** Subscriptions per peer at once. */
  maxSubscriptionsPerPeer: number;
  /** Requests per second per peer (0: none). */
  rateLimitPerSecond: number;
  /** Burst per peer. */
  rateLimitBurst: number;
  /** Idle time before a subscription keep-alive, in seconds. */
  keepAliveSeconds: number;
  /** Polling of a shared store for other hubs' publications, in seconds. */
  storePollSeconds: number;
  /** Interval of full integrity checks, in seconds. */
  integrityCheckSeconds: number;
  /** Memory for encoded entries served by the sync streams, in MiB (0: none). */
  syncCacheMegabytes: number;
}

/** Compiles HUB_HOSTNAME_PATTERN: a regular expression the whole hostname must match. */
function hostnamePattern(pattern: string): RegExp {
  try {
    return new RegExp(`^(?:${pattern})$`, "i");
  } catch (error) {
    throw new ConfigError(
      `Invalid configuration: HUB_HOSTNAME_PATTERN=${
        JSON.stringify(pattern)
      }: expected a regular expression (${errorMessage(error)})`,
    );
  }
}

/**
 * Parses the hub's configuration; `hostname` is the machine's (HUB_HOSTNAME
 * overrides it). Throws a one-line `ConfigError` on a bad value, and when
 * HUB_HOSTNAME_PATTERN is set and the hostname does not match it.
 */
export function parseHubConfig(
  env: Record<string, string | undefined>,
  machine: { hostname: string },
): HubConfig {
  const raw = parseConfig(hubConfigSchema, env);
  const hostname = raw.HUB_HOSTNAME ?? machine.hostname;
  if (raw.HUB_HOSTNAME_PATTERN !== undefined) {
    if (!hostnamePattern(raw.HUB_HOSTNAME_PATTERN).test(hostname)) {
      throw new ConfigError(
        `Refusing to start: hostname ${
          JSON.stringify(hostname)
        } does not match HUB_HOSTNAME_PATTERN=${
          JSON.stringify(raw.HUB_HOSTNAME_PATTERN)
        } (a regular expression the whole hostname must match)`,
      );
    }
  }
  if ((raw.GRPC_TLS_CERT === undefined) !== (raw.GRPC_TLS_KEY === undefined)) {
    const missing = raw.GRPC_TLS_CERT === undefined ? "GRPC_TLS_CERT" : "GRPC_TLS_KEY";
    throw new ConfigError(
      `Invalid configuration: ${missing}=(unset): expected a PEM file path, as GRPC_TLS_CERT and GRPC_TLS_KEY go together`,
    );
  }
  return {
    ...serviceConfig(raw),
    hubId: raw.HUB_ID ?? hostname,
    hostname,
    grpcPort: raw.GRPC_PORT,
    mongodbUrl: raw.MONGODB_URL,
    networkToken: raw.NETWORK_TOKEN,
    tls: raw.GRPC_TLS_CERT && raw.GRPC_TLS_KEY
      ? { certPath: raw.GRPC_TLS_CERT, keyPath: raw.GRPC_TLS_KEY }
      : undefined,
    heartbeatIntervalSeconds: raw.HEARTBEAT_INTERVAL_SECONDS,
    heartbeatTimeoutSeconds: raw.HEARTBEAT_TIMEOUT_SECONDS,
    heartbeatMaxMissed: raw.HEARTBEAT_MAX_MISSED,
    syncIntervalSeconds: raw.SYNC_INTERVAL_SECONDS,
    maxConcurrentSyncs: raw.MAX_CONCURRENT_SYNCS,
    maxSubscriptionsPerPeer: raw.MAX_SUBSCRIPTIONS_PER_PEER,
    rateLimitPerSecond: raw.GRPC_RATE_LIMIT_PER_SECOND,
    rateLimitBurst: raw.GRPC_RATE_LIMIT_BURST,
    keepAliveSeconds: raw.KEEPALIVE_SECONDS,
    storePollSeconds: raw.STORE_POLL_SECONDS,
    integrityCheckSeconds: raw.INTEGRITY_CHECK_INTERVAL_SECONDS,
    syncCacheMegabytes: raw.SYNC_CACHE_MB,
  };
}
