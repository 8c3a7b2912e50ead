import assert from "node:assert/strict";
import { ServiceMetrics } from "../../shared/telemetry/mod.ts";
import { activeSpanIds, inSpan, traceHeaders } from "../../shared/telemetry/mod.ts";
import { withTraceIds } from "../../shared/logging.ts";
import { createHttpApp } from "../../shared/http/mod.ts";
import type { LogRecord } from "@logtape/logtape";

Deno.test("a counter and a histogram recorded once show in the Prometheus text with their labels", async () => {
  const metrics = new ServiceMetrics("test");
  const requests = metrics.counter({
    name: "sorcha_test_requests_total",
    help: "Requests served.",
    labels: ["kind"],
  });
  const duration = metrics.histogram({
    name: "sorcha_test_duration_seconds",
    help: "How long requests took.",
  });
  requests.add(1, { kind: "bulk" });
  requests.add(2, { kind: "bulk" });
  requests.add(1, { kind: "single" });
  duration.record(0.003);
  const text = await metrics.render();
  assert.match(text, /# HELP sorcha_test_requests_total Requests served\./);
  assert.match(text, /# TYPE sorcha_test_requests_total counter/);
  assert.match(text, /sorcha_test_requests_total\{kind="bulk"\} 3/);
  assert.match(text, /sorcha_test_requests_total\{kind="single"\} 1/);
  assert.match(text, /# TYPE sorcha_test_duration_seconds histogram/);
  assert.match(text, /sorcha_test_duration_seconds_bucket\{le="0.005"\} 1/);
  assert.match(text, /sorcha_test_duration_seconds_count 1/);
});

Deno.test("observed gauges and counters read the state that keeps them at each render", async () => {
  const metrics = new ServiceMetrics("test");
  const state = { connected: "Connected", failovers: 2 };
  metrics.gauge({
    name: "sorcha_test_state",
    help: "1 for the current state.",
    labels: ["state"],
    observe: () =>
      ["Connected", "Isolated"].map((s) => ({
        value: s === state.connected ? 1 : 0,
        labels: { state: s },
      })),
  });
  metrics.observedCounter({
    name: "sorcha_test_failovers_total",
    help: "Failovers.",
    observe: () => state.failovers,
  });
  let text = await metrics.render();
  assert.match(text, /sorcha_test_state\{state="Connected"\} 1/);
  assert.match(text, /sorcha_test_state\{state="Isolated"\} 0/);
  assert.match(text, /# TYPE sorcha_test_failovers_total counter/);
  assert.match(text, /sorcha_test_failovers_total 2/);
  state.connected = "Isolated";
  state.failovers = 3;
  text = await metrics.render();
  assert.match(text, /sorcha_test_state\{state="Connected"\} 0/);
  assert.match(text, /sorcha_test_state\{state="Isolated"\} 1/);
  assert.match(text, /sorcha_test_failovers_total 3/);
});

Deno.test("a metric defined twice in one service is refused, naming it", () => {
  const metrics = new ServiceMetrics("test");
  metrics.counter({ name: "sorcha_test_twice_total", help: "Once." });
  assert.throws(
    () => metrics.counter({ name: "sorcha_test_twice_total", help: "Twice." }),
    /sorcha_test_twice_total is defined twice/,
  );
});

Deno.test("two services in one process keep their metrics apart", async () => {
  const a = new ServiceMetrics("a");
  const b = new ServiceMetrics("b");
  a.counter({ name: "sorcha_same_total", help: "In a." }).add(5);
  b.counter({ name: "sorcha_same_total", help: "In b." }).add(1);
  assert.match(await a.render(), /sorcha_same_total 5/);
  assert.match(await b.render(), /sorcha_same_total 1/);
});

Deno.test("without OpenTelemetry a span runs its work, passes its result and its failure on, and leaves no trace ids", async () => {
  assert.equal(await inSpan("test.ok", () => 42), 42);
  await assert.rejects(
    inSpan("test.fails", () => {
      throw new Error("boom");
    }),
    /boom/,
  );
  await inSpan("test.ids", () => {
    assert.equal(activeSpanIds(), undefined);
    assert.deepEqual(traceHeaders(), {});
  });
});

Deno.test("a JSON log line carries no trace ids when no span is active", () => {
  const seen: LogRecord[] = [];
  const format = withTraceIds((record) => {
    seen.push(record);
    return "";
  });
  const record = {
    category: ["sorcha"],
    level: "info",
    message: ["hello"],
    rawMessage: "hello",
    timestamp: 0,
    properties: { peer: "p1" },
  } as LogRecord;
  format(record);
  assert.deepEqual(seen[0]?.properties, { peer: "p1" });
});

function appWithMetrics(token?: string) {
  const metrics = new ServiceMetrics("test");
  metrics.counter({ name: "sorcha_test_hits_total", help: "Hits." }).add(7);
  return createHttpApp({
    service: "test",
    version: "0",
    readiness: () => ({ ready: true, dependencies: {} }),
    metrics: { render: () => metrics.render(), token },
  });
}

Deno.test("GET /metrics serves the Prometheus text format without a token when METRICS_TOKEN is unset", async () => {
  const response = await appWithMetrics().request("/metrics");
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  assert.match(await response.text(), /sorcha_test_hits_total 7/);
});

Deno.test("GET /metrics needs the METRICS_TOKEN bearer token when it is set", async () => {
  const app = appWithMetrics("s3cret");
  const missing = await app.request("/metrics");
  assert.equal(missing.status, 401);
  assert.match((await missing.json()).error.message, /METRICS_TOKEN/);
  const wrong = await app.request("/metrics", { headers: { authorization: "Bearer nope" } });
  assert.equal(wrong.status, 403);
  await wrong.body?.cancel();
  const right = await app.request("/metrics", { headers: { authorization: "Bearer s3cret" } });
  assert.equal(right.status, 200);
  assert.match(await right.text(), /sorcha_test_hits_total 7/);
});
