/**
 * Peer benchmarks (issue 2): bulk advertise against a bare ioredis pipeline,
 * unchanged re-advertise, restart with 10,000 advertisements, and
 * `GET /api/registers/available` against a bare `Deno.serve`.
 *
 * @module
 */
import { Redis } from "ioredis";
import { startRedis } from "../fixtures/redis_server.ts";
import { freePort } from "../fixtures/ports.ts";
import { type ServiceProcess, startService } from "../fixtures/service_process.ts";
import { type Figure, median, report, time } from "./report.ts";

const N = 10_000;
const ROUNDS = 5;
const LEASE_MS = 375_000;

function rid(n: number): string {
  return n.toString(16).padStart(32, "0");
}

function bulkBody(first: number, count: number): string {
  const advertisements = Array.from({ length: count }, (_, i) => ({
    registerId: rid(first + i),
    isPublic: true,
    latestVersion: first + i,
    latestDocketVersion: 1,
  }));
  return JSON.stringify({ advertisements });
}

async function postBulk(peer: ServiceProcess, body: string): Promise<Record<string, number>> {
  const res = await fetch(`${peer.url}/api/registers/bulk-advertise`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  if (!res.ok) throw new Error(`bulk advertise answered ${res.status}: ${await res.text()}`);
  return await res.json();
}

/** Bulk advertise over HTTP vs a bare ioredis pipeline; then the same set unchanged. */
async function bulkFigures(redisUrl: string): Promise<Figure[]> {
  await using peer = await startService("peer/main.ts", {
    env: { REDIS_URL: redisUrl, LOG_LEVEL: "warning" },
  });
  const client = new Redis(redisUrl);
  try {
    // Warm both paths once.
    await postBulk(peer, bulkBody(10_000_000, N));
    const pipelineRound = async (first: number) => {
      const pipeline = client.pipeline();
      const stamp = new Date().toISOString();
      for (let i = 0; i < N; i++) {
        const registerId = rid(first + i);
        pipeline.set(
          `peer:advert:local:${registerId}`,
          JSON.stringify({
            registerId,
            syncState: "Active",
            latestVersion: first + i,
            latestDocketVersion: 1,
            isPublic: true,
            lastUpdated: stamp,
          }),
          "PX",
          LEASE_MS,
        );
      }
      await pipeline.exec();
    };
    await pipelineRound(20_000_000);

    const bare: number[] = [];
    const ours: number[] = [];
    const unchanged: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      bare.push(await time(() => pipelineRound(30_000_000 + round * N)));
      const body = bulkBody(40_000_000 + round * N, N);
      let counts: Record<string, number> = {};
      ours.push(await time(async () => counts = await postBulk(peer, body)));
      if (counts.added !== N) throw new Error(`expected ${N} added, got ${JSON.stringify(counts)}`);
      unchanged.push(await time(async () => counts = await postBulk(peer, body)));
      if (counts.unchanged !== N) {
        throw new Error(`expected ${N} unchanged: ${JSON.stringify(counts)}`);
      }
    }
    const bareRate = N / (median(bare) / 1000);
    const ourRate = N / (median(ours) / 1000);
    return [
      report({
        name: "bulk advertise 10,000 new over HTTP with Redis",
        value: `${Math.round(ourRate)} adverts/s (${
          median(ours).toFixed(0)
        } ms); bare ioredis pipeline ${Math.round(bareRate)}/s (${
          median(bare).toFixed(0)
        } ms); ratio ${(ourRate / bareRate).toFixed(2)}`,
        target: "ratio >= 0.5",
        met: ourRate >= bareRate / 2,
      }),
      report({
        name: "the same 10,000 again, unchanged",
        value: `${median(unchanged).toFixed(0)} ms = ${
          (median(unchanged) / median(ours)).toFixed(2)
        } of the first`,
        target: "<= 0.33 of the first",
        met: median(unchanged) <= median(ours) / 3,
      }),
    ];
  } finally {
    client.disconnect();
  }
}

