/**
 * What telemetry costs on the hot paths (issue 18: at most 5%): each path
 * measured on two processes of the same service side by side, one with
 * telemetry off (no `OTEL_DENO`; `/metrics` still counts, as it always does)
 * and one with it on (`OTEL_DENO=true`, spans and metrics exported over OTLP
 * to a sink in this process every second, and `/metrics` scraped every
 * second as Prometheus would), their rounds in turn, each side first every
 * other round, so both see the same load of the machine. Medians.
 *
 * - bulk advertise of 10,000 new registers (peer on Redis);
 * - `GET /api/registers/available` with 1,000 advertisements (req/s, 16 at a time),
 *   beside a bare `Deno.serve` of the same bytes off and on: Deno's own span and metrics of
 *   every request served cost some 50 µs a request (a quarter of a bare server's rate at
 *   6,000 req/s), and the target judges what this code adds beyond them;
 * - a hub's FullSync of 10,000 blueprints of 1 KiB (a fresh probe process per side);
 * - a hub's push to 500 subscribers (publication → every delivery, p50), beside a third hub
 *   with telemetry on but traces sampled off (`OTEL_TRACES_SAMPLER=always_off`): with
 *   OpenTelemetry on, the runtime's own work on the hub's HTTP/2 streams costs the push some
 *   tenths of a millisecond, and the target judges what this code's spans add beyond it.
 *
 * @module
 */
import { startRedis } from "../fixtures/redis_server.ts";
import { freePort } from "../fixtures/ports.ts";
import { tempDir } from "../fixtures/wait.ts";
import { type ServiceProcess, startService } from "../fixtures/service_process.ts";
import { fanoutInTurn, type FanoutProbe } from "./fanout.ts";
import { populatedDataDir, spawnBenchHub } from "./hub_grpc_bench.ts";
import { spawnFanoutProbe, spawnReadProbe } from "./probe_process.ts";
import { type Figure, median, percentile, report, time } from "./report.ts";

const TARGET_OVERHEAD = 0.05;
const ADVERTISEMENTS = 10_000;
const BULK_ROUNDS = 20;
const AVAILABLE_ROUNDS = 7;
const AVAILABLE_REQUESTS = 6000;
const CONCURRENCY = 16;
const BLUEPRINTS = 10_000;
const DOCUMENT_BYTES = 1024;
const READ_ROUNDS = 15;
const SUBSCRIBERS = 500;
const CHANNELS = 10;
const PUBLICATIONS = 200;
const PUSH_WARM_UPS = 40;

