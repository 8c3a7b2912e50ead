/**
 * Starts the register service: `deno task register`. The only place that
 * reads the environment; everything else receives what it needs.
 *
 * @module
 */
import { PeerClient } from "../shared/client/peer_client.ts";
import { ConfigError } from "../shared/config.ts";
import { listenFailureLine } from "../shared/listen_failure.ts";
import { log, setupLogging } from "../shared/logging.ts";
import { createSystemScheduler } from "../shared/schedule.ts";
import { serveUntilSignal } from "../shared/serve.ts";
import { createRegisterApp } from "./app.ts";
import { parseRegisterConfig, type RegisterConfig } from "./config.ts";
import { RegisterService } from "./registers/service.ts";
import { PeerSync } from "./resync/peer_sync.ts";
import { openRegisterStore } from "./store/mod.ts";

async function main(config: RegisterConfig): Promise<void> {
  setupLogging({
    level: config.logLevel,
    format: config.logFormat,
    color: Deno.stderr.isTerminal() && !Deno.env.get("NO_COLOR"),
  });
  const logger = log("register");
  let store;
  try {
    store = await openRegisterStore({
      ...(config.mongodbUrl ? { mongodbUrl: config.mongodbUrl } : {}),
      dataDir: config.dataDir,
    });
  } catch (error) {
    logger.error("Cannot start: {error}", {
      error: error instanceof Error ? error.message : String(error),
    });
    Deno.exit(1);
  }
  const peer = new PeerClient({
    baseUrl: config.peerUrl,
    token: config.peerApiToken,
    timeoutMs: config.peerTimeoutMs,
  });
  const sync = new PeerSync(store, peer, {
    scheduler: createSystemScheduler(),
    intervalMs: config.resyncIntervalMs,
    retryMaxMs: config.resyncRetryMaxMs,
    logger: log("register", "sync"),
  });
  const service = new RegisterService(store, { listener: sync });
  const app = createRegisterApp({ service, store, sync, apiToken: config.apiToken, logger });
  try {
    await serveUntilSignal(app.fetch, {
      host: config.host,
      port: config.port,
      service: "register",
      logger,
      // The startup push begins once the service serves (not when it cannot start).
      onListen: () => sync.start(),
      onShutdown: async () => {
        await sync.close();
        await store.close();
      },
    });
  } catch (error) {
    const line = listenFailureLine(error, { host: "HOST", port: "PORT" });
    if (line === undefined) throw error;
    logger.error("Cannot start: {error}", { error: line });
    Deno.exit(1);
  }
}

let config: RegisterConfig;
try {
  config = parseRegisterConfig(Deno.env.toObject());
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  Deno.exit(1);
}
await main(config);