/** From process start to serving 10,000 advertisements loaded from Redis. */
async function restartFigure(redisUrl: string): Promise<Figure> {
  const port = freePort();
  const env = { REDIS_URL: redisUrl, LOG_LEVEL: "warning", PORT: String(port) };
  {
    await using peer = await startService("peer/main.ts", { env });
    await postBulk(peer, bulkBody(0, N));
    await peer.stop("SIGKILL");
  }
  const runs: number[] = [];
  for (let round = 0; round < 3; round++) {
    const started = performance.now();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "peer/main.ts"],
      env: { ...env, NO_COLOR: "1" },
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      while (true) {
        try {
          const res = await fetch(`http://127.0.0.1:${port}/api/registers/available`);
          const list = await res.json();
          if (Array.isArray(list) && list.length >= N) break;
        } catch { /* not up yet */ }
        await new Promise((r) => setTimeout(r, 2));
      }
      runs.push(performance.now() - started);
    } finally {
      child.kill("SIGKILL");
      await child.status;
    }
  }
  return report({
    name: "restart: process start to serving 10,000 advertisements from Redis",
    value: `${median(runs).toFixed(0)} ms (median of ${runs.length})`,
    target: "< 1000 ms",
    met: median(runs) < 1000,
  });
}

async function load(url: string, requests: number, concurrency: number): Promise<number> {
  let left = requests;
  const worker = async () => {
    while (left-- > 0) {
      const res = await fetch(url);
      await res.arrayBuffer();
    }
  };
  const ms = await time(() => Promise.all(Array.from({ length: concurrency }, worker)));
  return requests / (ms / 1000);
}

/** `GET /api/registers/available` with 1,000 advertisements vs a bare server returning the same bytes. */
async function availableFigure(redisUrl: string): Promise<Figure> {
  const dir = await Deno.makeTempDir({ prefix: "bench-" });
  try {
    await using peer = await startService("peer/main.ts", {
      env: { REDIS_URL: redisUrl, LOG_LEVEL: "warning" },
    });
    const body = bulkBody(50_000_000, 1000);
    await fetch(`${peer.url}/api/registers/bulk-advertise`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: body.replace("{", '{"fullSync":true,'),
    }).then((r) => r.body?.cancel());
    const bytes = new Uint8Array(
      await (await fetch(`${peer.url}/api/registers/available`)).arrayBuffer(),
    );
    await Deno.writeFile(`${dir}/body.json`, bytes);
    await using bare = await startService("tests/bench/bare_server.ts", {
      env: { BODY_FILE: `${dir}/body.json` },
    });
    const requests = 5000;
    const concurrency = 16;
    await load(`${bare.url}/`, 500, concurrency);
    await load(`${peer.url}/api/registers/available`, 500, concurrency);
    const bareRates: number[] = [];
    const ourRates: number[] = [];
    for (let round = 0; round < 3; round++) {
      bareRates.push(await load(`${bare.url}/`, requests, concurrency));
      ourRates.push(await load(`${peer.url}/api/registers/available`, requests, concurrency));
    }
    const ratio = median(ourRates) / median(bareRates);
    return report({
      name: `GET /api/registers/available with 1,000 advertisements (${bytes.length} bytes)`,
      value: `${Math.round(median(ourRates))} req/s; bare Deno.serve ${
        Math.round(median(bareRates))
      } req/s; ratio ${ratio.toFixed(2)}`,
      target: "ratio >= 0.5",
      met: ratio >= 0.5,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs the peer benchmarks; returns their figures. */
export async function peerBenchmarks(): Promise<Figure[]> {
  console.log("Peer benchmarks (a fresh redis-server on loopback)");
  const figures: Figure[] = [];
  {
    await using redis = await startRedis();
    figures.push(...await bulkFigures(redis.url));
  }
  {
    await using redis = await startRedis();
    figures.push(await restartFigure(redis.url));
  }
  {
    await using redis = await startRedis();
    figures.push(await availableFigure(redis.url));
  }
  return figures;
}
