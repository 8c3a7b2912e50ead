/**
 * Starts the hub: `deno task dev:hub`, and `deno task hub` through
 * `supervised.ts` (with `--supervised`: it stops when its supervisor is
 * gone). The only place that reads the environment; everything else
 * receives what it needs.
 *
 * @module
 */
import { routeGrpcLogs } from "../shared/grpc/mod.ts";
import { log } from "../shared/logging.ts";
import { readPemFile } from "../shared/pem.ts";
import { runService, type ServiceStart } from "../shared/run_service.ts";
import { serveUntilSignal } from "../shared/serve.ts";
import { untilStdinCloses } from "../shared/supervise.ts";
import { ServiceMetrics } from "../shared/telemetry/mod.ts";
import { type HubConfig, parseHubConfig } from "./config.ts";
import { startHub } from "./hub.ts";

/** The TLS certificate and key the configuration names, read. */
type Tls = { cert: Uint8Array; key: Uint8Array } | undefined;

/** The configuration, with the TLS files it names read. */
type HubStart = HubConfig & { tlsFiles: Tls };

async function readTls(config: HubConfig): Promise<Tls> {
  if (!config.tls) return undefined;
  return {
    cert: await readPemFile(config.tls.certPath, "GRPC_TLS_CERT"),
    key: await readPemFile(config.tls.keyPath, "GRPC_TLS_KEY"),
  };
}

async function run({ tlsFiles: tls, ...config }: HubStart, start: ServiceStart): Promise<void> {
  routeGrpcLogs(log("hub", "grpc"));
  // When its gRPC server cannot listen, the line names GRPC_PORT (not PORT).
  const hub = await start.step(
    () =>
      startHub({
        ...config,
        host: config.host,
        dataDir: config.dataDir,
        tls,
        metrics: new ServiceMetrics("hub"),
        metricsToken: config.metricsToken,
      }),
    { port: "GRPC_PORT" },
  );
  await serveUntilSignal(hub.app.fetch, {
    host: config.host,
    port: config.port,
    service: "hub",
    logger: start.logger,
    onShutdown: () => hub.close(),
    // Started by `supervised.ts`: stop when the supervisor is gone.
    ...(Deno.args.includes("--supervised") ? { stop: untilStdinCloses() } : {}),
  });
}

await runService("hub", {
  env: Deno.env.toObject(),
  async configure(env): Promise<HubStart> {
    const config = parseHubConfig(env, { hostname: Deno.hostname() });
    return { ...config, tlsFiles: await readTls(config) };
  },
  run,
});
// Shut down: nothing is left to wait for (a supervised hub's standard input may still be open).
Deno.exit(0);
