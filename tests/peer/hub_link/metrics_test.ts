/**
 * The link process's metrics (`peer/hub_link/metrics.ts`), rendered in the
 * Prometheus text format: observed from the link's status (connection
 * state, failovers, misses, notifications, the replica and its counters)
 * and recorded where heartbeats and syncs happen.
 */
import assert from "node:assert/strict";
import { LinkMetrics, replicaLag } from "../../../peer/hub_link/metrics.ts";
import { CONNECTION_STATES } from "../../../peer/hub_link/status.ts";
import { publishBlueprint, startTestHub } from "../../hub/hub_fixture.ts";
import { fakeEntry, startFakeHub, truthfulDigest } from "./fake_hub.ts";
import { startLink, type TestLink } from "./link_fixture.ts";
import { statusOf } from "./status_fixture.ts";

/** The value of the series `name{labels}` in `text`; undefined when absent. */
function sample(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const match = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = match[2] ? match[2].split(",") : [];
    if (wanted.every((label) => present.includes(label)) && present.length === wanted.length) {
      return Number(match[3]);
    }
  }
  return undefined;
}

Deno.test("the connection state gauge is 1 for the link's state and 0 for each other state", async () => {
  let status = statusOf("Connected", 4);
  const metrics = new LinkMetrics(() => status);
  for (const state of ["Connected", "Isolated"] as const) {
    status = statusOf(state);
    const text = await metrics.render();
    for (const each of CONNECTION_STATES) {
      const value = sample(text, "sorcha_peer_hub_connection_state", { state: each });
      assert.equal(value, each === state ? 1 : 0, `${each} while ${state}`);
    }
  }
});

Deno.test("the counters the link's status keeps are rendered as they stand", async () => {
  const metrics = new LinkMetrics(() => statusOf("HeartbeatTimeout", 4));
  const text = await metrics.render();
  assert.equal(sample(text, "sorcha_peer_hub_failovers_total"), 3);
  assert.equal(sample(text, "sorcha_peer_hub_heartbeat_misses_total"), 2);
  assert.equal(sample(text, "sorcha_peer_hub_push_notifications_total"), 5);
  assert.equal(sample(text, "sorcha_peer_replica_version"), 4);
  assert.equal(sample(text, "sorcha_peer_replica_blueprints"), 3);
  assert.equal(sample(text, "sorcha_peer_sync_rejected_entries_total"), 2);
  assert.equal(sample(text, "sorcha_peer_sync_digest_mismatches_total"), 1);
  assert.equal(sample(text, "sorcha_peer_syncs_total", { kind: "full", outcome: "ok" }), 1);
  assert.equal(sample(text, "sorcha_peer_syncs_total", { kind: "incremental", outcome: "ok" }), 6);
  assert.equal(sample(text, "sorcha_peer_syncs_total", { kind: "full", outcome: "failed" }), 0);
  assert.match(text, /# TYPE sorcha_peer_hub_heartbeat_latency_seconds histogram/);
  assert.match(text, /# TYPE sorcha_peer_sync_duration_seconds histogram/);
});

Deno.test("the replica's lag is the connected hub's version minus the replica's, and 0 without a hub", () => {
  assert.equal(replicaLag(statusOf("Connected", 9)), 5);
  assert.equal(replicaLag(statusOf("Connected", 4)), 0);
  assert.equal(replicaLag(statusOf("Connected", 2)), 0, "a hub behind the replica is no lag");
  assert.equal(replicaLag(statusOf("Isolated")), 0);
});

/** A link to `address` whose metrics are recorded, and its metrics. */
function measuredLink(address: string): { peer: TestLink; metrics: LinkMetrics } {
  const metrics = new LinkMetrics(() => peer.status());
  const peer = startLink([address], { recorder: metrics });
  return { peer, metrics };
}

Deno.test("a link to a hub renders its heartbeats, syncs, notifications and replica", async () => {
  await using hub = await startTestHub();
  await publishBlueprint(hub, "bp-1");
  const { peer: link, metrics } = measuredLink(hub.address);
  await using peer = link;
  await peer.until("synced", (s) => s.replica.checkpoint?.version === hub.register.version);
  const event = await publishBlueprint(hub, "bp-pushed");
  await peer.until(
    "the publication is in the replica, and two beats were acknowledged since",
    (s) =>
      s.replica.checkpoint?.version === event.entry.version && s.heartbeat.totalAcknowledged >= 2,
  );
  const text = await metrics.render();
  assert.equal(sample(text, "sorcha_peer_hub_connection_state", { state: "Connected" }), 1);
  assert.ok(sample(text, "sorcha_peer_hub_heartbeat_latency_seconds_count")! >= 2);
  assert.equal(sample(text, "sorcha_peer_hub_heartbeat_misses_total"), 0);
  assert.ok(sample(text, "sorcha_peer_hub_push_notifications_total")! >= 1);
  assert.equal(sample(text, "sorcha_peer_replica_version"), event.entry.version);
  assert.equal(sample(text, "sorcha_peer_replica_lag_versions"), 0);
  // The genesis blueprint and the two published.
  assert.equal(sample(text, "sorcha_peer_replica_blueprints"), 3);
  assert.equal(sample(text, "sorcha_peer_syncs_total", { kind: "full", outcome: "ok" }), 1);
  assert.ok(sample(text, "sorcha_peer_syncs_total", { kind: "incremental", outcome: "ok" })! >= 1);
  assert.equal(sample(text, "sorcha_peer_sync_duration_seconds_count", { kind: "full" }), 1);
  assert.ok(sample(text, "sorcha_peer_sync_duration_seconds_count", { kind: "incremental" })! >= 1);
  assert.equal(sample(text, "sorcha_peer_sync_entries_total", { kind: "full" }), 2);
  assert.ok(sample(text, "sorcha_peer_sync_entries_total", { kind: "incremental" })! >= 1);
});

Deno.test("a rejected entry is counted, and so is the failed sync by its kind", async () => {
  const good = [fakeEntry("bp-1", 1), fakeEntry("bp-2", 2)];
  const corrupt = { ...good[1]!, blueprintDocument: new TextEncoder().encode('{"tampered":true}') };
  await using hub = await startFakeHub({
    // The first stream carries the corruption; the retries after it do not.
    entries: (after, stream) =>
      (stream === 1 ? [good[0]!, corrupt] : [
        good[0]!,
        { ...good[1]!, activeSetDigest: truthfulDigest(good) },
      ]).filter((e) => Number(e.version) > after),
  });
  const { peer: link, metrics } = measuredLink(hub.address);
  await using peer = link;
  await peer.until("synced after the rejection", (s) => s.replica.checkpoint?.version === 2);
  const text = await metrics.render();
  assert.equal(sample(text, "sorcha_peer_sync_rejected_entries_total"), 1);
  assert.equal(sample(text, "sorcha_peer_syncs_total", { kind: "full", outcome: "failed" }), 1);
  assert.equal(sample(text, "sorcha_peer_syncs_total", { kind: "full", outcome: "ok" }), 1);
});
