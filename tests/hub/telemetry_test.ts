/**
 * The hub's telemetry over OTLP: a hub process started with OpenTelemetry
 * on (`OTEL_DENO=true`, OTLP http/json to an in-test collector) sends the
 * documented spans of a publication, its push delivery and a sync stream,
 * and its metrics.
 */
import assert from "node:assert/strict";
import { SystemRegisterSync } from "../../gen/sorcha/peer/v1/system_register_sync_pb.ts";
import { createClient, GrpcChannel } from "../../shared/grpc/mod.ts";
import { startOtlpCollector } from "../fixtures/otlp_collector.ts";
import { freePort } from "../fixtures/ports.ts";
import { startService } from "../fixtures/service_process.ts";
import { collect } from "./hub_fixture.ts";

Deno.test("a hub with OpenTelemetry on sends the spans of a publication and a sync, and its metrics, over OTLP", async () => {
  await using collector = startOtlpCollector();
  const grpcPort = freePort();
  await using hub = await startService("hub/main.ts", {
    env: {
      ...collector.env,
      OTEL_SERVICE_NAME: "hub",
      HUB_ID: "hub-otel",
      GRPC_PORT: String(grpcPort),
    },
  });
  const response = await fetch(`${hub.url}/api/system-register/blueprints`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ blueprintId: "bp-traced", document: { title: "Traced" } }),
  });
  assert.equal(response.status, 201, await response.text());

  const publish = await collector.waitForSpan("hub.publish", (span) => span.name === "hub.publish");
  assert.equal(publish.service, "hub");
  assert.equal(publish.attributes["sorcha.blueprint.id"], "bp-traced");
  assert.equal(publish.attributes["sorcha.blueprint.version"], 2);
  const deliver = await collector.waitForSpan(
    "hub.push.deliver of the publication",
    (span) => span.name === "hub.push.deliver" && span.attributes["sorcha.blueprint.version"] === 2,
  );
  assert.equal(deliver.traceId, publish.traceId, "the delivery is in the publication's trace");
  assert.equal(deliver.parentSpanId, publish.spanId);
  assert.equal(deliver.attributes["sorcha.push.subscribers"], 0);

  using channel = new GrpcChannel(`127.0.0.1:${grpcPort}`);
  await collect(createClient(SystemRegisterSync, channel).fullSync({ peerId: "peer-otel" }));
  const sync = await collector.waitForSpan(
    "hub.sync.full",
    (span) => span.name === "hub.sync.full",
  );
  assert.equal(sync.attributes["sorcha.peer.id"], "peer-otel");
  assert.equal(sync.attributes["sorcha.sync.from_version"], 0);
  assert.equal(sync.attributes["sorcha.sync.entries"], 2);

  await collector.waitForPoint(
    "sorcha_hub_publications 1",
    (point) => point.metric === "sorcha_hub_publications" && point.value === 1,
  );
  await collector.waitForPoint(
    "sorcha_hub_system_register_version 2",
    (point) => point.metric === "sorcha_hub_system_register_version" && point.value === 2,
  );
});
