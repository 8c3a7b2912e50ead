/**
 * The peer's configuration, parsed once from environment variables.
 *
 * @module
 */
import { z } from "zod";
import {
  commonConfigShape,
  optionalUrl,
  parseConfig,
  port,
  seconds,
  type ServiceConfig,
  serviceConfig,
  stringWithDefault,
} from "../shared/config.ts";

/** The variables the peer reads, with their defaults. */
export const peerConfigSchema = z.object({
  ...commonConfigShape,
  PORT: port(8080),
  DATA_DIR: stringWithDefault(".data/peer"),
  REDIS_URL: optionalUrl(["redis:", "rediss:"]),
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
    ttlMs,
    graceMs: raw.ADVERT_GRACE_SECONDS === undefined ? ttlMs / 4 : raw.ADVERT_GRACE_SECONDS * 1000,
  };
}
