/**
 * Register benchmarks (issue 3): the startup push of 100 and of 10,000
 * registers into a peer on Redis, and the p99 latency of
 * `GET /api/registers/available` on the peer while reconciliations of 10,000
 * registers run, against its p99 without them; and (issue 16) 1,000,000
 * registers reconciled, timed, with the peak memory of both processes
 * (`large_sync_bench.ts`).
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { PeerClient } from "../../shared/client/peer_client.ts";
import { createSystemScheduler } from "../../shared/schedule.ts";
import { PeerSync } from "../../register/resync/peer_sync.ts";
import { openSqliteRegisterStore } from "../../register/store/sqlite_store.ts";
import type { Register } from "../../register/store/types.ts";
import { startRedis } from "../fixtures/redis_server.ts";
import { type ServiceProcess, startService } from "../fixtures/service_process.ts";
import { largeSyncFigures } from "./large_sync_bench.ts";
import { type Figure, median, report, time } from "./report.ts";

const ROUNDS = 5;

function register(n: number): Register {
  const at = new Date(Date.UTC(2026, 0, 1)).toISOString();
  return {
    id: n.toString(16).padStart(32, "0"),
    name: `register ${n}`,
    advertise: true,
    isPublic: n % 10 !== 0,
    latestVersion: n,
    latestDocketVersion: n % 7,
    createdAt: at,
    updatedAt: at,
  };
}

/** A SQLite register database under `dir` holding `count` advertised registers. */
async function fillStore(dir: string, count: number): Promise<string> {
  const path = `${dir}/registers.db`;
  const store = openSqliteRegisterStore(path);
  for (let n = 1; n <= count; n++) await store.insert(register(n));
  await store.close();
  return path;
}

async function emptyPeer(peer: ServiceProcess): Promise<void> {
  const res = await fetch(`${peer.url}/api/registers/bulk-advertise`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ advertisements: [], fullSync: true }),
  });
  await res.body?.cancel();
}

/** The startup push of `count` registers into an empty peer: read, send, written to Redis. */
async function startupPushFigure(
  peer: ServiceProcess,
  dir: string,
  count: number,
  targetMs: number,
): Promise<Figure> {
  const store = openSqliteRegisterStore(await fillStore(dir, count));
  const client = new PeerClient({ baseUrl: peer.url });
  const runs: number[] = [];
  try {
    for (let round = 0; round < ROUNDS + 1; round++) {
      await emptyPeer(peer);
      const sync = new PeerSync(store, client, {
        scheduler: createSystemScheduler({ timersOnly: true }),
        intervalMs: 3_600_000,
        retryMaxMs: 60_000,
        logger: getLogger(["bench"]),
      });
      const ms = await time(async () => {
        sync.start();
        await sync.settled();
      });
      const status = sync.status();
      await sync.close();
      if (status.lastResult?.added !== count) {
        throw new Error(`startup push: expected ${count} added, got ${JSON.stringify(status)}`);
      }
      if (round > 0) runs.push(ms); // the first round warms both sides
    }
  } finally {
    await store.close();
  }
  const value = median(runs);
  return report({
    name: `startup push of ${count.toLocaleString("en")} registers into a peer on Redis`,
    value: `${value.toFixed(1)} ms (median of ${runs.length})`,
    target: `< ${targetMs} ms`,
    met: value < targetMs,
  });
}

/** Latencies in ms of sequential `GET /api/registers/available`, for `durationMs`. */
async function latencies(url: string, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const res = await fetch(url);
    await res.arrayBuffer();
    out.push(performance.now() - started);
  }
  return out;
}

function p99(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)]!;
}

/**
 * p99 of `GET /api/registers/available` (10,000 advertisements) on its own,
 * then while a register process runs reconciliations of its 10,000
 * registers back to back (`POST /api/resync`).
 */
async function latencyFigures(redisUrl: string, dir: string): Promise<Figure[]> {
  await fillStore(dir, 10_000);
  await using peer = await startService("peer/main.ts", {
    env: { REDIS_URL: redisUrl, LOG_LEVEL: "warning" },
  });
  await using reg = await startService("register/main.ts", {
    env: { DATA_DIR: dir, PEER_URL: peer.url, LOG_LEVEL: "warning" },
  });
  const resync = async () => {
    const res = await fetch(`${reg.url}/api/resync`, { method: "POST" });
    if (!res.ok) throw new Error(`resync answered ${res.status}: ${await res.text()}`);
    return await res.json();
  };
  await resync();
  const url = `${peer.url}/api/registers/available`;
  await latencies(url, 50);
  const SAMPLES = 400;
  const figures: Figure[] = [];
  for (const variant of ["unchanged", "one register changed each time"] as const) {
    const alone = p99(await latencies(url, SAMPLES));
    let running = true;
    let syncs = 0;
    let version = 1_000_000;
    const background = (async () => {
      while (running) {
        if (variant !== "unchanged") {
          const res = await fetch(`${reg.url}/api/registers/${register(5).id}`, {
            method: "PATCH",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ latestVersion: version++ }),
          });
          await res.body?.cancel();
        }
        const status = await resync();
        if (variant === "unchanged" && status.lastResult.unchanged !== 10_000) {
          throw new Error(`expected 10,000 unchanged: ${JSON.stringify(status.lastResult)}`);
        }
        syncs++;
      }
    })();
    const during = p99(await latencies(url, SAMPLES));
    running = false;
    await background;
    const added = during - alone;
    // The target (SC-005) is for unchanged registers; the other variant,
    // where the peer must parse and compare every item, is reported for information.
    const targeted = variant === "unchanged";
    figures.push(report({
      name: `p99 of GET available (10,000 registers) during reconciliations, ${variant}`,
      value: `${during.toFixed(1)} ms during ${syncs} back-to-back syncs vs ${
        alone.toFixed(1)
      } ms without: +${added.toFixed(1)} ms`,
      target: targeted ? "+ <= 100 ms" : "none (information)",
      met: targeted ? added <= 100 : undefined,
    }));
  }
  return figures;
}

/** Runs the register benchmarks; returns their figures. */
export async function registerBenchmarks(): Promise<Figure[]> {
  console.log("\nRegister benchmarks (a peer on a fresh redis-server, SQLite register store)");
  const figures: Figure[] = [];
  const dir = await Deno.makeTempDir({ prefix: "register-bench-" });
  try {
    {
      await using redis = await startRedis();
      await using peer = await startService("peer/main.ts", {
        env: { REDIS_URL: redis.url, LOG_LEVEL: "warning" },
      });
      await Deno.mkdir(`${dir}/small`);
      await Deno.mkdir(`${dir}/large`);
      figures.push(await startupPushFigure(peer, `${dir}/small`, 100, 100));
      figures.push(await startupPushFigure(peer, `${dir}/large`, 10_000, 1000));
    }
    {
      await using redis = await startRedis();
      await Deno.mkdir(`${dir}/latency`);
      figures.push(...await latencyFigures(redis.url, `${dir}/latency`));
    }
    figures.push(...await largeSyncFigures());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  return figures;
}
