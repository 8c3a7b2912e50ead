/**
 * The hub's metrics as `GET /metrics` shows them, after the actions that
 * move them: publications, subscriptions and their notifications, sync
 * streams, peers connecting and missing beats, integrity and store polls.
 */
import assert from "node:assert/strict";
import { CentralNodeConnection } from "../../gen/sorcha/peer/v1/central_node_connection_pb.ts";
import { ManualClock } from "../../shared/clock.ts";
import { createClient } from "../../shared/grpc/mod.ts";
import { FakeScheduler } from "../fixtures/fake_scheduler.ts";
import {
  collect,
  openDataDirStore,
  publishBlueprint,
  startTestHub,
  Subscription,
  syncClient,
  tempDataDir,
  type TestHub,
} from "./hub_fixture.ts";

/** The value of the series `series` (name and labels as the text writes them) in `/metrics`. */
async function metric(hub: TestHub, series: string): Promise<number> {
  const response = await hub.app.request("/metrics");
  assert.equal(response.status, 200);
  const text = await response.text();
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  assert.ok(line, `${series} is in /metrics:\n${text}`);
  return Number(line.slice(series.length + 1));
}

Deno.test("a publication shows in /metrics as one publication, the new version and one notification delivered", async () => {
  await using hub = await startTestHub();
  assert.equal(await metric(hub, "sorcha_hub_publications_total"), 0);
  assert.equal(await metric(hub, "sorcha_hub_system_register_version"), 1);
  using channel = hub.channel();
  await using subscription = new Subscription(channel, { peerId: "peer-1" });
  await subscription.subscribed();
  assert.equal(await metric(hub, "sorcha_hub_subscribers"), 1);

  await publishBlueprint(hub, "bp-a");
  await subscription.eventCount(1);
  assert.equal(await metric(hub, "sorcha_hub_publications_total"), 1);
  assert.equal(await metric(hub, "sorcha_hub_system_register_version"), 2);
  assert.equal(await metric(hub, "sorcha_hub_notifications_delivered_total"), 1);
  assert.equal(await metric(hub, "sorcha_hub_notifications_dropped_total"), 0);
  assert.equal(await metric(hub, "sorcha_hub_integrity_ok"), 1);

  // The same publication again stores nothing and counts nothing.
  await hub.publish({
    blueprintId: "bp-a",
    document: (await hub.register.store.latest("bp-a"))!.document,
    publishedBy: "tester",
  });
  assert.equal(await metric(hub, "sorcha_hub_publications_total"), 1);
});

Deno.test("sync streams served show in /metrics by kind, with their durations", async () => {
  await using hub = await startTestHub();
  await publishBlueprint(hub, "bp-a");
  using channel = hub.channel();
  const client = syncClient(channel);
  assert.equal((await collect(client.fullSync({ peerId: "peer-1" }))).length, 2);
  await collect(client.incrementalSync({ peerId: "peer-1", lastKnownVersion: 1n }));
  await collect(client.incrementalSync({ peerId: "peer-1", lastKnownVersion: 2n }));
  assert.equal(await metric(hub, 'sorcha_hub_sync_streams_total{kind="full"}'), 1);
  assert.equal(await metric(hub, 'sorcha_hub_sync_streams_total{kind="incremental"}'), 2);
  assert.equal(await metric(hub, 'sorcha_hub_sync_duration_seconds_count{kind="full"}'), 1);
  assert.equal(await metric(hub, 'sorcha_hub_sync_duration_seconds_count{kind="incremental"}'), 2);
});

Deno.test("connected peers show in /metrics by heartbeat state as their beats go missing", async () => {
  const clock = new ManualClock();
  await using hub = await startTestHub({
    clock,
    scheduler: new FakeScheduler(clock),
    heartbeatIntervalSeconds: 10,
    heartbeatTimeoutSeconds: 5,
    heartbeatMaxMissed: 3,
  });
  const peers = ["peer-1", "peer-2"];
  using channel = hub.channel();
  const connection = createClient(CentralNodeConnection, channel);
  for (const peerId of peers) {
    await connection.connectToCentralNode({
      peerId,
      peerInfo: { address: "10.0.0.7", port: 5001, nodeType: "Peer" },
    });
  }
  const state = (s: string) => metric(hub, `sorcha_hub_connected_peers{heartbeat_state="${s}"}`);
  assert.equal(await state("healthy"), 2);
  assert.equal(await state("warning"), 0);
  assert.equal(await state("critical"), 0);
  clock.advance(16_000); // one beat missed
  assert.equal(await state("healthy"), 0);
  assert.equal(await state("warning"), 2);
  clock.advance(10_000); // two
  assert.equal(await state("critical"), 2);
  clock.advance(10_000); // three: timed out, no longer connected
  assert.equal(await state("critical"), 0);
  assert.equal(await state("warning"), 0);
});

Deno.test("the integrity gauge falls to 0 once the register is found corrupt", async () => {
  await using dir = await tempDataDir();
  const store = openDataDirStore(dir.path);
  await using hub = await startTestHub({ dataDir: dir.path, store });
  await publishBlueprint(hub, "bp-a");
  assert.equal(await metric(hub, "sorcha_hub_integrity_ok"), 1);
  store.execForTest(
    "UPDATE blueprints SET document = ? WHERE version = 2",
    new TextEncoder().encode('{"tampered":true}'),
  );
  assert.equal((await hub.register.checkIntegrity()).ok, false);
  assert.equal(await metric(hub, "sorcha_hub_integrity_ok"), 0);
});

Deno.test("the store poll lag is the age of the hub's last read of the store", async () => {
  const clock = new ManualClock();
  await using hub = await startTestHub({ clock, scheduler: new FakeScheduler(clock) });
  assert.equal(await metric(hub, "sorcha_hub_store_poll_lag_seconds"), 0);
  clock.advance(7_000);
  assert.equal(await metric(hub, "sorcha_hub_store_poll_lag_seconds"), 7);
  await hub.register.refresh();
  assert.equal(await metric(hub, "sorcha_hub_store_poll_lag_seconds"), 0);
});

Deno.test("the hub's /metrics needs METRICS_TOKEN when it is set", async () => {
  await using hub = await startTestHub({ metricsToken: "m3trics" });
  const without = await hub.app.request("/metrics");
  assert.equal(without.status, 401);
  await without.body?.cancel();
  const right = await hub.app.request("/metrics", {
    headers: { authorization: "Bearer m3trics" },
  });
  assert.equal(right.status, 200);
  assert.match(await right.text(), /sorcha_hub_publications_total 0/);
});
