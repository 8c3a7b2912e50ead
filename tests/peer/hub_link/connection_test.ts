/**
 * The hub link's connection, against real hubs behind TCP proxies that stop
 * passing bytes (a hung hub), close (a crash) or refuse connections (a hub
 * that is down): priority, failover after missed heartbeats and its
 * wrap-around, fail-back, isolation and recovery, rate limits, the network
 * token, and a hub that lost the session.
 */
import assert from "node:assert/strict";
import { startTestHub, tempDataDir, type TestHub } from "../../hub/hub_fixture.ts";
import { startTcpProxy, type TcpProxy } from "../../fixtures/tcp_proxy.ts";
import { connectedTo, startLink } from "./link_fixture.ts";

/** `count` hubs sharing one store (one network), each behind a proxy. */
async function network(
  count: number,
  dataDir: string,
  options: Parameters<typeof startTestHub>[0] = {},
) {
  const hubs: TestHub[] = [];
  const proxies: TcpProxy[] = [];
  for (let i = 0; i < count; i++) {
    const hub = await startTestHub({
      hubId: `n${i}`,
      dataDir,
      heartbeatIntervalSeconds: 1,
      ...options,
    });
    hubs.push(hub);
    proxies.push(startTcpProxy(hub.address));
  }
  return {
    hubs,
    proxies,
    async [Symbol.asyncDispose]() {
      for (const proxy of proxies) await proxy[Symbol.asyncDispose]();
      for (const hub of hubs) await hub.close();
    },
  };
}

Deno.test("a peer connects to the first hub that answers, wherever it stands, and fails back to n0 once it proved steady", async () => {
  await using dir = await tempDataDir();
  await using net = await network(3, dir.path);
  const [p0, p1, p2] = net.proxies as [TcpProxy, TcpProxy, TcpProxy];
  p0.stop();
  await using peer = startLink([p0.address, p1.address, p2.address]);
  await peer.until("connected to n1", (s) => connectedTo(s, p1.address));
  assert.equal(peer.status().hubs[0]!.state, "failed");
  assert.match(peer.status().hubs[0]!.lastError ?? "", /Connecting to hub|UNAVAILABLE|refused/i);
  assert.equal(peer.status().session?.centralNodeId, "n1");
  await peer.until("the replica is synced", (s) => s.replica.checkpoint !== null);

  p0.start();
  await peer.until("failed back to n0", (s) => connectedTo(s, p0.address));
  const failover = peer.status().recentFailovers.at(-1);
  assert.equal(failover?.from, p1.address);
  assert.equal(failover?.to, p0.address);
  assert.match(failover?.reason ?? "", /fail-back/);
  // Make-before-break: n1 was told the peer left, after n0 had it.
  await peer.until("n1 has no session left", () => net.hubs[1]!.sessions.activeCount() === 0);
  assert.equal(net.hubs[0]!.sessions.activeCount(), 1);
});

Deno.test("a hung hub is left after missed heartbeats, n0 to n1 to n2 and around from n2 to n0", async () => {
  await using dir = await tempDataDir();
  await using net = await network(3, dir.path);
  const [p0, p1, p2] = net.proxies as [TcpProxy, TcpProxy, TcpProxy];
  await using peer = startLink([p0.address, p1.address, p2.address], {
    config: { failbackIntervalMs: 600_000 },
    // No keepalive ping within the test: the heartbeats' deadlines alone must find a hung hub
    // (a keepalive that finds it first is the connection-lost path, tested on its own).
    keepaliveMs: 600_000,
  });
  await peer.until("connected to n0", (s) => connectedTo(s, p0.address));

  p0.freeze(); // sockets stay open; nothing is answered
  await peer.until("failed over to n1", (s) => connectedTo(s, p1.address));
  let status = peer.status();
  assert.ok(status.heartbeat.totalMissed >= 2, `missed ${status.heartbeat.totalMissed}`);
  assert.match(status.recentFailovers.at(-1)!.reason, /2 heartbeats missed in a row/);
  assert.equal(status.hubs[0]!.state, "failed");

  p1.freeze();
  await peer.until("failed over to n2", (s) => connectedTo(s, p2.address));

  p0.thaw();
  p2.freeze();
  await peer.until("around to n0", (s) => connectedTo(s, p0.address));
  status = peer.status();
  assert.deepEqual(status.recentFailovers.map((f) => [f.from, f.to]), [
    [p0.address, p1.address],
    [p1.address, p2.address],
    [p2.address, p0.address],
  ]);
  assert.equal(status.failovers, 3);
  p1.thaw();
  p2.thaw();
});

Deno.test("a peer whose hubs are all gone is isolated, keeps its replica, and reconnects when one is back", async () => {
  await using dir = await tempDataDir();
  await using net = await network(2, dir.path);
  const [p0, p1] = net.proxies as [TcpProxy, TcpProxy];
  await using peer = startLink([p0.address, p1.address]);
  await peer.until(
    "synced from n0",
    (s) => connectedTo(s, p0.address) && s.replica.checkpoint !== null,
  );
  const synced = peer.status().replica.checkpoint!;

  p0.stop();
  p1.stop();
  await peer.until("isolated", (s) => s.state === "Isolated");
  const isolated = peer.status();
  assert.ok(isolated.isolatedSince !== null);
  assert.equal(isolated.session, null);
  assert.deepEqual(isolated.replica.checkpoint, synced, "the replica is kept");
  assert.equal((await peer.store.checkpoint())?.version, synced.version);
  assert.ok(isolated.hubs.every((hub) => hub.state === "failed"));

  p1.start();
  await peer.until("connected to n1 again", (s) => connectedTo(s, p1.address));
  assert.equal(peer.status().isolatedSince, null);
});

