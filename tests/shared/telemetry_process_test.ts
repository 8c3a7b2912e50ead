import assert from "node:assert/strict";
import { startOtlpCollector } from "../fixtures/otlp_collector.ts";

const PROBE = new URL("../fixtures/telemetry_probe.ts", import.meta.url).pathname;

Deno.test("with OTEL_DENO on, spans, their failures, counters and JSON log lines with trace ids reach an OTLP collector", async () => {
  await using collector = startOtlpCollector();
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", PROBE],
    env: { ...collector.env, OTEL_SERVICE_NAME: "probe", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, stderr);
  const headers = JSON.parse(new TextDecoder().decode(output.stdout).trim());
  assert.match(headers.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

  const work = await collector.waitForSpan("probe.work", (s) => s.name === "probe.work");
  assert.equal(work.service, "probe");
  assert.equal(work.attributes["probe.item"], "one");
  assert.equal(headers.traceparent.split("-")[1], work.traceId);
  const failed = await collector.waitForSpan("probe.fails", (s) => s.name === "probe.fails");
  assert.equal(failed.statusCode, 2);
  // A counter's OpenTelemetry name is its Prometheus name without `_total`.
  const point = await collector.waitForPoint(
    "sorcha_probe_works",
    (p) => p.metric === "sorcha_probe_works",
  );
  assert.equal(point.value, 1);

  const line = stderr.split("\n").find((l) => l.includes("Working on"));
  assert.ok(line, stderr);
  const record = JSON.parse(line);
  assert.equal(record.properties.trace_id, work.traceId);
  assert.equal(record.properties.span_id, work.spanId);
  assert.equal(record.properties.item, "one");
});
