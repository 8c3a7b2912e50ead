/**
 * The register service's configuration, parsed once from environment variables.
 *
 * @module
 */
import { z } from "zod";
import {
  commonConfigShape,
  optionalSecret,
  optionalUrl,
  parseConfig,
  port,
  seconds,
  type ServiceConfig,
  serviceConfig,
  stringWithDefault,
} from "../shared/config.ts";

/** The variables the register service reads, with their defaults. */
export const registerConfigSchema = z.object({
  ...commonConfigShape,
  PORT: port(8081),
  DATA_DIR: stringWithDefault(".data/register"),
  PEER_URL: optionalUrl(["http:", "https:"]).default("http://127.0.0.1:8080"),
  PEER_API_TOKEN: optionalSecret(),
  PEER_TIMEOUT_SECONDS: seconds(10),
  MONGODB_URL: optionalUrl(["mongodb:", "mongodb+srv:"]),
  RESYNC_INTERVAL_SECONDS: seconds(300),
  RESYNC_RETRY_MAX_SECONDS: seconds(60),
});

/** The register service's configuration as the rest of the code receives it. */
export interface RegisterConfig extends ServiceConfig {
  /** The peer's base URL. */
  peerUrl: string;
  /** The peer's API_TOKEN, when it has one. */
  peerApiToken: string | undefined;
  /** Timeout of one call to the peer, in ms. */
  peerTimeoutMs: number;
  /** MongoDB URL; unset means the embedded store. */
  mongodbUrl: string | undefined;
  /** Reconciliation interval in ms. */
  resyncIntervalMs: number;
  /** Ceiling of the retry backoff in ms. */
  resyncRetryMaxMs: number;
}

/** Parses the register service's configuration; throws a one-line `ConfigError` on a bad value. */
export function parseRegisterConfig(env: Record<string, string | undefined>): RegisterConfig {
  const raw = parseConfig(registerConfigSchema, env);
  return {
    ...serviceConfig(raw),
    peerUrl: raw.PEER_URL,
    peerApiToken: raw.PEER_API_TOKEN,
    peerTimeoutMs: raw.PEER_TIMEOUT_SECONDS * 1000,
    mongodbUrl: raw.MONGODB_URL,
    resyncIntervalMs: raw.RESYNC_INTERVAL_SECONDS * 1000,
    resyncRetryMaxMs: raw.RESYNC_RETRY_MAX_SECONDS * 1000,
  };
}
