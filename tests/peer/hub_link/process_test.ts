/**
 * The hub link as operators run it: real hub and peer processes on loopback.
 * The link is a child process of the peer, so whatever happens to it or to
 * its hub (a graceful restart, right after linking or after the session
 * idled; SIGKILL; SIGABRT), the peer keeps answering HTTP, serves its
 * replica, and catches up once linked again; a peer killed outright leaves
 * no link process behind; bad hub variables stop the peer with one line;
 * and a replica kept in Redis is served by a restarted peer before it links.
 */
import assert from "node:assert/strict";
import { startRedis } from "../../fixtures/redis_server.ts";
import { runToExit } from "../../fixtures/service_process.ts";
import { tempDir, until } from "../../fixtures/wait.ts";
import {
  checkpoint,
  connectionStatus,
  getJson,
  getOk,
  type HeartbeatStatus,
  hubVersion,
  listAll,
  type ListedEntry,
  publish,
} from "./link_http.ts";
import {
  alive,
  hubProcess,
  killIfLeft,
  PEER_ENTRY,
  peerProcess,
  type ServiceProcess,
  type Watch,
  withLogs,
} from "./process_fixture.ts";

/** Waits until `peer` is connected to `hub` and its replica is at the hub's version. */
async function untilSynced(peer: ServiceProcess, hub: ServiceProcess, timeoutMs = 30_000) {
  await until(`${peer.name} is connected to ${hub.name} and caught up`, async () => {
    const [status, replica, version] = await Promise.all([
      connectionStatus(peer),
      checkpoint(peer),
      hubVersion(hub),
    ]);
    return status.status === "Connected" && replica.currentVersion === version;
  }, timeoutMs);
}

/** What {@link pollHttp} saw: requests answered, and every failure. */
interface PollReport {
  answered: number;
  failures: string[];
}

/** Asks `peer` for `/healthz` and its advertisements back to back until stopped. */
function pollHttp(peer: ServiceProcess): { stop(): Promise<PollReport> } {
  const report: PollReport = { answered: 0, failures: [] };
  let stopped = false;
  const running = (async () => {
    while (!stopped) {
      for (const path of ["/healthz", "/api/registers/available"]) {
        try {
          const answer = await getJson(`${peer.url}${path}`, 2000);
          if (answer.status === 200) report.answered++;
          else report.failures.push(`${new Date().toISOString()} ${path}: ${answer.status}`);
        } catch (error) {
          report.failures.push(`${new Date().toISOString()} ${path}: ${error}`);
        }
      }
    }
  })();
  return {
    async stop() {
      stopped = true;
      await running;
      return report;
    },
  };
}

Deno.test(
  "a peer linked to a hub serves the hub's blueprints over REST and lists hubLink in /readyz",
  withLogs(async (watch) => {
    await using hubData = await tempDir("hub-link-hub-");
    await using peerData = await tempDir("hub-link-peer-");
    await using hub = watch(hubProcess({ hubId: "n0", dataDir: hubData.path }));
    await hub.start();
    await publish(hub, "before-link", { title: "Published before the peer linked" });
    await using peer = watch(
      peerProcess({ peerId: "rest", dataDir: peerData.path, hubs: [hub.grpcAddress] }),
    );
    await peer.start();
    await untilSynced(peer, hub);

    const after = await publish(hub, "after-link", { title: "Published while linked" });
    await until("the notified publication is replicated", async () => {
      return (await checkpoint(peer)).currentVersion === after.version;
    });
    const replica = await listAll(peer.url);
    assert.deepEqual(replica, await listAll(hub.url));
    assert.deepEqual(replica.map((e) => e.blueprintId), [
      "register-creation-v1",
      "before-link",
      "after-link",
    ]);
    const entry = await getOk<{ version: number; checksum: string; document: unknown }>(
      `${peer.url}/api/system-register/blueprints/after-link`,
    );
    assert.equal(entry.version, after.version);
    assert.equal(entry.checksum, after.checksum);
    assert.deepEqual(entry.document, { title: "Published while linked" });

    const ready = await getOk<{ ready: boolean; dependencies: Record<string, unknown> }>(
      `${peer.url}/readyz`,
    );
    assert.equal(ready.ready, true);
    assert.deepEqual(ready.dependencies.hubLink, {
      state: "ok",
      link: "Connected",
      hub: "n0",
      replicaVersion: after.version,
    });
  }),
);

