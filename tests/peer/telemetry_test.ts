/**
 * The peer as a process with OpenTelemetry on (issue 18): a bulk advertise
 * reaches an in-test OTLP collector as a `peer.advertise.bulk` span and as
 * `sorcha_peer_advertisements` points, its JSON log line carries that span's
 * ids, and `/metrics` shows the same figures.
 */
import assert from "node:assert/strict";
import { startOtlpCollector } from "../fixtures/otlp_collector.ts";
import { parsePrometheusText, seriesKey } from "../fixtures/prometheus_text.ts";
import { startService } from "../fixtures/service_process.ts";
import { until } from "../fixtures/wait.ts";
import { item } from "./helpers.ts";

Deno.test("a peer with OTEL_DENO on exports its bulk advertise span, its advertisement gauge and JSON logs with the span's ids", async () => {
  await using collector = startOtlpCollector();
  await using peer = await startService("peer/main.ts", {
    env: { ...collector.env, OTEL_SERVICE_NAME: "peer", LOG_FORMAT: "json" },
  });
  const res = await fetch(`${peer.url}/api/registers/bulk-advertise`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      advertisements: [item(1), item(2), item(3, { isPublic: false })],
      syncId: "sync-1",
      part: 0,
      lastPart: true,
    }),
  });
  assert.equal(res.status, 200, await res.text());

  const span = await collector.waitForSpan(
    "peer.advertise.bulk",
    (s) => s.name === "peer.advertise.bulk",
  );
  assert.equal(span.service, "peer");
  assert.equal(span.attributes["sorcha.advertise.count"], 3);
  assert.equal(span.attributes["sorcha.advertise.full_sync"], true);
  assert.equal(span.attributes["sorcha.advertise.sync_id"], "sync-1");
  assert.equal(span.attributes["sorcha.advertise.part"], 0);
  assert.equal(span.attributes["sorcha.advertise.added"], 3);
  await collector.waitForPoint(
    "sorcha_peer_advertisements local 3",
    (p) =>
      p.metric === "sorcha_peer_advertisements" && p.attributes.scope === "local" && p.value === 3,
  );

  const metrics = parsePrometheusText(await (await fetch(`${peer.url}/metrics`)).text());
  assert.equal(metrics.series.get(seriesKey("sorcha_peer_advertisements", { scope: "local" })), 3);
  assert.equal(metrics.series.get("sorcha_peer_registers_available"), 2);

  let line: string | undefined;
  await until("the full sync is logged", () => {
    line = peer.stderr().split("\n").find((l) => l.includes("full sync repaired"));
    return Promise.resolve(line !== undefined);
  });
  const record = JSON.parse(line!);
  assert.equal(record.level, "INFO");
  assert.equal(record.properties.syncId, "sync-1");
  assert.equal(record.properties.added, 3);
  assert.equal(record.properties.trace_id, span.traceId);
  assert.equal(record.properties.span_id, span.spanId);
});
