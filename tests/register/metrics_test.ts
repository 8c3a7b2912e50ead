/**
 * The register service's reconciliation metrics as its `GET /metrics` shows
 * them, after full syncs that repair, fail and recover; and the log lines of
 * those state changes.
 */
import assert from "node:assert/strict";
import { ServiceMetrics } from "../../shared/telemetry/mod.ts";
import { createTestNetwork, recordingLogger, register, type TestNetwork } from "./helpers.ts";

/** The value of `series` (name and labels as the text writes them) in the register's `/metrics`. */
async function metric(net: TestNetwork, series: string): Promise<number> {
  const response = await net.register.request("/metrics");
  assert.equal(response.status, 200);
  const text = await response.text();
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  assert.ok(line, `${series} is in /metrics:\n${text}`);
  return Number(line.slice(series.length + 1));
}

Deno.test("a full sync that repairs the peer shows in /metrics as one ok run with the items it added", async () => {
  await using net = await createTestNetwork({
    noStart: true,
    metrics: new ServiceMetrics("register"),
  });
  await net.store.insert(register(1));
  await net.store.insert(register(2));
  net.sync.start();
  await net.sync.settled();
  assert.equal(await metric(net, 'sorcha_register_reconciliation_runs_total{outcome="ok"}'), 1);
  assert.equal(await metric(net, "sorcha_register_reconciliation_duration_seconds_count"), 1);
  const items = (change: string) =>
    metric(net, `sorcha_register_reconciliation_items_total{change="${change}"}`);
  assert.equal(await items("added"), 2);
  assert.equal(await items("updated"), 0);
  assert.equal(await items("removed"), 0);
  assert.equal(await metric(net, "sorcha_register_reconciliation_consecutive_failures"), 0);
  assert.equal(await metric(net, "sorcha_register_reconciliation_retrying"), 0);

  await net.store.delete(register(2).id);
  await net.sync.syncNow();
  assert.equal(await metric(net, 'sorcha_register_reconciliation_runs_total{outcome="ok"}'), 2);
  assert.equal(await items("removed"), 1);
});

Deno.test("failing full syncs show as failed runs, consecutive failures and retrying, until one recovers, which is logged at info with its counts", async () => {
  const { logger, lines } = recordingLogger();
  await using net = await createTestNetwork({
    noStart: true,
    peerDown: true,
    logger,
    metrics: new ServiceMetrics("register"),
  });
  await net.store.insert(register(1));
  net.sync.start();
  (await net.scheduler.nextSleep()).release();
  await net.scheduler.nextSleep();
  assert.equal(await metric(net, 'sorcha_register_reconciliation_runs_total{outcome="failed"}'), 2);
  assert.equal(await metric(net, "sorcha_register_reconciliation_consecutive_failures"), 2);
  assert.equal(await metric(net, "sorcha_register_reconciliation_retrying"), 1);
  const warnings = lines.filter((line) => line.level === "warning");
  assert.equal(warnings.length, 2);
  assert.match(warnings[0]!.message, /Full sync with the peer failed \(startup, attempt 1\)/);

  net.setPeerReachable(true);
  net.scheduler.pending[0]!.release();
  await net.sync.settled();
  assert.equal(await metric(net, 'sorcha_register_reconciliation_runs_total{outcome="ok"}'), 1);
  assert.equal(await metric(net, "sorcha_register_reconciliation_consecutive_failures"), 0);
  assert.equal(await metric(net, "sorcha_register_reconciliation_retrying"), 0);
  const recovered = lines.filter((line) => /recovered/.test(line.message));
  assert.equal(recovered.length, 1, JSON.stringify(lines));
  assert.equal(recovered[0]!.level, "info");
  assert.match(
    recovered[0]!.message,
    /Full sync with the peer recovered after 2 failed attempts \(retry\): 1 registers, 1 added/,
  );
  assert.equal(recovered[0]!.properties.added, 1);
});

Deno.test("the register's /metrics needs METRICS_TOKEN when it is set", async () => {
  await using net = await createTestNetwork({
    noStart: true,
    metrics: new ServiceMetrics("register"),
    metricsToken: "m3trics",
  });
  const without = await net.register.request("/metrics");
  assert.equal(without.status, 401);
  await without.body?.cancel();
  const right = await net.register.request("/metrics", {
    headers: { authorization: "Bearer m3trics" },
  });
  assert.equal(right.status, 200);
  assert.match(await right.text(), /sorcha_register_reconciliation_retrying 0/);
});
