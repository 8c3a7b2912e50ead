/**
 * The hub link's timing, driven by a fake scheduler and a manual clock
 * (calls to hubs are real; waits and deadlines end when the test says):
 * the backoff of an isolated peer, and heartbeats at a fixed cadence whose
 * deadlines, not a closed socket, find a hung hub.
 */
import assert from "node:assert/strict";
import { HubLink } from "../../../peer/hub_link/link.ts";
import { openHubClient } from "../../../peer/hub_link/hub_client.ts";
import type { HubLinkStatus } from "../../../peer/hub_link/status.ts";
import { MemoryReplicaStore } from "../../../peer/replica/memory_store.ts";
import { ManualClock } from "../../../shared/clock.ts";
import { log } from "../../../shared/logging.ts";
import { FakeScheduler, type PendingSleep } from "../../fixtures/fake_scheduler.ts";
import { startTcpProxy } from "../../fixtures/tcp_proxy.ts";
import { until } from "../../fixtures/wait.ts";
import { startTestHub, tempDataDir } from "../../hub/hub_fixture.ts";
import { linkConfig } from "./link_fixture.ts";

const CONNECT_MS = 1500;
const INTERVAL_MS = 200;
const TIMEOUT_MS = 700;

function fakeLink(
  addresses: string[],
  options: { retryMaxMs?: number; connectTimeoutMs?: number } = {},
) {
  const clock = new ManualClock();
  const scheduler = new FakeScheduler(clock);
  const store = new MemoryReplicaStore();
  const link = new HubLink({
    peerId: "peer-timing",
    publicUrl: "http://127.0.0.1:8080",
    config: linkConfig(addresses, {
      connectTimeoutMs: options.connectTimeoutMs ?? CONNECT_MS,
      heartbeatIntervalMs: INTERVAL_MS,
      heartbeatTimeoutMs: TIMEOUT_MS,
      retryMaxMs: options.retryMaxMs ?? 5000,
      failbackIntervalMs: 3_600_000,
    }),
    store,
    openClient: (address) =>
      openHubClient(address, { keepaliveMs: 60_000, keepaliveTimeoutMs: 20_000 }),
    maxBlueprintBytes: 16 * 1024 * 1024,
    clock,
    scheduler,
    logger: log("test", "hub-link"),
    random: () => 0.5, // no jitter
  });
  return {
    link,
    clock,
    scheduler,
    /** Waits (on the link's own progress) for a pending sleep of `ms`. */
    sleepOf: async (ms: number): Promise<PendingSleep> => {
      let found: PendingSleep | undefined;
      await until(`a wait of ${ms} ms`, () => {
        found = scheduler.pending.find((sleep) => sleep.ms === ms);
        return Promise.resolve(found !== undefined);
      }, 10_000);
      return found!;
    },
    status: (): HubLinkStatus => link.status(),
    async [Symbol.asyncDispose]() {
      await link.close();
      await store.close();
    },
  };
}

Deno.test("an isolated peer tries again after 1 s, doubling up to HUB_RETRY_MAX_SECONDS", async () => {
  await using peer = fakeLink(["127.0.0.1:1", "127.0.0.1:2"], { retryMaxMs: 5000 });
  peer.link.start();
  const waited: number[] = [];
  for (const expected of [1000, 2000, 4000, 5000, 5000]) {
    const sleep = await peer.sleepOf(expected);
    assert.equal(peer.status().state, "Isolated");
    waited.push(sleep.ms);
    sleep.release();
  }
  assert.deepEqual(waited, [1000, 2000, 4000, 5000, 5000]);
  assert.ok(peer.status().hubs.every((hub) => hub.consecutiveFailures >= 5));
});

Deno.test("heartbeats go at a fixed cadence, and a hung hub is left after two deadlines pass", async () => {
  await using dir = await tempDataDir();
  await using n0 = await startTestHub({ hubId: "n0", dataDir: dir.path });
  await using n1 = await startTestHub({ hubId: "n1", dataDir: dir.path });
  await using proxy = startTcpProxy(n0.address);
  await using peer = fakeLink([proxy.address, n1.address]);
  peer.link.start();
  await until(
    "connected to n0",
    () => Promise.resolve(peer.status().session?.centralNodeId === "n0"),
  );

  // One beat answered: the misses stay at 0.
  (await peer.sleepOf(INTERVAL_MS)).release();
  await until(
    "a beat answered",
    () => Promise.resolve(peer.status().heartbeat.totalAcknowledged === 1),
  );

  proxy.freeze();
  // The next beat goes out on time and waits; the one after it goes out on time too.
  (await peer.sleepOf(INTERVAL_MS)).release();
  const first = await peer.sleepOf(TIMEOUT_MS);
  (await peer.sleepOf(INTERVAL_MS)).release();
  await until(
    "two beats unanswered",
    () => Promise.resolve(peer.status().heartbeat.totalSent === 3),
  );
  assert.equal(peer.status().heartbeat.totalMissed, 0, "no beat is missed before its deadline");
  assert.equal(peer.status().state, "Connected");

  first.release();
  await until("one miss", () => Promise.resolve(peer.status().heartbeat.consecutiveMisses === 1));
  assert.equal(peer.status().state, "HeartbeatTimeout");
  assert.equal(peer.status().session?.centralNodeId, "n0");

  (await peer.sleepOf(TIMEOUT_MS)).release();
  await until(
    "failed over to n1",
    () => Promise.resolve(peer.status().session?.centralNodeId === "n1"),
  );
  const status = peer.status();
  assert.equal(status.state, "Connected");
  assert.match(
    status.recentFailovers[0]!.reason,
    /2 heartbeats missed in a row .*no answer within 0.7 s/,
  );
  assert.equal(status.heartbeat.consecutiveMisses, 0);
  proxy.thaw();
});

Deno.test("behind three hung hubs, the first reachable one is connected within 30 s (SC-014)", async () => {
  await using hub = await startTestHub({ hubId: "n3" });
  await using hung0 = startTcpProxy(hub.address);
  await using hung1 = startTcpProxy(hub.address);
  await using hung2 = startTcpProxy(hub.address);
  for (const proxy of [hung0, hung1, hung2]) proxy.freeze();
  await using peer = fakeLink(
    [hung0.address, hung1.address, hung2.address, hub.address],
    { connectTimeoutMs: 5000 },
  );
  const began = peer.clock.now();
  peer.link.start();
  for (let attempt = 0; attempt < 3; attempt++) (await peer.sleepOf(5000)).release();
  await until(
    "connected to n3",
    () => Promise.resolve(peer.status().session?.centralNodeId === "n3"),
  );
  const elapsed = peer.clock.now() - began;
  assert.equal(elapsed, 15_000, "three connection deadlines of 5 s");
  assert.ok(elapsed <= 30_000);
  assert.deepEqual(peer.status().hubs.slice(0, 3).map((h) => h.state), [
    "failed",
    "failed",
    "failed",
  ]);
  assert.match(
    peer.status().hubs[0]!.lastError ?? "",
    /Connecting to hub .*: no answer within 5 s/,
  );
  for (const proxy of [hung0, hung1, hung2]) proxy.thaw();
});
