/**
 * The hub link's chaos test: for a minute, three hubs sharing one register
 * (one network) are killed and started again, stopped (SIGSTOP) and
 * continued, stopped gracefully and started again, and the two peers linked
 * to them (one on the embedded store, one on Redis) are restarted, at random
 * (a seeded schedule, printed), with publications flowing to whichever hubs
 * run. Once it settles, every peer's replica equals the hubs' active set:
 * nothing missing, nothing extra, every publication a hub confirmed there at
 * its latest version.
 *
 * `CHAOS_SEED` replays a schedule; `CHAOS_SECONDS` shortens the run while
 * debugging (the suite runs the full minute).
 */
import { seededRandom } from "../../fixtures/gossip_network.ts";
import assert from "node:assert/strict";
import { startRedis } from "../../fixtures/redis_server.ts";
import { tempDir, until } from "../../fixtures/wait.ts";
import { checkpoint, connectionStatus, getOk, hubVersion, listAll, publish } from "./link_http.ts";
import {
  childPids,
  type HubProcess,
  hubProcess,
  killIfLeft,
  logTails,
  peerProcess,
  type ServiceProcess,
} from "./process_fixture.ts";

/** How long the chaos lasts. */
const CHAOS_MS = 60_000;
/** How long the network may take to settle once the chaos ends. */
const SETTLE_TIMEOUT_MS = 60_000;
/** Blueprint ids publications pick from (so that blueprints get new versions too). */
const BLUEPRINT_IDS = 24;

/** Timings of both peers (each beats at its own interval). */
const FAST_LINK = {
  HEARTBEAT_TIMEOUT_SECONDS: "0.5",
  HEARTBEAT_MAX_MISSED: "2",
  HUB_RETRY_MAX_SECONDS: "1",
  HUB_CONNECT_TIMEOUT_SECONDS: "1",
};

/** The sessions a hub holds. */
async function hubSessions(hub: ServiceProcess): Promise<string[]> {
  const answer = await getOk<{ peers: { sessionId: string }[] }>(`${hub.url}/api/peers`, 3000);
  return answer.peers.map((peer) => peer.sessionId);
}

/** The schedule's pauses: resolves after `ms`, or at once when `signal` aborts. */
function delay(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}

type EventKind = "kill-hub" | "pause-hub" | "term-hub" | "restart-peer";

/** What the publications achieved: per blueprint, the last version a hub confirmed. */
interface Publications {
  confirmed: Map<string, { version: number; checksum: string }>;
  /** Blueprints with a publication whose outcome is unknown (it may have been stored). */
  uncertain: Set<string>;
  failed: number;
}

