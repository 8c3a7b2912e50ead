/**
 * The README's table of metrics (section Operate) and what the services
 * serve agree: every metric documented there is in the `/metrics` of the
 * service it names (the peer's in its own process or its hub link's), with
 * `# HELP` and `# TYPE` and the documented type, and every metric a service
 * serves is documented. Each `/metrics` text also parses as the Prometheus
 * text format.
 */
import assert from "node:assert/strict";
import { LinkMetrics } from "../../peer/hub_link/metrics.ts";
import { ServiceMetrics } from "../../shared/telemetry/mod.ts";
import { startTestHub } from "../hub/hub_fixture.ts";
import { statusOf } from "../peer/hub_link/status_fixture.ts";
import { createTestNetwork as createGossipNetwork } from "../peer/gossip_helpers.ts";
import { createTestNetwork } from "../register/helpers.ts";
import { assertDocumented, parsePrometheusText } from "../fixtures/prometheus_text.ts";

const README = new URL("../../README.md", import.meta.url);

/** The README's metrics table: name → type, for each `| \`sorcha_…\` | type |` row. */
async function documentedMetrics(): Promise<Map<string, string>> {
  const text = await Deno.readTextFile(README);
  const operate = text.slice(text.indexOf("\n## Operate"), text.indexOf("\n## Tests"));
  const documented = new Map<string, string>();
  for (const match of operate.matchAll(/^\| `(sorcha_[a-z_]+)`\s*\|\s*(\w+)\s*\|/gm)) {
    documented.set(match[1]!, match[2]!);
  }
  return documented;
}

async function served(response: Response): Promise<string> {
  assert.equal(response.status, 200);
  return await response.text();
}

Deno.test("every metric the README documents is served by its service with its type, and every metric served is documented", async () => {
  const documented = await documentedMetrics();
  assert.ok(documented.size >= 30, `the README documents ${documented.size} metrics`);

  await using hub = await startTestHub();
  await using peers = createGossipNetwork();
  const peer = await peers.add("alpha", { metrics: new ServiceMetrics("peer") });
  await using net = await createTestNetwork({
    noStart: true,
    metrics: new ServiceMetrics("register"),
  });
  const link = new LinkMetrics(() => statusOf("Connected", 4));
  const texts = {
    hub: await served(await hub.app.request("/metrics")),
    peer: (await served(await peer.app.request("/metrics"))) + (await link.render()),
    register: await served(await net.register.request("/metrics")),
  };

  for (const [service, text] of Object.entries(texts)) {
    const parsed = parsePrometheusText(text);
    const ours = [...documented.keys()].filter((name) => name.startsWith(`sorcha_${service}_`));
    assertDocumented(parsed, ours);
    for (const name of ours) {
      assert.equal(parsed.types.get(name), documented.get(name), `${name}'s type`);
    }
    for (const name of parsed.types.keys()) {
      assert.ok(
        documented.has(name),
        `${service} serves ${name}, which the README does not document`,
      );
    }
  }
});
