/**
 * Hub benchmarks, against etcd where it has an equivalent: FullSync of
 * 10,000 blueprints of 1 KiB to one client against a paginated range read of
 * 10,000 values of 1 KiB from etcd; one publication delivered to 500
 * subscribed streams against one put seen by 500 etcd watchers; and the
 * integrity validation of 10,000 entries (ours alone). Without `etcd`
 * installed, our figures are printed alone.
 *
 * The hub runs as a separate process (`hub/main.ts`), as etcd does. The
 * clients of each side (FullSync's client and etcd's range reader, our
 * subscribers and etcd's watchers) run in a process of their own
 * (`probe_process.ts`), as peers do; the reads are timed in turn, and the
 * publications alternate with etcd's puts (both sets of streams stay open
 * throughout), so that both sides see the same load of a shared machine. The push
 * fan-out runs on a second hub process over the same register (Deno 2.9.6's
 * HTTP/2 server has been seen to abort when many clients close at once: one
 * phase's end cannot spoil the next). `HUB_BENCH_IN_PROCESS=1`
 * also measures a hub started in this process (`startHub`, publishing
 * through `hub.publish` rather than HTTP), for information.
 *
 * @module
 */
import { openSqliteSystemRegisterStore, validateIntegrity } from "../../hub/system_register/mod.ts";
import {
  etcdAvailable,
  type EtcdHandle,
  etcdVersion,
  prepareEtcdWatchFanout,
  startEtcd,
} from "./etcd.ts";
import { fanoutInTurn, type FanoutResult } from "./fanout.ts";
import {
  type BenchHub,
  blueprintDocument,
  inProcessBenchHub,
  populatedDataDir,
  spawnBenchHub,
} from "./hub_grpc_bench.ts";
import { prepareHubPushFanout } from "./hub_push_probe.ts";
import { type RemoteRead, spawnFanoutProbe, spawnReadProbe } from "./probe_process.ts";
import { type Figure, median, percentile, report, time } from "./report.ts";

const BLUEPRINTS = 10_000;
const DOCUMENT_BYTES = 1024;
const PAGE_SIZE = 1000;
const SUBSCRIBERS = 500;
const CHANNELS = 10;
const PUBLICATIONS = 100;
/**
 * Publications before the timed ones, on both sides, so that both are timed
 * in their steady state, as a network's long-lived subscriptions are: the
 * hub and the subscribers' processes are JIT-compiled as they warm up, and
 * the hub's heap settles, the state of 500 new streams being promoted to
 * its old generation (young collections of 10–35 ms, then a full one, over
 * the first 30 or so publications; about 1 ms each afterwards).
 */
const PUSH_WARM_UPS = 40;
const INTEGRITY_RUNS = 5;
/** Timed reads of the whole register, on both sides; the figure is their median. */
const READ_RUNS = 9;
/** Reads before the timed ones, on both sides (JIT warm-up, caches, the readers' heaps settling). */
const READ_WARM_UPS = 5;
const FULL_SYNC_TARGET_RATIO = 1.5;

/** Validation of 10,000 entries of 1 KiB read from an in-memory SQLite store, several times. */
async function integrityFigure(): Promise<Figure> {
  const store = openSqliteSystemRegisterStore(":memory:");
  try {
    for (let i = 0; i < BLUEPRINTS; i++) {
      await store.publish({
        blueprintId: `bench-blueprint-${i}`,
        document: blueprintDocument(i, DOCUMENT_BYTES),
        publishedAt: Date.now(),
        publishedBy: "bench",
        metadata: {},
        publicationTransactionId: `bench-publication-${i}`,
      });
    }
    const validate = async () => {
      const result = await validateIntegrity(store.entries());
      if (!result.ok || result.entries !== BLUEPRINTS) {
        throw new Error(`integrity validation failed: ${JSON.stringify(result)}`);
      }
    };
    await validate();
    const runs: number[] = [];
    for (let i = 0; i < INTEGRITY_RUNS; i++) runs.push(await time(validate));
    return report({
      name: `integrity validation of ${BLUEPRINTS.toLocaleString("en")} entries of 1 KiB ` +
        `(checksums and hash chain, read page by page from SQLite :memory:)`,
      value: `${median(runs).toFixed(0)} ms median, ${
        Math.max(...runs).toFixed(0)
      } ms worst (${runs.length} runs)`,
      target: "< 500 ms",
      met: median(runs) < 500,
    });
  } finally {
    await store.close();
  }
}

/** Timed reads of the whole register: their median and each of them, in ms. */
interface ReadFigures {
  medianMs: number;
  runsMs: number[];
}

function readFigures(runsMs: number[]): ReadFigures {
  return { medianMs: median(runsMs), runsMs };
}

