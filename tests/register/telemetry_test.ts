/**
 * The register service's telemetry over OTLP: a register process started
 * with OpenTelemetry on (`OTEL_DENO=true`, OTLP http/json to an in-test
 * collector) sends a `register.reconcile` span for its startup push, whose
 * call to the peer carries its trace context, and its reconciliation metrics.
 */
import assert from "node:assert/strict";
import { startOtlpCollector } from "../fixtures/otlp_collector.ts";
import { freePort } from "../fixtures/ports.ts";
import { startService } from "../fixtures/service_process.ts";

Deno.test("a register with OpenTelemetry on sends a register.reconcile span for its startup push, and its metrics, over OTLP", async () => {
  await using collector = startOtlpCollector();
  // A peer that takes every full sync, keeping the trace context each came with.
  const traceparents: string[] = [];
  const peerPort = freePort();
  await using _peer = Deno.serve(
    { hostname: "127.0.0.1", port: peerPort, onListen() {} },
    (req) => {
      traceparents.push(req.headers.get("traceparent") ?? "");
      return Response.json({
        processed: 0,
        added: 0,
        updated: 0,
        removed: 0,
        unchanged: 0,
        persisted: true,
      });
    },
  );
  await using _register = await startService("register/main.ts", {
    env: {
      ...collector.env,
      OTEL_SERVICE_NAME: "register",
      PEER_URL: `http://127.0.0.1:${peerPort}`,
    },
  });

  const reconcile = await collector.waitForSpan(
    "register.reconcile",
    (span) => span.name === "register.reconcile",
  );
  assert.equal(reconcile.service, "register");
  assert.equal(reconcile.attributes["sorcha.reconcile.trigger"], "startup");
  assert.equal(reconcile.attributes["sorcha.reconcile.outcome"], "ok");
  assert.equal(reconcile.attributes["sorcha.reconcile.registers"], 0);
  assert.equal(reconcile.attributes["sorcha.reconcile.added"], 0);
  assert.equal(traceparents.length, 1);
  assert.equal(
    traceparents[0]!.split("-")[1],
    reconcile.traceId,
    "the call to the peer carries the reconciliation's trace",
  );
  await collector.waitForPoint(
    "sorcha_register_reconciliation_runs{outcome=ok} 1",
    (point) =>
      point.metric === "sorcha_register_reconciliation_runs" && point.attributes.outcome === "ok" &&
      point.value === 1,
  );
});
