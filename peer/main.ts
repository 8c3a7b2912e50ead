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
import { readPemFile } from "../shared/pem.ts";
import { runService } from "../shared/run_service.ts";
import { parsePeerConfig } from "./config.ts";
import { HUB_LINK_ARGUMENT } from "./hub_link/link_process.ts";

await runService("peer", {
  env: Deno.env.toObject(),
  async configure(env) {
    const config = parsePeerConfig(env);
    // Read once here too, so that a bad file stops the peer before it does anything.
    if (config.hubLink?.tlsCaPath) await readPemFile(config.hubLink.tlsCaPath, "HUB_TLS_CA");
    return config;
  },
  async run(config) {
    if (Deno.args.includes(HUB_LINK_ARGUMENT)) {
      if (!config.hubLink) {
        console.error("The hub link needs HUB_NODES: it lists no hub");
        Deno.exit(1);
      }
      const { runHubLink } = await import("./hub_link/link_main.ts");
      await runHubLink(config, config.hubLink);
    } else {
      const { runPeer } = await import("./service.ts");
      // When it cannot listen, everything the peer started is stopped by now (see serveUntilSignal).
      await runPeer(config, import.meta.url);
    }
  },
});