/** A hub stopped with SIGTERM and started again while a peer is linked to it; see the tests. */
async function hubRestartWhileLinked(watch: Watch, options: { idle: boolean }): Promise<void> {
  await using hubData = await tempDir("hub-link-hub-");
  await using peerData = await tempDir("hub-link-peer-");
  await using hub = watch(hubProcess({ hubId: "n0", dataDir: hubData.path }));
  await hub.start();
  await using peer = watch(peerProcess({
    peerId: options.idle ? "restart-idle" : "restart-fresh",
    dataDir: peerData.path,
    hubs: [hub.grpcAddress],
    // Long beats (and pings): between two, the HTTP/2 session carries nothing.
    env: options.idle ? { HEARTBEAT_INTERVAL_SECONDS: "5", HEARTBEAT_TIMEOUT_SECONDS: "2" } : {},
  }));
  await peer.start();
  await untilSynced(peer, hub);
  if (options.idle) {
    await until("the session idled: a beat, then 2.5 s of nothing", async () => {
      const beats = await getOk<HeartbeatStatus>(`${peer.url}/api/heartbeat/status`);
      return beats.totalAcknowledged >= 1 && beats.lastHeartbeat !== null &&
        Date.now() - Date.parse(beats.lastHeartbeat) >= 2500;
    }, 30_000);
  }
  const before = await connectionStatus(peer);

  const polling = pollHttp(peer);
  let report: PollReport;
  try {
    assert.equal((await hub.stop("SIGTERM")).code, 0, "the hub stops gracefully");
    await hub.start();
    await until("the peer has a new session on the restarted hub", async () => {
      const status = await connectionStatus(peer);
      return status.status === "Connected" && status.sessionId !== before.sessionId;
    }, 30_000);
    const next = await publish(hub, "after-restart", { title: "Published after the restart" });
    await until("the replica caught up", async () => {
      return (await checkpoint(peer)).currentVersion === next.version;
    });
  } finally {
    report = await polling.stop();
  }
  assert.equal(peer.running, true, "the peer process is still up");
  const link = (await connectionStatus(peer)).linkProcess;
  if (link?.restarts) console.log(`the link process was started again (${link.lastExit})`);
  assert.deepEqual(report.failures, [], "every request was answered during the restart");
  assert.ok(report.answered > 0);
  assert.deepEqual(await listAll(peer.url), await listAll(hub.url));
}

Deno.test(
  "a peer keeps answering while its hub restarts gracefully right after linking, and catches up",
  withLogs((watch) => hubRestartWhileLinked(watch, { idle: false })),
);

Deno.test(
  "a peer keeps answering while its hub restarts gracefully after the link idled, and catches up",
  withLogs((watch) => hubRestartWhileLinked(watch, { idle: true })),
);

