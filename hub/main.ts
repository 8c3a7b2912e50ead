/**
 * Starts the hub: `deno task dev:hub`, and `deno task hub` through
 * `supervised.ts` (with `--supervised`: it stops when its supervisor is
 * gone). The only place that reads the environment; everything else
 * receives what it needs.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import { ConfigError } from "../shared/config.ts";
import { routeGrpcLogs } from "../shared/grpc/logging.ts";
import { listenFailureLine } from "../shared/listen_failure.ts";
import { log, setupLogging } from "../shared/logging.ts";
import { readPemFile } from "../shared/pem.ts";
import { serveUntilSignal } from "../shared/serve.ts";
import { untilStdinCloses } from "../shared/supervise.ts";
import { type HubConfig, parseHubConfig } from "./config.ts";
import { startHub } from "./hub.ts";

/** The TLS certificate and key the configuration names, read. */
type Tls = { cert: Uint8Array; key: Uint8Array } | undefined;

async function readTls(config: HubConfig): Promise<Tls> {
  if (!config.tls) return undefined;
  return {
    cert: await readPemFile(config.tls.certPath, "GRPC_TLS_CERT"),
    key: await readPemFile(config.tls.keyPath, "GRPC_TLS_KEY"),
  };
}

async function main(config: HubConfig, tls: Tls): Promise<void> {
  setupLogging({
    level: config.logLevel,
    format: config.logFormat,
    color: Deno.stderr.isTerminal() && !Deno.env.get("NO_COLOR"),
  });
  const logger = log("hub");
  routeGrpcLogs(log("hub", "grpc"));
  let hub;
  try {
    hub = await startHub({ ...config, host: config.host, dataDir: config.dataDir, tls });
  } catch (error) {
    cannotStart(logger, error, "GRPC_PORT");
  }
  try {
    await serveUntilSignal(hub.app.fetch, {
      host: config.host,
      port: config.port,
      service: "hub",
      logger,
      onShutdown: () => hub.close(),
      // Started by `supervised.ts`: stop when the supervisor is gone.
      ...(Deno.args.includes("--supervised") ? { stop: untilStdinCloses() } : {}),
    });
  } catch (error) {
    if (listenFailureLine(error, { host: "HOST", port: "PORT" }) === undefined) throw error;
    cannotStart(logger, error, "PORT");
  }
}

/** Logs why the hub cannot start in one line (naming HOST or `port` when it cannot listen) and exits 1. */
function cannotStart(logger: Logger, error: unknown, port: string): never {
  logger.error("Cannot start: {error}", {
    error: listenFailureLine(error, { host: "HOST", port }) ??
      (error instanceof Error ? error.message : String(error)),
  });
  Deno.exit(1);
}

let config: HubConfig;
let tls: Tls;
try {
  config = parseHubConfig(Deno.env.toObject(), { hostname: Deno.hostname() });
  tls = await readTls(config);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  Deno.exit(1);
}
await main(config, tls);
// Shut down: nothing is left to wait for (a supervised hub's standard input may still be open).
Deno.exit(0);
