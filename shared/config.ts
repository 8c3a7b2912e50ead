/**
 * Configuration from environment variables, parsed once with zod.
 *
 * Each service's `main.ts` builds a schema from the pieces here, calls
 * {@link parseConfig} with `Deno.env.toObject()`, and hands the typed result to
 * the code that needs it. A bad value becomes a {@link ConfigError} whose
 * message is one line naming the variable, the value and what is expected.
 *
 * @module
 */
import { z } from "zod";

/** A configuration value that cannot be used; the message is one line. */
export class ConfigError extends Error {
  /** Creates the error from its one-line message. */
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** Treats an empty string as "not set", so `VAR=` falls back to the default. */
function unsetIfEmpty(value: unknown): unknown {
  return typeof value === "string" && value.trim() === "" ? undefined : value;
}

/** A duration in seconds (fractions allowed), greater than zero. */
export function seconds(defaultValue: number) {
  return z.preprocess(
    unsetIfEmpty,
    z.coerce.number({ message: "expected a number of seconds greater than 0, such as 30 or 0.5" })
      .refine((n) => Number.isFinite(n) && n > 0, {
        message: "expected a number of seconds greater than 0, such as 30 or 0.5",
      })
      .default(defaultValue),
  );
}

/** A TCP port, 0 (any free port) to 65535. */
export function port(defaultValue: number) {
  const message = "expected a port number from 0 to 65535";
  return z.preprocess(
    unsetIfEmpty,
    z.coerce.number({ message }).int({ message }).min(0, { message }).max(65535, { message })
      .default(defaultValue),
  );
}

/** A whole number from `min` to `max` (default unbounded). */
export function wholeNumber(defaultValue: number, options: { min: number; max?: number }) {
  const max = options.max ?? Number.MAX_SAFE_INTEGER;
  const message = options.max === undefined
    ? `expected a whole number of at least ${options.min}`
    : `expected a whole number from ${options.min} to ${max}`;
  return z.preprocess(
    unsetIfEmpty,
    z.coerce.number({ message }).int({ message }).min(options.min, { message })
      .max(max, { message }).default(defaultValue),
  );
}

/** An optional string; empty means unset. */
export function optionalString() {
  return z.preprocess(unsetIfEmpty, z.string().optional());
}

/**
 * An optional credential (a token compared with what callers send). Unset
 * means none; set but empty or blank is refused, as it would otherwise turn
 * the check it guards off without a word.
 */
export function optionalSecret() {
  return z.string().refine((value) => value.trim() !== "", {
    message: "expected a non-empty token (unset the variable to run without one)",
  }).optional();
}

/** A string with a default; empty means unset. */
export function stringWithDefault(defaultValue: string) {
  return z.preprocess(unsetIfEmpty, z.string().default(defaultValue));
}

/** Whether `value` parses as a URL with one of `protocols`. */
function hasProtocol(value: string, protocols: readonly string[]): boolean {
  try {
    return protocols.includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

/** An optional URL with one of the given protocols (`redis:`, `http:` ...). */
export function optionalUrl(protocols: readonly string[]) {
  const expected = `expected a URL starting with ${protocols.map((p) => `${p}//`).join(" or ")}`;
  return z.preprocess(
    unsetIfEmpty,
    z.string().refine((value) => hasProtocol(value, protocols), { message: expected }).optional(),
  );
}

/** A comma-separated list of base URLs with one of the given protocols; empty means none. */
export function urlList(protocols: readonly string[]) {
  const starts = protocols.map((p) => `${p}//`).join(" or ");
  return z.preprocess(
    (value) =>
      typeof value === "string"
        ? value.split(",").map((part) => part.trim()).filter((part) => part !== "")
        : value ?? [],
    z.array(
      z.string().refine((value) => hasProtocol(value, protocols), {
        error: (issue) =>
          `${
            JSON.stringify(issue.input)
          } is not a URL starting with ${starts} (expected comma-separated URLs)`,
      }).transform((value) => value.replace(/\/+$/, "")),
    ),
  );
}

/** Log levels accepted by `LOG_LEVEL`. */
export const LOG_LEVELS = ["debug", "info", "warning", "error"] as const;

/** The variables every service reads. */
export const commonConfigShape = {
  HOST: stringWithDefault("127.0.0.1"),
  LOG_LEVEL: z.preprocess(
    unsetIfEmpty,
    z.enum(LOG_LEVELS, { message: `expected one of ${LOG_LEVELS.join(", ")}` }).default("info"),
  ),
  LOG_FORMAT: z.preprocess(
    unsetIfEmpty,
    z.enum(["pretty", "json"], { message: "expected pretty or json" }).default("pretty"),
  ),
  API_TOKEN: optionalSecret(),
  METRICS_TOKEN: optionalSecret(),
};

/**
 * Parses environment variables with a zod object schema whose keys are the
 * variable names. Throws a {@link ConfigError} naming the first bad variable,
 * its value and what is expected.
 */
export function parseConfig<T extends z.ZodType>(
  schema: T,
  env: Record<string, string | undefined>,
): z.output<T> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const name = issue?.path.length ? String(issue.path[0]) : "configuration";
  const raw = issue?.path.length ? env[String(issue.path[0])] : undefined;
  const shown = raw === undefined ? "(unset)" : JSON.stringify(raw);
  throw new ConfigError(
    `Invalid configuration: ${name}=${shown}: ${issue?.message ?? "invalid value"}`,
  );
}

/** What every service's configuration holds. */
export interface ServiceConfig {
  /** Bind address. */
  host: string;
  /** HTTP port (0: any free port). */
  port: number;
  /** Lowest log level written. */
  logLevel: typeof LOG_LEVELS[number];
  /** Log line format. */
  logFormat: "pretty" | "json";
  /** Where embedded stores and files live. */
  dataDir: string;
  /** Bearer token for state-changing endpoints, when set. */
  apiToken: string | undefined;
  /** Bearer token `GET /metrics` needs, when set. */
  metricsToken: string | undefined;
}

/** The {@link ServiceConfig} part of parsed variables (with `PORT` and `DATA_DIR`). */
export function serviceConfig(
  raw: {
    HOST: string;
    PORT: number;
    LOG_LEVEL: typeof LOG_LEVELS[number];
    LOG_FORMAT: "pretty" | "json";
    DATA_DIR: string;
    API_TOKEN?: string | undefined;
    METRICS_TOKEN?: string | undefined;
  },
): ServiceConfig {
  return {
    host: raw.HOST,
    port: raw.PORT,
    logLevel: raw.LOG_LEVEL,
    logFormat: raw.LOG_FORMAT,
    dataDir: raw.DATA_DIR,
    apiToken: raw.API_TOKEN,
    metricsToken: raw.METRICS_TOKEN,
  };
}