Deno.test(
  "a link process killed by SIGKILL or SIGABRT is started again and resumes incrementally, the peer serving its replica meanwhile",
  withLogs(async (watch) => {
    await using hubData = await tempDir("hub-link-hub-");
    await using peerData = await tempDir("hub-link-peer-");
    await using hub = watch(hubProcess({ hubId: "n0", dataDir: hubData.path }));
    await hub.start();
    await publish(hub, "first", { title: "First" });
    await using peer = watch(
      peerProcess({ peerId: "killed-link", dataDir: peerData.path, hubs: [hub.grpcAddress] }),
    );
    await peer.start();
    await untilSynced(peer, hub);

    for (const [index, signal] of (["SIGKILL", "SIGABRT"] as const).entries()) {
      const pid = (await connectionStatus(peer)).linkProcess?.pid;
      assert.ok(pid, "the link runs in a process of its own");
      const replica = await listAll(peer.url);
      Deno.kill(pid, signal);

      await until(`the link process killed by ${signal} is being started again`, async () => {
        return (await connectionStatus(peer)).linkProcess?.state === "restarting";
      }, 10_000);
      const down = await connectionStatus(peer);
      assert.equal(down.status, "Disconnected");
      assert.equal(down.linkProcess?.lastExit, `killed by ${signal}`);
      assert.deepEqual(await listAll(peer.url), replica, "the replica is served meanwhile");
      assert.equal((await getJson(`${peer.url}/healthz`)).status, 200);
      const next = await publish(hub, `after-${signal}`, { title: `Published after ${signal}` });

      await until("the link is back, connected and caught up", async () => {
        const [status, replica] = await Promise.all([connectionStatus(peer), checkpoint(peer)]);
        return status.status === "Connected" && status.linkProcess?.state === "running" &&
          replica.currentVersion === next.version;
      }, 30_000);
      const back = await connectionStatus(peer);
      assert.equal(back.linkProcess?.restarts, index + 1);
      assert.notEqual(back.linkProcess?.pid, pid);
      assert.equal(await alive(pid), false);
      const resumed = await checkpoint(peer);
      assert.equal(resumed.fullSyncs, 0, "no full sync after the restart");
      assert.equal(resumed.lastResult?.kind, "incremental");
      assert.equal(resumed.lastResult?.fromVersion, next.version - 1);
    }
    assert.equal(peer.running, true);
    assert.deepEqual(await listAll(peer.url), await listAll(hub.url));
  }),
);

Deno.test({
  name: "a link process started again is not reported Connected before it has connected",
  fn: withLogs(async (watch) => {
    await using hubData = await tempDir("hub-link-hub-");
    await using peerData = await tempDir("hub-link-peer-");
    await using hub = watch(hubProcess({ hubId: "n0", dataDir: hubData.path }));
    await hub.start();
    await using peer = watch(
      peerProcess({ peerId: "stale-link", dataDir: peerData.path, hubs: [hub.grpcAddress] }),
    );
    await peer.start();
    await untilSynced(peer, hub);
    const before = await connectionStatus(peer);
    const pid = before.linkProcess?.pid;
    assert.ok(pid);
    Deno.kill(pid, "SIGKILL");
    const stale: string[] = [];
    await until("the new link process has a session of its own", async () => {
      const status = await connectionStatus(peer);
      if (status.linkProcess?.pid !== pid && status.sessionId === before.sessionId) {
        stale.push(`${status.status} ${status.sessionId} ${JSON.stringify(status.linkProcess)}`);
      }
      return status.status === "Connected" && status.sessionId !== before.sessionId;
    }, 20_000);
    assert.deepEqual(stale, [], "statuses of the dead link process shown as the new one's");
  }),
});

Deno.test(
  "a peer killed by SIGKILL leaves no link process behind",
  withLogs(async (watch) => {
    await using hubData = await tempDir("hub-link-hub-");
    await using peerData = await tempDir("hub-link-peer-");
    await using hub = watch(hubProcess({ hubId: "n0", dataDir: hubData.path }));
    await hub.start();
    await using peer = watch(
      peerProcess({ peerId: "killed-peer", dataDir: peerData.path, hubs: [hub.grpcAddress] }),
    );
    await peer.start();
    await untilSynced(peer, hub);
    const pid = (await connectionStatus(peer)).linkProcess?.pid;
    assert.ok(pid);
    assert.equal(await alive(pid), true);
    try {
      assert.equal((await peer.stop("SIGKILL")).signal, "SIGKILL");
      await until("the link process saw its input close and ended", async () => {
        return !(await alive(pid));
      }, 5000);
      await until("the hub was told the peer left", async () => {
        return (await getOk<{ activePeers: number }>(`${hub.url}/api/peers`)).activePeers === 0;
      }, 5000);
    } finally {
      await killIfLeft(pid);
    }
  }),
);