Deno.test("RESOURCE_EXHAUSTED from a hub's rate limit slows the peer down without a failover", async () => {
  await using hub = await startTestHub({ rateLimitPerSecond: 2, rateLimitBurst: 6 });
  await using peer = startLink([hub.address], { config: { heartbeatIntervalMs: 100 } });
  await peer.until("connected", (s) => s.state === "Connected");
  await peer.until(
    "the heartbeat interval doubled",
    (s) => s.heartbeat.intervalMs >= 200,
    10_000,
  );
  await peer.until("the replica synced despite the limit", (s) => s.replica.checkpoint !== null);
  const status = peer.status();
  assert.equal(status.failovers, 0);
  assert.equal(status.state, "Connected");
});

Deno.test("the network token is sent; a wrong one is refused and said so", async () => {
  await using hub = await startTestHub({ networkToken: "secret" });
  {
    await using peer = startLink([hub.address], { token: "secret" });
    await peer.until("connected with the token", (s) => s.state === "Connected");
  }
  await using wrong = startLink([hub.address], { token: "wrong" });
  await wrong.until("isolated", (s) => s.state === "Isolated");
  assert.match(wrong.status().hubs[0]!.lastError ?? "", /NETWORK_TOKEN/);
});

Deno.test("a hub that lost the session (it restarted) gets a new one; that is not a failover", async () => {
  await using dir = await tempDataDir();
  const first = await startTestHub({ hubId: "n0", dataDir: dir.path });
  await using proxy = startTcpProxy(first.address);
  await using peer = startLink([proxy.address]);
  await peer.until("connected", (s) => s.state === "Connected" && s.replica.checkpoint !== null);
  const before = peer.status().session!.sessionId;

  // A new hub process on the same store, reached at the same address: it knows no session.
  await using second = await startTestHub({ hubId: "n0", dataDir: dir.path });
  proxy.retarget(second.address);
  proxy.cut();
  await first.close();
  await peer.until(
    "a new session",
    (s) => s.state === "Connected" && s.session?.sessionId !== before,
  );
  assert.equal(peer.status().failovers, 0);
  assert.equal(second.sessions.activeCount(), 1);
});

Deno.test("the link keeps one channel per hub open across failovers, fail-backs and dropped connections, so no hub is sent a GOAWAY", async () => {
  await using dir = await tempDataDir();
  await using net = await network(2, dir.path);
  const [p0, p1] = net.proxies as [TcpProxy, TcpProxy];
  const opened = new Map<string, number>();
  let closed = 0;
  const peer = startLink([p0.address, p1.address], {
    onOpen: (client) => {
      opened.set(client.address, (opened.get(client.address) ?? 0) + 1);
      return {
        ...client,
        close: () => {
          closed++;
          client.close();
        },
      };
    },
  });
  try {
    await peer.until(
      "synced from n0",
      (s) => connectedTo(s, p0.address) && s.replica.checkpoint !== null,
    );
    p0.freeze();
    await peer.until("failed over to n1", (s) => connectedTo(s, p1.address));
    p0.thaw();
    await peer.until("failed back to n0", (s) => connectedTo(s, p0.address));
    const before = peer.status().subscription.since;
    p0.cut(); // the connection drops: the same channel connects again, and subscribes again
    await peer.until(
      "subscribed again to n0",
      (s) =>
        connectedTo(s, p0.address) && s.subscription.state === "subscribed" &&
        s.subscription.since > before,
    );
    assert.deepEqual([...opened.values()], [1, 1], "one channel per hub");
    assert.equal(closed, 0, "no channel closed while the link runs");
    await peer.link.close({ keepChannels: true });
    assert.equal(closed, 0, "a link process leaves its channels to its exit");
  } finally {
    await peer[Symbol.asyncDispose]();
  }
  assert.equal(closed, 0);
});

Deno.test("a hub whose connection is gone (stopped, crashed) is left at once, not after missed heartbeats", async () => {
  await using dir = await tempDataDir();
  await using net = await network(2, dir.path);
  const [p0, p1] = net.proxies as [TcpProxy, TcpProxy];
  // Beats every 10 s: two missed ones would take 20 s.
  await using peer = startLink([p0.address, p1.address], {
    config: {
      heartbeatIntervalMs: 10_000,
      heartbeatTimeoutMs: 10_000,
      failbackIntervalMs: 600_000,
    },
  });
  await peer.until(
    "connected to n0 and subscribed",
    (s) => connectedTo(s, p0.address) && s.subscription.state === "subscribed",
  );
  const stoppedAt = Date.now();
  p0.stop(); // connections closed, port refused
  await peer.until("on n1", (s) => connectedTo(s, p1.address), 8_000);
  assert.ok(Date.now() - stoppedAt < 8_000);
  const failover = peer.status().recentFailovers.at(-1)!;
  assert.match(failover.reason, /the connection to the hub was lost/);
  assert.equal(peer.status().heartbeat.totalMissed, 1, "one beat, sent at once, found it gone");
});
