/**
 * The peer's configuration, parsed once from environment variables.
 *
 * @module
 */
import { z } from "zod";
import { PEER_ID_PATTERN } from "./identity.ts";
import {
  commonConfigShape,
  optionalString,
  optionalUrl,
  parseConfig,
  port,
  seconds,
  type ServiceConfig,
  serviceConfig,
  stringWithDefault,
  urlList,
} from "../shared/config.ts";

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
  NETWORK_TOKEN: optionalString(),
  ADVERT_TTL_SECONDS: seconds(300),
  ADVERT_GRACE_SECONDS: z.preprocess(
    (v) => (typeof v === "string" && v.trim() === "" ? undefined : v),
    z.coerce.number({ message: "expected a number of seconds from 0, such as 60 or 0.5" })
      .refine((n) => Number.isFinite(n) && n >= 0, {
        message: "expected a number of seconds from 0, such as 60 or 0.5",
      })
      .optional(),
  ),
});

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
  };
}
