/**
 * 200 peer links on one hub with 1 s beats (1 s deadline, 2 misses): one
 * hub process (`HEARTBEAT_INTERVAL_SECONDS=1`, its default rate limit) and
 * the links as `HubLink`s in {@link WORKERS} processes of their own
 * (`link_fleet_worker.ts`; 200 peer processes would not fit a 2-core
 * machine), each link with its own peer id, in-memory replica and
 * connection. Once every link is Connected and synced, and after
 * {@link SETTLE_MS}, the run lasts {@link RUN_MS}: failovers summed over
 * all links (target: none), every beat's round trip as its link timed it
 * (p50, p99, max; beats failed or missed), and the CPU the hub process and
 * the links' processes used over the run (`/proc/<pid>/stat`), as a
 * percentage of one core.
 *
 * @module
 */
import { settlesWithin } from "../../shared/async.ts";
import { lines } from "../../shared/lines.ts";
import { tempDir } from "../fixtures/wait.ts";
import { spawnLinkHub } from "./link_services.ts";
import { cpuPercent, type CpuReading, readCpu } from "./process_cpu.ts";
import { type Figure, percentile, report } from "./report.ts";

const LINKS = 200;
const WORKERS = 2;
const INTERVAL_MS = 1000;
const TIMEOUT_MS = 1000;
const MAX_MISSED = 2;
const SETTLE_MS = 2000;
const RUN_MS = 30_000;
const WORKER = new URL("./link_fleet_worker.ts", import.meta.url).pathname;
const STOP_TIMEOUT_MS = 15_000;

/** What a fleet worker is asked to run. */
export interface FleetSpec {
  /** The hub's `host:port`. */
  hubAddress: string;
  /** Links in this worker. */
  links: number;
  /** The index of its first link among all (peer ids `bench-peer-<index>`). */
  firstIndex: number;
  /** Links in all workers (their starts are spread over one interval). */
  totalLinks: number;
  /** Time between beats, in ms. */
  intervalMs: number;
  /** A beat's deadline, in ms. */
  timeoutMs: number;
  /** Beats missed in a row before a failover. */
  maxMissed: number;
}

/** What a fleet worker measured over the run. */
export interface FleetReport {
  /** Its links. */
  links: number;
  /** Every acknowledged beat's round trip, in ms. */
  latenciesMs: number[];
  /** Beats that failed (deadline or error). */
  failedBeats: number;
  /** Failovers, summed over its links. */
  failovers: number;
  /** Beats the links counted as missed. */
  missed: number;
  /** Beats sent. */
  sent: number;
  /** Links Connected at the end. */
  connected: number;
  /** The highest `heartbeat.averageLatencyMs` among its links' statuses at the end. */
  worstAverageLatencyMs: number;
}

/** What a fleet worker answers. */
export type FleetReply = { connected: number } | { report: FleetReport } | { error: string };

/** A fleet worker process. */
interface FleetWorker extends AsyncDisposable {
  pid: number;
  send(message: { measure: true } | { report: true }): Promise<void>;
  receive(what: string): Promise<FleetReply>;
}

function spawnWorker(spec: FleetSpec): FleetWorker {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", WORKER],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const drained = (async () => {
    for await (const text of child.stderr.pipeThrough(new TextDecoderStream())) {
      stderr = (stderr + text).slice(-16_384);
    }
  })().catch(() => {});
  const writer = child.stdin.getWriter();
  const replies = lines(child.stdout);
  const send = (message: unknown) =>
    writer.write(new TextEncoder().encode(`${JSON.stringify(message)}\n`));
  void send(spec);
  return {
    pid: child.pid,
    send,
    async receive(what) {
      const next = await replies.next();
      if (next.done) {
        await settlesWithin(drained, 5000);
        throw new Error(`a fleet worker ended before ${what}: ${stderr.trim().slice(-2000)}`);
      }
      const reply = JSON.parse(next.value) as FleetReply;
      if ("error" in reply) {
        throw new Error(`a fleet worker, ${what}: ${reply.error}\n${stderr.trim().slice(-2000)}`);
      }
      return reply;
    },
    async [Symbol.asyncDispose]() {
      await writer.close().catch(() => {});
      if (!await settlesWithin(child.status, STOP_TIMEOUT_MS)) child.kill("SIGKILL");
      await child.status;
      await replies.return(undefined);
      await drained;
    },
  };
}