Deno.test("a peer with a bad hub variable refuses to start with one line naming it", async () => {
  await using dataDir = await tempDir("hub-link-peer-");
  const cases: [Record<string, string>, RegExp][] = [
    [{ HUB_NODES: "nonsense" }, /^Invalid configuration: HUB_NODES="nonsense": /],
    [
      { HUB_NODES: "127.0.0.1:1,127.0.0.1:1" },
      /^Invalid configuration: HUB_NODES="127\.0\.0\.1:1,127\.0\.0\.1:1": .*listed twice/,
    ],
    [
      { HUB_NODES: "127.0.0.1:1", HEARTBEAT_INTERVAL_SECONDS: "soon" },
      /^Invalid configuration: HEARTBEAT_INTERVAL_SECONDS="soon": /,
    ],
  ];
  for (const [env, line] of cases) {
    const result = await runToExit(PEER_ENTRY, { DATA_DIR: dataDir.path, PORT: "0", ...env });
    assert.equal(result.code, 1, JSON.stringify(env));
    assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
    assert.match(result.stderr.trim(), line);
  }
  assert.deepEqual([...Deno.readDirSync(dataDir.path)], [], "nothing was created");
});

Deno.test({
  name: "a peer whose HUB_TLS_CA cannot be read refuses to start with one line naming it",
  async fn() {
    await using dataDir = await tempDir("hub-link-peer-");
    const result = await runToExit(PEER_ENTRY, {
      DATA_DIR: dataDir.path,
      PORT: "0",
      HUB_NODES: "127.0.0.1:1",
      HUB_TLS_CA: "/missing.pem",
    });
    assert.equal(result.code, 1);
    assert.match(
      result.stderr.trim(),
      /^Invalid configuration: HUB_TLS_CA="\/missing\.pem": cannot read the PEM file \([^\n]+\)$/,
    );
    assert.deepEqual([...Deno.readDirSync(dataDir.path)], [], "nothing was created");
  },
});

Deno.test(
  "a peer on Redis keeps its replica there and serves it after a restart before its link reconnects",
  withLogs(async (watch) => {
    await using redis = await startRedis();
    await using hubData = await tempDir("hub-link-hub-");
    await using firstData = await tempDir("hub-link-peer-");
    await using secondData = await tempDir("hub-link-peer-");
    await using hub = watch(hubProcess({ hubId: "n0", dataDir: hubData.path }));
    await hub.start();
    await publish(hub, "kept-a", { title: "A" });
    await publish(hub, "kept-b", { title: "B" });
    const options = { peerId: "on-redis", hubs: [hub.grpcAddress], redisUrl: redis.url };
    let replica: ListedEntry[];
    {
      await using peer = watch(peerProcess({ ...options, dataDir: firstData.path }));
      await peer.start();
      await untilSynced(peer, hub);
      replica = await listAll(peer.url);
      assert.deepEqual(replica, await listAll(hub.url));
      assert.equal((await hub.stop("SIGTERM")).code, 0);
      assert.equal((await peer.stop("SIGTERM")).code, 0);
    }
    assert.equal(await redis.command("EXISTS", "peer:replica:checkpoint"), 1);

    // Another DATA_DIR: whatever it serves comes from Redis.
    await using peer = watch(peerProcess({ ...options, dataDir: secondData.path }));
    await peer.start();
    const [served, status, stored] = await Promise.all([
      listAll(peer.url),
      connectionStatus(peer),
      checkpoint(peer),
    ]);
    assert.deepEqual(served, replica);
    assert.ok(
      ["Disconnected", "Connecting", "Isolated"].includes(status.status),
      `not linked yet: ${status.status}`,
    );
    assert.equal(stored.currentVersion, replica.at(-1)?.version);

    await hub.start();
    const next = await publish(hub, "after-restart", { title: "C" });
    await untilSynced(peer, hub);
    const resumed = await checkpoint(peer);
    assert.equal(resumed.currentVersion, next.version);
    assert.equal(resumed.fullSyncs, 0, "the replica from Redis is resumed, not replaced");
    assert.deepEqual(await listAll(peer.url), await listAll(hub.url));
  }),
);
