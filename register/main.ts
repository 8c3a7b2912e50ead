/**
 * Starts the register service: `deno task register`. The only place that
 * reads the environment; everything else receives what it needs.
 *
 * @module
 */
import { PeerClient } from "../shared/client/mod.ts";
import { log } from "../shared/logging.ts";
import { runService, type ServiceStart } from "../shared/run_service.ts";
import { createSystemScheduler } from "../shared/schedule.ts";
import { serveUntilSignal } from "../shared/serve.ts";
import { ServiceMetrics } from "../shared/telemetry/mod.ts";
import { createRegisterApp } from "./app.ts";
import { parseRegisterConfig, type RegisterConfig } from "./config.ts";
import { RegisterService } from "./registers/service.ts";
import { PeerSync } from "./resync/peer_sync.ts";
import { openRegisterStore } from "./store/mod.ts";

async function run(config: RegisterConfig, { logger, step }: ServiceStart): Promise<void> {
  const store = await step(() =>
    openRegisterStore({ mongodbUrl: config.mongodbUrl, dataDir: config.dataDir })
  );
  const peer = new PeerClient({
    baseUrl: config.peerUrl,
    token: config.peerApiToken,
    timeoutMs: config.peerTimeoutMs,
  });
  const metrics = new ServiceMetrics("register");
  const sync = new PeerSync(store, peer, {
    scheduler: createSystemScheduler(),
    intervalMs: config.resyncIntervalMs,
    retryMaxMs: config.resyncRetryMaxMs,
    logger: log("register", "sync"),
    metrics,
  });
  const service = new RegisterService(store, { listener: sync });
  const app = createRegisterApp({
    service,
    store,
    sync,
    apiToken: config.apiToken,
    logger,
    metrics: { render: () => metrics.render(), token: config.metricsToken },
  });
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
}

await runService("register", {
  env: Deno.env.toObject(),
  configure: (env) => parseRegisterConfig(env),
  run,
});
