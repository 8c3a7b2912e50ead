/**
 * What the link does with a hub's RecommendedAction: SYNC syncs, FAILOVER
 * leaves the hub at once, REDUCE_FREQUENCY slows the heartbeats down to the
 * hub's own interval and no further.
 */
import assert from "node:assert/strict";
import { RecommendedAction } from "../../../gen/sorcha/peer/v1/heartbeat_pb.ts";
import { slower } from "../../../peer/hub_link/heartbeats.ts";
import { startTestHub } from "../../hub/hub_fixture.ts";
import { fakeEntry, startFakeHub, truthfulDigest } from "./fake_hub.ts";
import { connectedTo, startLink } from "./link_fixture.ts";

const ENTRIES = [fakeEntry("bp-1", 1)];
const truthful = (after: number) =>
  ENTRIES.map((e) => ({ ...e, activeSetDigest: truthfulDigest(ENTRIES) }))
    .filter((e) => Number(e.version) > after);

Deno.test("a slowed-down cadence doubles, never past the hub's interval nor below its own", () => {
  assert.equal(slower(200, 30_000), 400);
  assert.equal(slower(20_000, 30_000), 30_000);
  assert.equal(slower(30_000, 30_000), 30_000);
  assert.equal(slower(40_000, 30_000), 40_000);
  assert.equal(slower(100, Number.POSITIVE_INFINITY), 200);
});

Deno.test("SYNC from a hub's heartbeat answer runs a sync", async () => {
  await using hub = await startFakeHub({
    entries: truthful,
    acknowledge: (beat) => beat === 3 ? { recommendedAction: RecommendedAction.SYNC } : {},
  });
  await using peer = startLink([hub.address]);
  await peer.until(
    "a sync the hub recommended",
    (s) => s.replica.lastResult?.reason === "the hub recommended a sync",
  );
  assert.equal(peer.status().heartbeat.lastAction !== null, true);
});

Deno.test("FAILOVER from a hub's heartbeat answer moves the peer to the next hub at once", async () => {
  await using fake = await startFakeHub({
    entries: truthful,
    acknowledge: () => ({ recommendedAction: RecommendedAction.FAILOVER, message: "draining" }),
  });
  await using next = await startTestHub({ hubId: "n1" });
  await using peer = startLink([fake.address, next.address], {
    config: { failbackIntervalMs: 600_000 },
  });
  await peer.until("on n1", (s) => connectedTo(s, next.address));
  const failover = peer.status().recentFailovers[0]!;
  assert.match(failover.reason, /the hub recommended a failover \(draining\)/);
  assert.equal(peer.status().heartbeat.totalMissed, 0);
});

Deno.test("REDUCE_FREQUENCY slows the heartbeats down, up to the hub's interval", async () => {
  await using hub = await startFakeHub({
    entries: truthful,
    heartbeatIntervalSeconds: 1,
    acknowledge: () => ({ recommendedAction: RecommendedAction.REDUCE_FREQUENCY }),
  });
  await using peer = startLink([hub.address], { config: { heartbeatIntervalMs: 100 } });
  await peer.until("at the hub's interval", (s) => s.heartbeat.intervalMs === 1000, 10_000);
  assert.equal(peer.status().heartbeat.lastAction, "REDUCE_FREQUENCY");
  assert.equal(peer.status().state, "Connected");
});