/** An OTLP endpoint that takes everything and keeps nothing; its env sends a service's telemetry there. */
function startOtlpSink(): AsyncDisposable & { env: Record<string, string> } {
  const port = freePort();
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, async (request) => {
    await request.arrayBuffer();
    return new Response(null, { status: 200 });
  });
  return {
    env: {
      OTEL_DENO: "true",
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_METRIC_EXPORT_INTERVAL: "1000",
      OTEL_SERVICE_NAME: "bench",
    },
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

/** Scrapes `url` every second until disposed, as Prometheus would. */
function scrapeEverySecond(url: string): Disposable {
  const timer = setInterval(() => {
    fetch(url).then((r) => r.arrayBuffer()).catch(() => {});
  }, 1000);
  return { [Symbol.dispose]: () => clearInterval(timer) };
}

function rid(n: number): string {
  return n.toString(16).padStart(32, "0");
}

function bulkBody(first: number, count: number, fullSync = false): string {
  const advertisements = Array.from({ length: count }, (_, i) => ({
    registerId: rid(first + i),
    isPublic: true,
    latestVersion: first + i,
    latestDocketVersion: 1,
  }));
  return JSON.stringify(fullSync ? { fullSync: true, advertisements } : { advertisements });
}

async function postBulk(peer: ServiceProcess, body: string): Promise<void> {
  const response = await fetch(`${peer.url}/api/registers/bulk-advertise`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  if (!response.ok) throw new Error(`bulk advertise answered ${response.status}`);
  await response.arrayBuffer();
}

async function load(url: string): Promise<number> {
  let left = AVAILABLE_REQUESTS;
  const worker = async () => {
    while (left-- > 0) await (await fetch(url)).arrayBuffer();
  };
  const ms = await time(() => Promise.all(Array.from({ length: CONCURRENCY }, worker)));
  return AVAILABLE_REQUESTS / (ms / 1000);
}

/** The overhead figure: `on` against `off`, where a higher figure is worse when `lowerIsBetter`. */
function overheadFigure(
  name: string,
  sides: { off: number; on: number; unit: string; lowerIsBetter: boolean },
): Figure {
  const overhead = sides.lowerIsBetter ? sides.on / sides.off - 1 : sides.off / sides.on - 1;
  return report({
    name: `telemetry on vs off: ${name}`,
    value: `off ${sides.off.toFixed(1)} ${sides.unit}, on ${sides.on.toFixed(1)} ${sides.unit}; ` +
      `overhead ${(overhead * 100).toFixed(1)}%`,
    target: `<= ${TARGET_OVERHEAD * 100}%`,
    met: overhead <= TARGET_OVERHEAD,
  });
}

async function peerFigures(sinkEnv: Record<string, string>): Promise<Figure[]> {
  // One Redis, a database each: neither side gets a server of its own that may run faster.
  await using redis = await startRedis();
  await using off = await startService("peer/main.ts", {
    env: { REDIS_URL: `${redis.url}/1`, LOG_LEVEL: "warning" },
  });
  await using on = await startService("peer/main.ts", {
    env: { REDIS_URL: `${redis.url}/2`, LOG_LEVEL: "warning", ...sinkEnv },
  });
  using _scrapeOff = scrapeEverySecond(`${off.url}/metrics`);
  using _scrapeOn = scrapeEverySecond(`${on.url}/metrics`);
  const bulk = { off: [] as number[], on: [] as number[] };
  for (let round = -1; round < BULK_ROUNDS; round++) {
    const body = bulkBody(1_000_000 + (round + 1) * ADVERTISEMENTS, ADVERTISEMENTS);
    // Each side first every other round: neither always runs after the other.
    const [offMs, onMs] = await inTurn(round, [
      () => time(() => postBulk(off, body)),
      () => time(() => postBulk(on, body)),
    ]);
    if (round >= 0) { // round -1 warms both up
      bulk.off.push(offMs);
      bulk.on.push(onMs);
    }
  }
  const listed = bulkBody(50_000_000, 1000, true);
  await postBulk(off, listed);
  await postBulk(on, listed);
  // The same bytes from a bare Deno.serve, off and on: what Deno's own instrumentation costs.
  await using dir = await tempDir("bench-telemetry-");
  await Deno.writeFile(
    `${dir.path}/body.json`,
    new Uint8Array(await (await fetch(`${off.url}/api/registers/available`)).arrayBuffer()),
  );
  const bareEnv = { BODY_FILE: `${dir.path}/body.json` };
  await using bareOff = await startService("tests/bench/bare_server.ts", { env: bareEnv });
  await using bareOn = await startService("tests/bench/bare_server.ts", {
    env: { ...bareEnv, ...sinkEnv },
  });
  const urls = {
    off: `${off.url}/api/registers/available`,
    on: `${on.url}/api/registers/available`,
    bareOff: `${bareOff.url}/`,
    bareOn: `${bareOn.url}/`,
  };
  const rates = {
    off: [] as number[],
    on: [] as number[],
    bareOff: [] as number[],
    bareOn: [] as number[],
  };
  for (const url of Object.values(urls)) await load(url);
  for (let round = 0; round < AVAILABLE_ROUNDS; round++) {
    const sides = ["off", "on", "bareOff", "bareOn"] as const;
    for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
      rates[side].push(await load(urls[side]));
    }
  }
  return [
    overheadFigure(`bulk advertise of ${ADVERTISEMENTS.toLocaleString("en")} new (Redis)`, {
      off: median(bulk.off),
      on: median(bulk.on),
      unit: "ms",
      lowerIsBetter: true,
    }),
    availableFigure({
      off: median(rates.off),
      on: median(rates.on),
      bareOff: median(rates.bareOff),
      bareOn: median(rates.bareOn),
    }),
  ];
}

/**
 * The available list's figure. Deno's own span and metrics of every request served
 * (`OTEL_DENO`) cost each request the same time whatever serves it; measured on a bare
 * `Deno.serve` of the same bytes, that time is taken from what telemetry adds to the peer, and
 * the target judges the rest: what this code adds (its spans, metrics, `/metrics` and exports).
 */
function availableFigure(
  rates: { off: number; on: number; bareOff: number; bareOn: number },
): Figure {
  const perRequest = (rate: number) => 1_000_000 / rate; // µs of the machine per request
  const added = perRequest(rates.on) - perRequest(rates.off);
  const runtimeAdded = perRequest(rates.bareOn) - perRequest(rates.bareOff);
  const ours = (added - runtimeAdded) / perRequest(rates.off);
  const sign = (n: number) => `${n >= 0 ? "+" : ""}${n.toFixed(0)}`;
  return report({
    name: "telemetry on vs off: GET /api/registers/available with 1,000 advertisements",
    value:
      `off ${rates.off.toFixed(0)} req/s, on ${rates.on.toFixed(0)} req/s (${
        sign(added)
      } µs a request, ${((rates.off / rates.on - 1) * 100).toFixed(1)}%); a bare Deno.serve of ` +
      `the same bytes: off ${rates.bareOff.toFixed(0)}, on ${rates.bareOn.toFixed(0)} req/s (${
        sign(runtimeAdded)
      } µs a request: Deno's own span and metrics); this code's share ${(ours * 100).toFixed(1)}%`,
    target: `this code's share <= ${TARGET_OVERHEAD * 100}%`,
    met: ours <= TARGET_OVERHEAD,
  });
}

async function hubFigures(sinkEnv: Record<string, string>): Promise<Figure[]> {
  // A register each: publications of the same names on one shared register would not be new.
  await using dataOff = await populatedDataDir({
    count: BLUEPRINTS,
    documentBytes: DOCUMENT_BYTES,
  });
  await using dataOn = await populatedDataDir({ count: BLUEPRINTS, documentBytes: DOCUMENT_BYTES });
  const reads = { off: [] as number[], on: [] as number[] };
  await using off = await spawnBenchHub(dataOff.path);
  await using on = await spawnBenchHub(dataOn.path, { env: sinkEnv });
  using _scrapeOff = scrapeEverySecond(off.publishUrl!.replace(/\/api\/.*$/, "/metrics"));
  using _scrapeOn = scrapeEverySecond(on.publishUrl!.replace(/\/api\/.*$/, "/metrics"));
  {
    await using readOff = await spawnReadProbe({
      kind: "hub-full-sync",
      grpcPort: off.grpcPort,
      entries: dataOff.entries,
    });
    await using readOn = await spawnReadProbe({
      kind: "hub-full-sync",
      grpcPort: on.grpcPort,
      entries: dataOn.entries,
    });
    await readOff.read();
    await readOn.read();
    for (let round = 0; round < READ_ROUNDS; round++) {
      const [offMs, onMs] = await inTurn(round, [() => readOff.read(), () => readOn.read()]);
      reads.off.push(offMs);
      reads.on.push(onMs);
    }
  }
  const fanout = (hub: typeof off) =>
    spawnFanoutProbe({
      kind: "hub-push",
      grpcPort: hub.grpcPort,
      publishUrl: hub.publishUrl!,
      subscribers: SUBSCRIBERS,
      channels: CHANNELS,
      documentBytes: DOCUMENT_BYTES,
    });
  // A third hub with telemetry on but no span recorded (traces sampled off): what the runtime
  // does with OpenTelemetry on, apart from this code's spans.
  await using dataUntraced = await populatedDataDir({
    count: BLUEPRINTS,
    documentBytes: DOCUMENT_BYTES,
  });
  await using untraced = await spawnBenchHub(dataUntraced.path, {
    env: { ...sinkEnv, OTEL_TRACES_SAMPLER: "always_off" },
  });
  await using pushOff = await fanout(off);
  await using pushOn = await fanout(on);
  await using pushUntraced = await fanout(untraced);
  // Half the publications in one order, half in the other.
  const first = await fanoutInTurn([pushOff, pushOn, pushUntraced], {
    publications: PUBLICATIONS / 2,
    warmUps: PUSH_WARM_UPS,
  });
  const later = await fanoutInTurn(
    [renumbered(pushUntraced), renumbered(pushOn), renumbered(pushOff)],
    { publications: PUBLICATIONS / 2, warmUps: 0 },
  );
  const p50 = (a: number) =>
    percentile([...first[a]!.latenciesMs, ...later[2 - a]!.latenciesMs], 50);
  return [
    overheadFigure(
      `a hub's FullSync of ${BLUEPRINTS.toLocaleString("en")} blueprints of 1 KiB`,
      { off: median(reads.off), on: median(reads.on), unit: "ms", lowerIsBetter: true },
    ),
    pushFigure({ off: p50(0), on: p50(1), untraced: p50(2) }),
  ];
}

/**
 * The push's figure: its p50 off and on, and on with traces sampled off; the target judges what
 * this code's spans add (on against untraced), the rest being the runtime's with OpenTelemetry on.
 */
function pushFigure(p50: { off: number; on: number; untraced: number }): Figure {
  const overhead = p50.on / p50.off - 1;
  const spans = (p50.on - p50.untraced) / p50.off;
  return report({
    name: `telemetry on vs off: a hub's push to ${SUBSCRIBERS} subscribers, p50`,
    value:
      `off ${p50.off.toFixed(2)} ms, on ${p50.on.toFixed(2)} ms (${
        (overhead * 100).toFixed(1)
      }%); on with traces sampled off ${p50.untraced.toFixed(2)} ms (the runtime's part); ` +
      `this code's spans ${(spans * 100).toFixed(1)}%`,
    target: `this code's spans <= ${TARGET_OVERHEAD * 100}%`,
    met: spans <= TARGET_OVERHEAD,
  });
}

/** Runs the telemetry benchmarks; returns their figures. */
export async function telemetryBenchmarks(): Promise<Figure[]> {
  console.log("Telemetry benchmarks (each path with telemetry off and on, in turn)");
  await using sink = startOtlpSink();
  return [...await peerFigures(sink.env), ...await hubFigures(sink.env)];
}

/** Runs the two `sides` one after the other, the first first in even rounds; returns their results in order. */
async function inTurn<T>(
  round: number,
  sides: [() => Promise<T>, () => Promise<T>],
): Promise<[T, T]> {
  if (round % 2 === 0) {
    const a = await sides[0]();
    return [a, await sides[1]()];
  }
  const b = await sides[1]();
  return [await sides[0](), b];
}

/** `probe` publishing under other names (`n` + 1,000,000), so that a second run's publications are new. */
function renumbered(probe: FanoutProbe): FanoutProbe {
  return {
    subscribers: probe.subscribers,
    publishOnce: (n) => probe.publishOnce(n + 1_000_000),
    [Symbol.asyncDispose]: () => Promise.resolve(),
  };
}