Deno.test("after a minute of hub kills, stops and restarts and peer restarts with publications flowing, every peer's replica equals the hubs' active set", async () => {
  const seed = Number(Deno.env.get("CHAOS_SEED") ?? Math.floor(Math.random() * 2 ** 31));
  const chaosMs = Number(Deno.env.get("CHAOS_SECONDS") ?? CHAOS_MS / 1000) * 1000;
  console.log(`chaos seed ${seed} (CHAOS_SEED=${seed} replays it), ${chaosMs / 1000} s`);
  const random = seededRandom(seed);
  const randomPublications = seededRandom(seed ^ 0x5eed);
  const between = (min: number, max: number) => min + random() * (max - min);
  const pick = <T>(items: readonly T[], from = random): T =>
    items[Math.floor(from() * items.length)]!;

  await using redis = await startRedis();
  await using hubData = await tempDir("chaos-hubs-");
  await using dataA = await tempDir("chaos-peer-a-");
  await using dataB = await tempDir("chaos-peer-b-");
  const hubEnv = { STORE_POLL_SECONDS: "0.1" };
  await using n0 = hubProcess({ hubId: "n0", dataDir: hubData.path, env: hubEnv });
  await using n1 = hubProcess({ hubId: "n1", dataDir: hubData.path, env: hubEnv });
  await using n2 = hubProcess({ hubId: "n2", dataDir: hubData.path, env: hubEnv });
  const hubs: HubProcess[] = [n0, n1, n2];
  const addresses = hubs.map((hub) => hub.grpcAddress);
  await using peerA = peerProcess({
    peerId: "chaos-a",
    dataDir: dataA.path,
    hubs: addresses,
    env: { ...FAST_LINK, HEARTBEAT_INTERVAL_SECONDS: "0.25" },
  });
  await using peerB = peerProcess({
    peerId: "chaos-b",
    dataDir: dataB.path,
    hubs: addresses,
    redisUrl: redis.url,
    env: { ...FAST_LINK, HEARTBEAT_INTERVAL_SECONDS: "0.5" },
  });
  const peers = [peerA, peerB];
  const all: ServiceProcess[] = [...hubs, ...peers];

  let started = Date.now();
  const events: string[] = [];
  const note = (line: string) =>
    events.push(`${((Date.now() - started) / 1000).toFixed(1)} s ${line}`);
  const busy = new Set<ServiceProcess>();
  const cycles = new Set<Promise<void>>();
  const cycleErrors: unknown[] = [];
  const leftLinks: number[] = [];
  const settle = new AbortController();
  const publications: Publications = { confirmed: new Map(), uncertain: new Set(), failed: 0 };
  const serving = (hub: HubProcess) => hub.running && !hub.paused && !busy.has(hub);

  /** Takes `target` out of service, runs `cycle`, and puts it back. */
  const disrupt = (target: ServiceProcess, cycle: () => Promise<void>) => {
    busy.add(target);
    const running: Promise<void> = cycle()
      .catch((error) => {
        cycleErrors.push(error);
      })
      .finally(() => {
        busy.delete(target);
        cycles.delete(running);
      });
    cycles.add(running);
  };

  const apply = (kind: EventKind, signal?: "SIGTERM" | "SIGKILL", peer?: ServiceProcess) => {
    if (kind === "restart-peer") {
      const target = peer ?? pick(peers);
      if (busy.has(target)) return false;
      const how = signal ?? pick(["SIGTERM", "SIGKILL"] as const);
      note(`${how} ${target.name}, then start it again`);
      disrupt(target, async () => {
        const links = await childPids(target.pid!);
        await target.stop(how);
        if (how === "SIGKILL") leftLinks.push(...links);
        await target.start();
      });
      return true;
    }
    const candidates = hubs.filter(serving);
    // At least one hub keeps running, so publications can succeed.
    if (candidates.length < 2) return false;
    const hub = pick(candidates);
    const downMs = kind === "pause-hub" ? between(1000, 4000) : between(300, 2000);
    note(`${kind} ${hub.name} for ${Math.round(downMs)} ms`);
    disrupt(hub, async () => {
      if (kind === "pause-hub") hub.signal("SIGSTOP");
      else await hub.stop(kind === "kill-hub" ? "SIGKILL" : "SIGTERM");
      await delay(downMs, settle.signal);
      if (kind === "pause-hub") hub.signal("SIGCONT");
      else await hub.start();
    });
    return true;
  };

  const schedule = async () => {
    // Every kind of event at least once (each peer restarted once, one by each signal), then at random.
    const signals = pick([["SIGTERM", "SIGKILL"], ["SIGKILL", "SIGTERM"]] as const);
    const first: [EventKind, "SIGTERM" | "SIGKILL" | undefined, ServiceProcess | undefined][] = [
      ["kill-hub", undefined, undefined],
      ["pause-hub", undefined, undefined],
      ["term-hub", undefined, undefined],
      ["restart-peer", signals[0], peerA],
      ["restart-peer", signals[1], peerB],
    ];
    for (let i = first.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [first[i], first[j]] = [first[j]!, first[i]!];
    }
    const weighted: EventKind[] = [
      "kill-hub",
      "kill-hub",
      "kill-hub",
      "pause-hub",
      "pause-hub",
      "pause-hub",
      "term-hub",
      "term-hub",
      "restart-peer",
    ];
    while (true) {
      await delay(between(1000, 3000), settle.signal);
      if (settle.signal.aborted || Date.now() - started >= chaosMs) return;
      const [kind, signal, peer] = first[0] ?? [pick(weighted), undefined, undefined];
      if (apply(kind, signal, peer)) first.shift();
      else note(`${kind} skipped: its target is busy, or it would leave no hub running`);
    }
  };

  const publishing = async () => {
    let sequence = 0;
    while (!settle.signal.aborted) {
      const targets = hubs.filter(serving);
      if (targets.length > 0) {
        const hub = pick(targets, randomPublications);
        const blueprintId = `chaos-${Math.floor(randomPublications() * BLUEPRINT_IDS)}`;
        sequence++;
        try {
          const done = await publish(hub, blueprintId, { sequence, hub: hub.name }, 2000);
          const last = publications.confirmed.get(blueprintId);
          if (!last || done.version > last.version) {
            publications.confirmed.set(blueprintId, {
              version: done.version,
              checksum: done.checksum,
            });
          }
        } catch {
          // Refused, or lost with its hub: it may still have been stored.
          publications.failed++;
          publications.uncertain.add(blueprintId);
        }
      }
      await delay(200, settle.signal);
    }
  };

  const report = async () => {
    const lines = [`chaos seed ${seed}; events:`, ...events.map((line) => `  ${line}`)];
    for (const peer of peers) {
      try {
        const [status, replica] = await Promise.all([connectionStatus(peer), checkpoint(peer)]);
        const linkRestarts = peer.log().match(/hub link [^\n]*; starting it again/g)?.length ?? 0;
        lines.push(
          `${peer.name}: link process restarts over the run ${linkRestarts}; now ${status.status} on ${status.connectedCentralNodeId}, failovers ${status.failovers}, link ${
            JSON.stringify(status.linkProcess)
          }, replica at ${replica.currentVersion} (${replica.status}, last ${
            JSON.stringify(replica.lastResult)
          }, error ${replica.lastError})`,
        );
      } catch (error) {
        lines.push(`${peer.name}: cannot read its status: ${error}`);
      }
    }
    return lines.join("\n");
  };

  let loops: Promise<void>[] = [];
  try {
    await n0.start();
    await Promise.all([n1.start(), n2.start()]);
    await Promise.all(peers.map((peer) => peer.start()));
    started = Date.now();
    loops = [schedule(), publishing()];
    await delay(chaosMs, settle.signal);
    settle.abort();
    await Promise.all(loops);
    while (cycles.size > 0) await Promise.all(cycles);
    assert.deepEqual(cycleErrors, [], "every kill, stop and restart went through");

    // Settled: every process runs; no more publications.
    for (const process of all) {
      if (process.paused) process.signal("SIGCONT");
      if (!process.running) await process.start();
    }
    let version = 0;
    await until(
      "every peer is connected, its hub knows its session, its replica at the hubs' version",
      async () => {
        const versions = await Promise.all(hubs.map(hubVersion));
        version = versions[0]!;
        if (versions.some((v) => v !== version)) return false;
        for (const peer of peers) {
          const [status, replica] = await Promise.all([connectionStatus(peer), checkpoint(peer)]);
          if (status.status !== "Connected" || status.linkProcess?.state !== "running") {
            return false;
          }
          if (replica.currentVersion !== version) return false;
          const hub = hubs.find((hub) => hub.name === status.connectedCentralNodeId);
          if (!hub || !(await hubSessions(hub)).includes(status.sessionId ?? "")) return false;
        }
        return true;
      },
      SETTLE_TIMEOUT_MS,
    );

    const active = await listAll(n0.url);
    for (const hub of [n1, n2]) {
      assert.deepEqual(await listAll(hub.url), active, `${hub.name}'s active set`);
    }
    for (const peer of peers) {
      assert.deepEqual(await listAll(peer.url), active, `${peer.name}'s replica is the active set`);
    }
    const byId = new Map(active.map((entry) => [entry.blueprintId, entry]));
    for (const [blueprintId, confirmed] of publications.confirmed) {
      const entry = byId.get(blueprintId);
      assert.ok(
        entry,
        `${blueprintId} was published (version ${confirmed.version}) and is missing`,
      );
      if (entry.version === confirmed.version) {
        assert.equal(entry.checksum, confirmed.checksum, `${blueprintId}'s checksum`);
      } else {
        // Only a later publication whose answer was lost may have replaced it.
        assert.ok(
          entry.version > confirmed.version && publications.uncertain.has(blueprintId),
          `${blueprintId} is at version ${entry.version}, confirmed at ${confirmed.version}`,
        );
      }
    }
    for (const pid of leftLinks) {
      assert.equal(await killIfLeft(pid), true, `the link process ${pid} of a killed peer ended`);
    }
    console.log(await report());
    console.log(
      `${publications.confirmed.size} blueprints confirmed, ${publications.failed} publications failed; ` +
        `register at version ${version}, ${active.length} active blueprints`,
    );
  } catch (error) {
    settle.abort();
    await Promise.all(loops);
    while (cycles.size > 0) await Promise.all(cycles);
    console.error(`${await report()}\n${logTails(all, 80)}`);
    throw error;
  } finally {
    settle.abort();
    for (const pid of leftLinks) await killIfLeft(pid);
  }
});
