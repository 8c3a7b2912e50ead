/**
 * The peer's `GET /metrics` (issue 18): what the registry, the store and
 * gossip record, read through the app as Prometheus scrapes it, and the
 * state changes they log.
 */
import assert from "node:assert/strict";
import { configureSync, type LogRecord, resetSync } from "@logtape/logtape";
import { ServiceMetrics } from "../../shared/telemetry/mod.ts";
import { MemoryAdvertisementStore } from "../../peer/store/memory_store.ts";
import type { StoreBatch, WriteOutcome } from "../../peer/store/types.ts";
import type { HttpApp } from "../../shared/http/app.ts";
import {
  assertDocumented,
  parsePrometheusText,
  type PrometheusText,
  seriesKey,
} from "../fixtures/prometheus_text.ts";
import { createTestPeer, item, rid } from "./helpers.ts";
import { createTestNetwork } from "./gossip_helpers.ts";

const BULK = "/api/registers/bulk-advertise";

/** Every metric the peer's main process documents. */
const PEER_METRICS = [
  "sorcha_peer_advertisements",
  "sorcha_peer_registers_available",
  "sorcha_peer_advertise_requests_total",
  "sorcha_peer_bulk_advertise_duration_seconds",
  "sorcha_peer_store_healthy",
  "sorcha_peer_store_pending_writes",
  "sorcha_peer_gossip_rounds_total",
  "sorcha_peer_gossip_exchange_failures_total",
  "sorcha_peer_gossip_known_peers",
];

async function scrape(app: HttpApp): Promise<PrometheusText> {
  const res = await app.request("/metrics");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await res.text());
}

function value(text: PrometheusText, name: string, labels?: Record<string, string>) {
  return text.series.get(seriesKey(name, labels));
}

function remote(n: number) {
  return {
    registerId: rid(n),
    syncState: "Active" as const,
    latestVersion: 1,
    latestDocketVersion: 1,
  };
}

