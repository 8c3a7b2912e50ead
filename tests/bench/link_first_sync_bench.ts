/**
 * A peer's first connection to a hub holding 10,000 blueprints of 1 KiB
 * (a hub process over a register filled before it starts): the replica
 * complete, verified (every entry checked, the digest compared with the
 * hub's) and persisted, against a bare FullSync client in the same run.
 *
 * - **Ours**: a fresh peer process (empty `DATA_DIR`; for Redis, a flushed
 *   server) with `HUB_NODES`, once with the embedded SQLite store and once
 *   with Redis. The figure is the peer's own: `lastResult.durationMs` of its
 *   first (full) sync in `GET /api/sync/checkpoint`, from the sync's start
 *   (the session open and subscribed) to the replacement committed with its
 *   checkpoint. The wall time from spawning the peer to its checkpoint at the
 *   hub's version (process start, the link process's start, connection, sync;
 *   polled every 20 ms) is printed for information.
 * - **Baseline**: the FullSync client of the hub benchmarks
 *   (`hub_sync_probe.ts`: one channel, the contract's own decoder, each
 *   entry received and dropped) in a fresh process of its own, as the peer's
 *   link process is fresh: its first whole read of the register (its channel
 *   connects at that call). A second read in the same process, warm, is
 *   printed for information.
 *
 * One untimed FullSync first fills the hub's cache of encoded entries; then
 * {@link ROUNDS} rounds, each a baseline, a SQLite peer and a Redis peer in
 * turn, so that all three see the same load of the machine. Medians.
 *
 * @module
 */
import { startRedis } from "../fixtures/redis_server.ts";
import { populatedDataDir } from "./hub_grpc_bench.ts";
import { type LinkHub, spawnLinkHub, spawnLinkPeer } from "./link_services.ts";
import { checkpoint, connectionStatus, pollUntil } from "./peer_link_api.ts";
import { spawnReadProbe } from "./probe_process.ts";
import { type Figure, median, report } from "./report.ts";

const BLUEPRINTS = 10_000;
const DOCUMENT_BYTES = 1024;
const ROUNDS = 5;
const TARGET_RATIO = 2;

/** A peer's first sync. */
interface PeerSync {
  /** The peer's `lastResult.durationMs`. */
  syncMs: number;
  /** Spawning the peer → its checkpoint at the hub's version, seen over REST. */
  wallMs: number;
  /** The session's `connectedAt` → the sync's end (`lastResult.at`), ms resolution. */
  connectedToCompleteMs: number;
}

/** The bare client's reads. */
interface BareSync {
  /** Its first read, in a fresh process. */
  coldMs: number;
  /** Its second read. */
  warmMs: number;
}

/** The hub's version, from its HTTP API. */
async function hubVersion(hub: LinkHub): Promise<number> {
  const response = await fetch(`${hub.service.url}/api/system-register`);
  const info = await response.json() as { currentVersion: number };
  return info.currentVersion;
}

/** A fresh peer's first sync from `hub` (see the module). */
async function peerFirstSync(
  hub: LinkHub,
  expected: { version: number; blueprints: number },
  env: Record<string, string>,
): Promise<PeerSync> {
  const { version } = expected;
  await using peer = await spawnLinkPeer({ hubs: [hub.address], env });
  const done = await pollUntil(async () => {
    const current = await checkpoint(peer.url);
    return current.currentVersion === version ? current : undefined;
  }, { what: `the peer's replica is at version ${version}`, intervalMs: 20, timeoutMs: 60_000 });
  const wallMs = performance.now() - peer.spawnedAt;
  const result = done.lastResult;
  if (
    result?.kind !== "full" || result.digest !== "equal" ||
    done.totalBlueprints !== expected.blueprints
  ) {
    throw new Error(`unexpected first sync: ${JSON.stringify(done)}`);
  }
  const status = await connectionStatus(peer.url);
  return {
    syncMs: result.durationMs,
    wallMs,
    connectedToCompleteMs: Date.parse(result.at) - Date.parse(status.connectedAt ?? result.at),
  };
}

