/**
 * Publish on the hub → visible in a peer's replica over REST: a hub process
 * (empty register, its default per-peer rate limit) and a peer process
 * linked to it (embedded SQLite replica). Each publication is a new
 * blueprint of 1 KiB, sent with `POST /api/system-register/blueprints`; then
 * the peer's `GET /api/system-register/blueprints/{id}` is polled (a request
 * every {@link POLL_MS} ms at most, each sent once the previous one is
 * answered) until it answers 200 with the published version. The latency
 * runs from sending the publication to that first 200: the hub's storing and
 * notifying, the link process's incremental sync (a call back to the hub,
 * every entry checked, the store written with its checkpoint) and the peer's
 * HTTP process reading its store.
 *
 * Publications start {@link PACE_MS} ms apart, so that the one sync call each
 * makes stays far below the hub's default per-peer rate limit (20 calls a
 * second, burst 40): the figure is not the limiter's. {@link WARM_UPS}
 * untimed publications come first (both processes compile the path as they
 * run it).
 *
 * Baseline, in the same run: the same publication's round trip on the hub's
 * own HTTP API, and a read of it there right after (POST + GET).
 *
 * @module
 */
import { tempDir } from "../fixtures/wait.ts";
import { blueprintObject } from "./hub_push_probe.ts";
import { type LinkHub, spawnLinkHub, spawnLinkPeer } from "./link_services.ts";
import { checkpoint, pollUntil } from "./peer_link_api.ts";
import { type Figure, percentile, report } from "./report.ts";

const PUBLICATIONS = 100;
const WARM_UPS = 10;
const DOCUMENT_BYTES = 1024;
const PACE_MS = 100;
/** The least time between two reads of the peer, in ms. */
const POLL_MS = 1;
const P50_TARGET_MS = 30;
const P99_TARGET_MS = 100;

/** One publication, timed. */
interface Visible {
  /** Sending the publication → the peer's first 200 with its version. */
  peerMs: number;
  /** Sending the publication → the hub's answer to it. */
  publishMs: number;
  /** Sending the publication → the hub's own GET of it answered (after its POST). */
  hubReadMs: number;
}

/** Publishes blueprint `id` on `hub`; resolves with its version. */
async function publish(hub: LinkHub, id: string, n: number): Promise<number> {
  const response = await fetch(hub.publishUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      blueprintId: id,
      document: blueprintObject(n, DOCUMENT_BYTES),
      publishedBy: "bench",
    }),
  });
  if (response.status !== 201) {
    throw new Error(`publishing ${id}: HTTP ${response.status}: ${await response.text()}`);
  }
  const body = await response.json() as { version: number };
  return body.version;
}

/** Whether `url` answers 200 with an entry at `version`. */
async function hasVersion(url: string, version: number): Promise<boolean> {
  const response = await fetch(url);
  if (response.status !== 200) {
    await response.body?.cancel();
    return false;
  }
  const entry = await response.json() as { version: number };
  return entry.version === version;
}

/** One publication and how long until it is visible (see the module). */
async function publishAndWatch(hub: LinkHub, peerUrl: string, n: number): Promise<Visible> {
  const id = `latency-${n}`;
  const began = performance.now();
  const version = await publish(hub, id, n);
  const publishMs = performance.now() - began;
  const onHub = `${hub.service.url}/api/system-register/blueprints/${id}`;
  if (!await hasVersion(onHub, version)) throw new Error(`the hub does not serve ${id} yet`);
  const hubReadMs = performance.now() - began;
  const onPeer = `${peerUrl}/api/system-register/blueprints/${id}`;
  await pollUntil(async () => (await hasVersion(onPeer, version)) || undefined, {
    what: `the peer serves ${id} at version ${version}`,
    intervalMs: POLL_MS,
    timeoutMs: 10_000,
  });
  return { peerMs: performance.now() - began, publishMs, hubReadMs };
}

function p(values: number[], at: number): string {
  return percentile(values, at).toFixed(1);
}

/** Runs the publication benchmark; returns its figures. */
export async function publishFigures(): Promise<Figure[]> {
  await using data = await tempDir("hub-link-bench-publish-");
  await using hub = await spawnLinkHub({ hubId: "n0", dataDir: data.path });
  await using peer = await spawnLinkPeer({ hubs: [hub.address] });
  const info = await (await fetch(`${hub.service.url}/api/system-register`)).json() as {
    currentVersion: number;
  };
  await pollUntil(async () => {
    const current = await checkpoint(peer.url);
    return current.currentVersion === info.currentVersion || undefined;
  }, { what: "the peer's replica is synced", timeoutMs: 30_000 });
  const timed: Visible[] = [];
  try {
    for (let n = 0; n < WARM_UPS + PUBLICATIONS; n++) {
      const began = performance.now();
      const visible = await publishAndWatch(hub, peer.url, n);
      if (n >= WARM_UPS) timed.push(visible);
      const rest = PACE_MS - (performance.now() - began);
      if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
    }
  } catch (error) {
    throw new Error(
      `publication benchmark: ${error instanceof Error ? error.message : error}\n` +
        `peer: ${peer.service.stderrTail()}`,
    );
  }
  const peerMs = timed.map((v) => v.peerMs);
  const hubReadMs = timed.map((v) => v.hubReadMs);
  const publishMs = timed.map((v) => v.publishMs);
  const p50 = percentile(peerMs, 50);
  const p99 = percentile(peerMs, 99);
  console.log(
    `  publish → peer REST 200: p50 ${p(peerMs, 50)}, p90 ${p(peerMs, 90)}, p99 ${
      p(peerMs, 99)
    }, max ${Math.max(...peerMs).toFixed(1)} ms; hub POST alone p50 ${p(publishMs, 50)}, p99 ${
      p(publishMs, 99)
    } ms`,
  );
  return [
    report({
      name: `publish on the hub (HTTP POST, 1 KiB) → visible in the peer's replica over REST ` +
        `(GET polled every ${POLL_MS} ms; SQLite replica; ${PUBLICATIONS} publications ` +
        `${PACE_MS} ms apart, hub rate limit at its default)`,
      value: `p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms; baseline, the hub's own ` +
        `POST + GET of it: p50 ${p(hubReadMs, 50)} ms, p99 ${p(hubReadMs, 99)} ms`,
      target: `p50 <= ${P50_TARGET_MS} ms, p99 <= ${P99_TARGET_MS} ms`,
      met: p50 <= P50_TARGET_MS && p99 <= P99_TARGET_MS,
    }),
  ];
}