/** Asks every worker and collects what each answers. */
async function all(workers: FleetWorker[], what: string): Promise<FleetReply[]> {
  return await Promise.all(workers.map((worker) => worker.receive(what)));
}

/** Runs the fleet benchmark; returns its figures. */
export async function fleetFigures(): Promise<Figure[]> {
  await using data = await tempDir("hub-link-bench-fleet-");
  await using hub = await spawnLinkHub({
    hubId: "n0",
    dataDir: data.path,
    env: { HEARTBEAT_INTERVAL_SECONDS: `${INTERVAL_MS / 1000}` },
  });
  const workers: FleetWorker[] = [];
  try {
    const perWorker = Math.ceil(LINKS / WORKERS);
    for (let w = 0; w < WORKERS; w++) {
      workers.push(spawnWorker({
        hubAddress: hub.address,
        links: Math.min(perWorker, LINKS - w * perWorker),
        firstIndex: w * perWorker,
        totalLinks: LINKS,
        intervalMs: INTERVAL_MS,
        timeoutMs: TIMEOUT_MS,
        maxMissed: MAX_MISSED,
      }));
    }
    await all(workers, "its links were connected");
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const pids = [hub.service.pid, ...workers.map((worker) => worker.pid)];
    for (const worker of workers) await worker.send({ measure: true });
    const before: CpuReading[] = await Promise.all(pids.map(readCpu));
    await new Promise((resolve) => setTimeout(resolve, RUN_MS));
    const after: CpuReading[] = await Promise.all(pids.map(readCpu));
    for (const worker of workers) await worker.send({ report: true });
    const reports = (await all(workers, "its report")).map((reply) => {
      if (!("report" in reply)) throw new Error(`unexpected reply ${JSON.stringify(reply)}`);
      return reply.report;
    });
    const cpu = pids.map((_, i) => cpuPercent(before[i]!, after[i]!));
    return fleetReport(reports, { hub: cpu[0]!, links: cpu.slice(1) });
  } finally {
    await Promise.all(workers.map((worker) => worker[Symbol.asyncDispose]()));
  }
}

function fleetReport(reports: FleetReport[], cpu: { hub: number; links: number[] }): Figure[] {
  const sum = (pick: (r: FleetReport) => number) => reports.reduce((n, r) => n + pick(r), 0);
  const latencies = reports.flatMap((r) => r.latenciesMs);
  const failovers = sum((r) => r.failovers);
  const seconds = RUN_MS / 1000;
  const name = `${sum((r) => r.links)} peer links on one hub process (HubLinks in ${WORKERS} ` +
    `processes, a connection each), beats every ${INTERVAL_MS / 1000} s (` +
    `${TIMEOUT_MS / 1000} s deadline, ${MAX_MISSED} misses), over ${seconds} s`;
  const p = (at: number) => latencies.length ? percentile(latencies, at).toFixed(1) : "n/a";
  return [
    report({
      name: `${name}: failovers`,
      value: `${failovers} failovers; ${sum((r) => r.missed)} beats missed, ${
        sum((r) => r.failedBeats)
      } failed, of ${sum((r) => r.sent)} sent; ${
        sum((r) => r.connected)
      } links Connected at the end`,
      target: "no failover",
      met: failovers === 0,
    }),
    report({
      name: `${name}: heartbeat round trip and CPU`,
      value: `p99 ${p(99)} ms, p50 ${p(50)} ms, max ${
        latencies.length ? Math.max(...latencies).toFixed(1) : "n/a"
      } ms (${latencies.length} beats; worst link's average of its last 10: ${
        Math.max(...reports.map((r) => r.worstAverageLatencyMs)).toFixed(1)
      } ms); hub process CPU ${cpu.hub.toFixed(1)}% of one core; links' processes ${
        cpu.links.map((c) => `${c.toFixed(0)}%`).join(" + ")
      }`,
      target: "information",
      met: undefined,
    }),
  ];
}