/** The bare FullSync client in a fresh process: its first and second reads. */
async function bareFullSync(hub: LinkHub, entries: number): Promise<BareSync> {
  await using probe = await spawnReadProbe({
    kind: "hub-full-sync",
    grpcPort: hub.grpcPort,
    entries,
  });
  const coldMs = await probe.read();
  const warmMs = await probe.read();
  return { coldMs, warmMs };
}

function list(values: number[]): string {
  return values.map((ms) => ms.toFixed(0)).join(", ");
}

function ratioFigure(store: string, ours: PeerSync[], bare: BareSync[]): Figure {
  const oursMs = median(ours.map((run) => run.syncMs));
  const bareMs = median(bare.map((run) => run.coldMs));
  const ratio = oursMs / bareMs;
  return report({
    name: `first connect of a fresh peer (${store}) to a hub holding ` +
      `${BLUEPRINTS.toLocaleString("en")} blueprints of 1 KiB: replica complete, verified and ` +
      `persisted (the peer's lastResult.durationMs)`,
    value: `${oursMs.toFixed(0)} ms median (${list(ours.map((run) => run.syncMs))}); ` +
      `bare FullSync client in a fresh process ${bareMs.toFixed(0)} ms median; ` +
      `ratio ${ratio.toFixed(2)}`,
    target: `<= ${TARGET_RATIO}× the bare FullSync client`,
    met: ratio <= TARGET_RATIO,
  });
}

/** Runs the first-sync benchmark; returns its figures. */
export async function firstSyncFigures(): Promise<Figure[]> {
  await using data = await populatedDataDir({ count: BLUEPRINTS, documentBytes: DOCUMENT_BYTES });
  await using redis = await startRedis();
  await using hub = await spawnLinkHub({ hubId: "n0", dataDir: data.path });
  // Genesis is one more active entry: the replica holds as many blueprints as the register entries.
  const expected = { version: await hubVersion(hub), blueprints: data.entries };
  await bareFullSync(hub, data.entries); // fills the hub's cache of encoded entries
  const bare: BareSync[] = [];
  const sqlite: PeerSync[] = [];
  const onRedis: PeerSync[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    bare.push(await bareFullSync(hub, data.entries));
    sqlite.push(await peerFirstSync(hub, expected, {}));
    await redis.command("FLUSHALL");
    onRedis.push(await peerFirstSync(hub, expected, { REDIS_URL: redis.url }));
  }
  console.log(
    `  bare FullSync: first read ${list(bare.map((run) => run.coldMs))} ms, second ${
      list(bare.map((run) => run.warmMs))
    } ms; peer on SQLite: sync ${list(sqlite.map((run) => run.syncMs))} ms, connected → ` +
      `complete ${list(sqlite.map((run) => run.connectedToCompleteMs))} ms; peer on Redis: sync ${
        list(onRedis.map((run) => run.syncMs))
      } ms, connected → complete ${list(onRedis.map((run) => run.connectedToCompleteMs))} ms`,
  );
  const wall = (runs: PeerSync[]) => median(runs.map((run) => run.wallMs)).toFixed(0);
  return [
    ratioFigure("embedded SQLite", sqlite, bare),
    ratioFigure("Redis", onRedis, bare),
    report({
      name: `fresh peer process start → replica at the hub's version ` +
        `(${BLUEPRINTS.toLocaleString("en")} blueprints of 1 KiB, seen over REST)`,
      value: `SQLite ${wall(sqlite)} ms, Redis ${wall(onRedis)} ms (medians of ${ROUNDS}); ` +
        `bare FullSync, warm second read: ${
          median(bare.map((run) => run.warmMs)).toFixed(0)
        } ms median`,
      target: "information",
      met: undefined,
    }),
  ];
}
