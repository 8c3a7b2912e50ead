/**
 * The hub link's telemetry, from real processes: a hub and a peer sending
 * OTLP to an in-test collector. The link process's spans (connect, full
 * sync) and metrics (connection state) arrive, and a publication on the hub
 * and its arrival at the peer (the push, the incremental sync it causes)
 * share one trace, and a sync triggered over the peer's API continues its
 * caller's trace.
 */
import assert from "node:assert/strict";
import { startOtlpCollector } from "../../fixtures/otlp_collector.ts";
import { tempDir } from "../../fixtures/wait.ts";
import { checkpoint, publish } from "./link_http.ts";
import { hubProcess, peerProcess, withLogs } from "./process_fixture.ts";

Deno.test(
  "a peer's hub link sends its spans and metrics over OTLP, and a publication's trace runs from the hub into the peer's sync",
  withLogs(async (watch) => {
    await using collector = startOtlpCollector();
    await using hubData = await tempDir("hub-link-otel-hub-");
    await using peerData = await tempDir("hub-link-otel-peer-");
    await using hub = watch(hubProcess({
      hubId: "n0",
      dataDir: hubData.path,
      env: { ...collector.env, OTEL_SERVICE_NAME: "hub" },
    }));
    await hub.start();
    await using peer = watch(peerProcess({
      peerId: "traced",
      dataDir: peerData.path,
      hubs: [hub.grpcAddress],
      // Heartbeats slow enough that the push, not a beat, tells the peer of the publication.
      env: { ...collector.env, OTEL_SERVICE_NAME: "peer", HEARTBEAT_INTERVAL_SECONDS: "5" },
    }));
    await peer.start();

    const connect = await collector.waitForSpan(
      "the peer connected to the hub",
      (s) => s.name === "peer.hub.connect" && s.attributes["sorcha.connect.outcome"] === "ok",
    );
    assert.equal(connect.service, "peer");
    assert.equal(connect.attributes["sorcha.hub.address"], hub.grpcAddress);
    assert.equal(connect.attributes["sorcha.hub.id"], "n0");
    const full = await collector.waitForSpan(
      "the peer's first, full sync",
      (s) => s.name === "peer.sync.full",
    );
    assert.equal(full.attributes["sorcha.sync.from_version"], 0);
    assert.equal(full.attributes["sorcha.sync.digest"], "equal");
    await collector.waitForPoint(
      "the link's connection state is Connected",
      (p) =>
        p.service === "peer" && p.metric === "sorcha_peer_hub_connection_state" &&
        p.attributes.state === "Connected" && p.value === 1,
    );

    const published = await publish(hub, "bp-traced", { title: "Followed from hub to peer" });
    const push = await collector.waitForSpan(
      "the peer received the notification",
      (s) => s.name === "peer.push.received" && s.attributes["sorcha.blueprint.id"] === "bp-traced",
    );
    assert.equal(push.attributes["sorcha.blueprint.version"], published.version);
    const sync = await collector.waitForSpan(
      "the peer's incremental sync to the publication",
      (s) =>
        s.name === "peer.sync.incremental" &&
        s.attributes["sorcha.sync.to_version"] === published.version,
    );
    assert.equal((await checkpoint(peer)).currentVersion, published.version);
    const publication = await collector.waitForSpan(
      "the hub's publication",
      (s) => s.name === "hub.publish" && s.traceId === push.traceId,
    );
    assert.equal(publication.service, "hub");
    assert.equal(sync.traceId, publication.traceId, "the sync joins the publication's trace");
    assert.equal(sync.parentSpanId, push.spanId, "the push caused the sync");
    await collector.waitForSpan(
      "the hub's side of the peer's incremental sync, in the same trace",
      (s) =>
        s.service === "hub" && s.name === "hub.sync.incremental" &&
        s.traceId === publication.traceId,
    );

    // A sync asked for over the peer's API continues the caller's trace in the link's process.
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    const triggered = await fetch(`${peer.url}/api/sync/trigger?full=true`, {
      method: "POST",
      headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` },
    });
    assert.equal(triggered.status, 200, await triggered.text());
    await collector.waitForSpan(
      "the triggered full sync, in the caller's trace",
      (s) => s.service === "peer" && s.name === "peer.sync.full" && s.traceId === traceId,
    );
  }),
);