function runs(figures: ReadFigures): string {
  return figures.runsMs.map((ms) => ms.toFixed(0)).join(", ");
}

interface EtcdFigures {
  version: string;
  range: ReadFigures & { pageSize: number };
  watch: FanoutResult;
}

interface HubFigures {
  /** How the hub ran: "separate process" or "in-process". */
  where: string;
  fullSync: ReadFigures & { entries: number };
  push: FanoutResult;
}

/**
 * Times `reads` in turn, {@link READ_WARM_UPS} rounds untimed then
 * {@link READ_RUNS} timed, so that each side's runs see the same load (the
 * machine may be shared). Returns each read's times, in ms.
 */
async function timeInTurn(reads: RemoteRead[]): Promise<number[][]> {
  for (let i = 0; i < READ_WARM_UPS; i++) for (const read of reads) await read.read();
  const runsMs = reads.map((): number[] => []);
  for (let i = 0; i < READ_RUNS; i++) {
    for (const [n, read] of reads.entries()) runsMs[n]!.push(await read.read());
  }
  return runsMs;
}

/** etcd beside our hub: its range reader (values stored) and the server for its watchers. */
interface EtcdSide {
  handle: EtcdHandle;
  range: RemoteRead;
}

/** What {@link measureHub} measured of our hub and, when it ran beside it, of etcd. */
interface Measured {
  ours: HubFigures;
  etcd?: { range: ReadFigures; watch: FanoutResult };
}

/**
 * FullSync of a register of {@link BLUEPRINTS} blueprints on a hub started by
 * `start` (over a data directory filled first), timed in turn with etcd's
 * range read of as many values when etcd runs; then, on a hub of its own over
 * the same register, the push fan-out, its publications in turn with etcd's
 * puts to as many watchers.
 */
async function measureHub(
  start: (dataDir: string) => Promise<BenchHub>,
  etcd: EtcdSide | undefined,
): Promise<Measured> {
  await using data = await populatedDataDir({ count: BLUEPRINTS, documentBytes: DOCUMENT_BYTES });
  let where: string;
  let runsMs: number[][];
  {
    await using hub = await start(data.path);
    where = hub.where;
    await using fullSync = await spawnReadProbe({
      kind: "hub-full-sync",
      grpcPort: hub.grpcPort,
      entries: data.entries,
    });
    runsMs = await timeInTurn(etcd ? [fullSync, etcd.range] : [fullSync]);
  }
  let fanouts: FanoutResult[];
  {
    await using hub = await start(data.path);
    // Each side's subscribers in a process of their own, as peers are (probe_process.ts), but
    // for an in-process hub, whose publications are calls in this process.
    const separate = hub.publishUrl !== undefined;
    await using ours = separate
      ? await spawnFanoutProbe({
        kind: "hub-push",
        grpcPort: hub.grpcPort,
        publishUrl: hub.publishUrl,
        subscribers: SUBSCRIBERS,
        channels: CHANNELS,
        documentBytes: DOCUMENT_BYTES,
      })
      : await prepareHubPushFanout(hub, {
        subscribers: SUBSCRIBERS,
        channels: CHANNELS,
        documentBytes: DOCUMENT_BYTES,
      });
    const watchers = { watchers: SUBSCRIBERS, connections: CHANNELS };
    await using theirs = etcd === undefined
      ? undefined
      : separate
      ? await spawnFanoutProbe({ kind: "etcd-watch", endpoint: etcd.handle.endpoint, ...watchers })
      : await prepareEtcdWatchFanout(etcd.handle, watchers);
    fanouts = await fanoutInTurn(theirs ? [ours, theirs] : [ours], {
      publications: PUBLICATIONS,
      warmUps: PUSH_WARM_UPS,
    });
  }
  const fullSync = { ...readFigures(runsMs[0]!), entries: data.entries };
  const push = fanouts[0]!;
  console.log(
    `  hub (${where}): FullSync ${runs(fullSync)} ms; push p50 ${
      percentile(push.latenciesMs, 50).toFixed(1)
    } ms, p99 ${percentile(push.latenciesMs, 99).toFixed(1)} ms`,
  );
  return {
    ours: { where, fullSync, push },
    ...(etcd ? { etcd: { range: readFigures(runsMs[1]!), watch: fanouts[1]! } } : {}),
  };
}

/** etcd's figures, measured beside ours. */
function etcdFigures(
  measured: { range: ReadFigures; watch: FanoutResult },
  options: { version: string; pageSize: number },
): EtcdFigures {
  const { range, watch } = measured;
  console.log(
    `  ${options.version}: range read ${runs(range)} ms; ` +
      `watch p50 ${percentile(watch.latenciesMs, 50).toFixed(1)} ms, ` +
      `p99 ${percentile(watch.latenciesMs, 99).toFixed(1)} ms`,
  );
  return { version: options.version, range: { ...range, pageSize: options.pageSize }, watch };
}

