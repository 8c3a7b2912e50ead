/**
 * Starts the peer service: `deno task peer`. With `HUB_NODES`, it also
 * starts the hub link as a supervised process of its own: this entry point
 * again, with `--hub-link` (see `hub_link/link_process.ts`). The only place
 * that reads the environment; everything else receives what it needs. Each
 * process loads only its own modules: the service's (`service.ts`) or the
 * link's (`hub_link/link_main.ts`).
 *
 * @module
 */
import { ConfigError } from "../shared/config.ts";
import { listenFailureLine } from "../shared/listen_failure.ts";
import { log, setupLogging } from "../shared/logging.ts";
import { readPemFile } from "../shared/pem.ts";
import { parsePeerConfig, type PeerConfig } from "./config.ts";
import { HUB_LINK_ARGUMENT } from "./hub_link/link_process.ts";

let config: PeerConfig;
try {
  config = parsePeerConfig(Deno.env.toObject());
  // Read once here too, so that a bad file stops the peer before it does anything.
  if (config.hubLink?.tlsCaPath) await readPemFile(config.hubLink.tlsCaPath, "HUB_TLS_CA");
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  Deno.exit(1);
}
setupLogging({
  level: config.logLevel,
  format: config.logFormat,
  color: Deno.stderr.isTerminal() && !Deno.env.get("NO_COLOR"),
});
if (Deno.args.includes(HUB_LINK_ARGUMENT)) {
  if (!config.hubLink) {
    console.error("The hub link needs HUB_NODES: it lists no hub");
    Deno.exit(1);
  }
  const { runHubLink } = await import("./hub_link/link_main.ts");
  await runHubLink(config, config.hubLink);
} else {
  const { runPeer } = await import("./service.ts");
  try {
    await runPeer(config, import.meta.url);
  } catch (error) {
    // Everything the peer started is stopped by now (see serveUntilSignal).
    const line = listenFailureLine(error, { host: "HOST", port: "PORT" });
    if (line === undefined) throw error;
    log("peer").error("Cannot start: {error}", { error: line });
    Deno.exit(1);
  }
}