/** Log records of the `sorcha` loggers while it is in use (logging is reset after). */
function captureLogs(): { records: LogRecord[] } & Disposable {
  const records: LogRecord[] = [];
  configureSync({
    reset: true,
    sinks: { capture: (record) => records.push(record) },
    loggers: [
      { category: ["sorcha"], lowestLevel: "info", sinks: ["capture"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: [] },
    ],
  });
  return { records, [Symbol.dispose]: () => resetSync() };
}

function logged(records: LogRecord[], pattern: RegExp): LogRecord | undefined {
  return records.find((record) => pattern.test(record.rawMessage as string));
}

Deno.test("after advertising, /metrics counts the live advertisements, the public registers and the requests by kind", async () => {
  await using peer = await createTestPeer({ metrics: new ServiceMetrics("peer") });
  await peer.call("POST", BULK, {
    advertisements: [item(1), item(2), item(3, { isPublic: false })],
  });
  await peer.call("POST", BULK, { advertisements: [item(1), item(4)], fullSync: true });
  await peer.call("POST", `/api/registers/${rid(5)}/advertise`, { isPublic: true });
  await peer.call("DELETE", `/api/registers/${rid(4)}/advertise`);
  await peer.registry.replaceRemote("peer-b", [remote(5), remote(6)]);
  await peer.registry.storeSettled();

  const text = await scrape(peer.app);
  assert.equal(value(text, "sorcha_peer_advertisements", { scope: "local" }), 2);
  assert.equal(value(text, "sorcha_peer_advertisements", { scope: "remote" }), 2);
  assert.equal(value(text, "sorcha_peer_registers_available"), 3, "registers 1, 5 and 6");
  for (const kind of ["bulk", "full_sync", "single", "withdraw"]) {
    assert.equal(value(text, "sorcha_peer_advertise_requests_total", { kind }), 1, kind);
  }
  assert.equal(value(text, "sorcha_peer_bulk_advertise_duration_seconds_count"), 2);
  assert.equal(value(text, "sorcha_peer_store_healthy"), 1);
  assert.equal(value(text, "sorcha_peer_store_pending_writes"), 0);
  assert.equal(text.types.get("sorcha_peer_advertise_requests_total"), "counter");
  assert.equal(text.types.get("sorcha_peer_bulk_advertise_duration_seconds"), "histogram");
});

Deno.test("the available gauge counts what the available list shows, whoever advertises what, without building the list", async () => {
  await using peer = await createTestPeer({ metrics: new ServiceMetrics("peer") });
  // A fixed pseudo-random walk: local public and private registers, remote sets overlapping them
  // and each other, withdrawals, and leases ending.
  let seed = 7;
  const next = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
  for (let step = 0; step < 40; step++) {
    const n = 1 + next(12);
    const action = next(4);
    if (action === 0) {
      await peer.call("POST", `/api/registers/${rid(n)}/advertise`, { isPublic: next(2) === 0 });
    } else if (action === 1) {
      await peer.call("DELETE", `/api/registers/${rid(n)}/advertise`);
    } else if (action === 2) {
      const ids = Array.from({ length: next(5) }, () => 1 + next(12));
      await peer.registry.replaceRemote(`peer-${next(3)}`, [...new Set(ids)].map(remote));
    } else {
      peer.clock.advance(60_000 * next(4));
    }
    // The gauge first: read before the list is built, it is counted without it.
    const counted = value(await scrape(peer.app), "sorcha_peer_registers_available");
    assert.equal(counted, peer.registry.available().length, `step ${step}`);
  }
  // A local lease that ended under a live remote one: listed once, as remote.
  await peer.call("POST", `/api/registers/${rid(20)}/advertise`, { isPublic: true });
  peer.clock.advance(400_000);
  await peer.registry.replaceRemote("peer-late", [remote(20)]);
  const counted = value(await scrape(peer.app), "sorcha_peer_registers_available");
  assert.equal(counted, peer.registry.available().length);
  assert.ok(peer.registry.available().some((r) => r.registerId === rid(20) && !r.isLocal));
});

Deno.test("the parts of a full sync and an identical full sync sent again count as full syncs", async () => {
  await using peer = await createTestPeer({ metrics: new ServiceMetrics("peer") });
  const whole = { advertisements: [item(1), item(2)], fullSync: true };
  await peer.call("POST", BULK, whole);
  await peer.call("POST", BULK, whole);
  await peer.call("POST", BULK, { advertisements: [item(3)], syncId: "s1", part: 0 });
  await peer.call("POST", BULK, {
    advertisements: [item(4)],
    syncId: "s1",
    part: 1,
    lastPart: true,
  });
  const text = await scrape(peer.app);
  assert.equal(value(text, "sorcha_peer_advertise_requests_total", { kind: "full_sync" }), 4);
  assert.equal(value(text, "sorcha_peer_advertise_requests_total", { kind: "bulk" }), undefined);
  assert.equal(value(text, "sorcha_peer_advertisements", { scope: "local" }), 2);
});

Deno.test("while the store is unreachable /metrics shows it unhealthy, and healthy once it is back", async () => {
  await using peer = await createTestPeer({ metrics: new ServiceMetrics("peer") });
  peer.store.setReachable(false);
  await peer.call("POST", BULK, { advertisements: [item(1)] });
  let text = await scrape(peer.app);
  assert.equal(value(text, "sorcha_peer_store_healthy"), 0);
  assert.equal(value(text, "sorcha_peer_advertisements", { scope: "local" }), 1);
  peer.store.setReachable(true);
  await peer.registry.recoverStore();
  text = await scrape(peer.app);
  assert.equal(value(text, "sorcha_peer_store_healthy"), 1);
});

/** A memory store whose writes wait until {@link GatedStore.open} is called. */
class GatedStore extends MemoryAdvertisementStore {
  readonly #gate = Promise.withResolvers<void>();
  readonly #called = Promise.withResolvers<void>();
  /** Resolves once a write has been called. */
  readonly called = this.#called.promise;

  open(): void {
    this.#gate.resolve();
  }

  override async write(batch: StoreBatch): Promise<WriteOutcome> {
    this.#called.resolve();
    await this.#gate.promise;
    return await super.write(batch);
  }
}

Deno.test("a write the store has not answered yet shows as a pending write in /metrics and the sync state", async () => {
  const store = new GatedStore();
  await using peer = await createTestPeer({ store, metrics: new ServiceMetrics("peer") });
  const answer = peer.call("POST", BULK, { advertisements: [item(1), item(2)] });
  await store.called;
  assert.equal(value(await scrape(peer.app), "sorcha_peer_store_pending_writes"), 1);
  assert.equal(peer.registry.syncState().store.pendingWrites, 1);
  store.open();
  assert.equal((await answer).status, 200);
  assert.equal(value(await scrape(peer.app), "sorcha_peer_store_pending_writes"), 0);
});

Deno.test("gossip rounds, failed exchanges and known peers show in /metrics, and every peer metric is documented", async () => {
  await using network = createTestNetwork();
  await network.add("bravo");
  const alpha = await network.add("alpha", {
    seeds: ["bravo", "charlie"], // charlie never answers
    metrics: new ServiceMetrics("peer"),
  });
  await alpha.gossiper.round();
  const text = await scrape(alpha.app);
  assert.equal(value(text, "sorcha_peer_gossip_rounds_total"), 1);
  assert.equal(value(text, "sorcha_peer_gossip_exchange_failures_total"), 1);
  assert.equal(value(text, "sorcha_peer_gossip_known_peers"), 2);
  assertDocumented(text, PEER_METRICS);
});

Deno.test("a full sync that changes the local set is logged once with its counts; one that changes nothing is not", async () => {
  using logs = captureLogs();
  await using peer = await createTestPeer();
  const whole = { advertisements: [item(1), item(2)], fullSync: true };
  await peer.call("POST", BULK, whole);
  await peer.call("POST", BULK, whole);
  const repairs = logs.records.filter((r) => /full sync repaired/.test(r.rawMessage as string));
  assert.equal(repairs.length, 1);
  assert.equal(repairs[0]!.level, "info");
  assert.equal(repairs[0]!.properties.added, 2);
  assert.equal(repairs[0]!.properties.removed, 0);
});

Deno.test("a peer whose advertisements all expired is logged with its id once they are dropped", async () => {
  using logs = captureLogs();
  await using peer = await createTestPeer();
  await peer.registry.replaceRemote("peer-b", [remote(1), remote(2)]);
  peer.clock.advance(375_001);
  await peer.call("POST", `/api/registers/${rid(9)}/advertise`, { isPublic: true });
  const record = logged(logs.records, /expired/);
  assert.equal(record?.level, "info");
  assert.deepEqual(record?.properties, { peerId: "peer-b", count: 2 });
});

Deno.test("a peer forgotten by the operator is logged with its id", async () => {
  using logs = captureLogs();
  await using network = createTestNetwork();
  await network.add("bravo");
  const alpha = await network.add("alpha", { seeds: ["bravo"] });
  await alpha.gossiper.round();
  await alpha.gossiper.forget("bravo");
  const record = logged(logs.records, /^Forgot peer/);
  assert.equal(record?.level, "info");
  assert.equal(record?.properties.peerId, "bravo");
});