function fanoutValue(result: FanoutResult): string {
  return `p99 ${percentile(result.latenciesMs, 99).toFixed(1)} ms, p50 ${
    percentile(result.latenciesMs, 50).toFixed(1)
  } ms (${result.subscribers} × ${result.publications} deliveries)`;
}

/**
 * A figure of the separate-process hub is judged against its target; one of
 * the in-process hub is reported for information.
 */
function judged(ours: HubFigures, met: boolean | undefined): boolean | undefined {
  return ours.where === "separate process" ? met : undefined;
}

function fullSyncFigure(ours: HubFigures, etcd: EtcdFigures | undefined): Figure {
  const name = `FullSync of ${BLUEPRINTS.toLocaleString("en")} blueprints of 1 KiB to one client ` +
    `(hub ${ours.where})`;
  const target = `within ${FULL_SYNC_TARGET_RATIO}× of etcd's paginated range read`;
  const value =
    `${ours.fullSync.medianMs.toFixed(0)} ms median (${ours.fullSync.entries} entries, ` +
    `${ours.fullSync.runsMs.length} runs)`;
  if (etcd === undefined) {
    return report({ name, value: `${value}; etcd not installed`, target, met: undefined });
  }
  const ratio = ours.fullSync.medianMs / etcd.range.medianMs;
  return report({
    name,
    value: `${value}; etcd range read (${etcd.range.pageSize}/page) ${
      etcd.range.medianMs.toFixed(0)
    } ms median; ratio ${ratio.toFixed(2)}`,
    target,
    met: judged(ours, ratio <= FULL_SYNC_TARGET_RATIO),
  });
}

function pushFigure(ours: HubFigures, etcd: EtcdFigures | undefined): Figure {
  const publishedBy = ours.where === "separate process" ? "HTTP POST" : "hub.publish";
  const name = `${publishedBy} → notification on ${SUBSCRIBERS} subscribed streams ` +
    `(${CHANNELS} connections, ${PUBLICATIONS} publications, hub ${ours.where}), ` +
    `per-subscriber delivery`;
  const target = "p99 no worse than one etcd put seen by as many watchers";
  if (etcd === undefined) {
    return report({
      name,
      value: `${fanoutValue(ours.push)}; etcd not installed`,
      target,
      met: undefined,
    });
  }
  const p99 = percentile(ours.push.latenciesMs, 99);
  const etcdP99 = percentile(etcd.watch.latenciesMs, 99);
  return report({
    name,
    value: `${fanoutValue(ours.push)}; etcd watchers ${fanoutValue(etcd.watch)}; p99 ratio ${
      (p99 / etcdP99).toFixed(2)
    }`,
    target,
    met: judged(ours, p99 <= etcdP99),
  });
}

/** Runs the hub benchmarks; returns their figures. */
export async function hubBenchmarks(): Promise<Figure[]> {
  console.log(
    `Hub benchmarks (system register of ${BLUEPRINTS.toLocaleString("en")} blueprints of 1 KiB; ` +
      `etcd and the hub each a process of their own, and so are the grpc-js clients of each; ` +
      `the reads and the publications of both timed in turn)`,
  );
  const figures = [await integrityFigure()];
  if (!await etcdAvailable()) {
    console.log(
      "  etcd is not installed (apt-get install -y etcd-server): our figures alone, no ratios",
    );
    const { ours } = await measureHub(spawnBenchHub, undefined);
    figures.push(fullSyncFigure(ours, undefined), pushFigure(ours, undefined));
    return figures;
  }
  const version = await etcdVersion() ?? "etcd";
  await using etcdServer = await startEtcd();
  await using range = await spawnReadProbe({
    kind: "etcd-range",
    endpoint: etcdServer.endpoint,
    count: BLUEPRINTS,
    valueBytes: DOCUMENT_BYTES,
    pageSize: PAGE_SIZE,
  });
  const side = { handle: etcdServer, range };
  const measured = await measureHub(spawnBenchHub, side);
  const etcd = etcdFigures(measured.etcd!, { version, pageSize: PAGE_SIZE });
  figures.push(fullSyncFigure(measured.ours, etcd), pushFigure(measured.ours, etcd));
  if (Deno.env.get("HUB_BENCH_IN_PROCESS") === "1") {
    const inProcess = await measureHub(inProcessBenchHub, side);
    const beside = etcdFigures(inProcess.etcd!, { version, pageSize: PAGE_SIZE });
    figures.push(fullSyncFigure(inProcess.ours, beside), pushFigure(inProcess.ours, beside));
  }
  return figures;
}
