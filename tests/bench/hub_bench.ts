/**
 * Hub benchmarks, against etcd where it has an equivalent: FullSync of
 * 10,000 blueprints of 1 KiB to one client against a paginated range read of
 * 10,000 values of 1 KiB from etcd; one publication delivered to 500
 * subscribed streams against one put seen by 500 etcd watchers; and the
 * integrity validation of 10,000 entries (ours alone). Without `etcd`
 * installed, our figures are printed alone; without `hub/hub.ts` (not built
 * yet), the etcd figures are.
 *
 * @module
 */
import { openSqliteSystemRegisterStore, validateIntegrity } from "../../hub/system_register/mod.ts";
import {
  etcdAvailable,
  etcdRangeRead,
  type EtcdRangeReadResult,
  etcdVersion,
  etcdWatchFanout,
  type FanoutResult,
  startEtcd,
} from "./etcd.ts";
import {
  blueprintDocument,
  type HubFullSyncResult,
  loadStartHub,
  measureHubFullSync,
  measureHubPushFanout,
} from "./hub_grpc_bench.ts";
import { type Figure, median, percentile, report, time } from "./report.ts";

const BLUEPRINTS = 10_000;
const DOCUMENT_BYTES = 1024;
const PAGE_SIZE = 1000;
const SUBSCRIBERS = 500;
const CHANNELS = 10;
const PUBLICATIONS = 20;
const INTEGRITY_RUNS = 5;
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

interface EtcdFigures {
  version: string;
  range: EtcdRangeReadResult;
  watch: FanoutResult;
}

/** etcd's range read and watch fan-out, or undefined when etcd is not installed. */
async function measureEtcd(): Promise<EtcdFigures | undefined> {
  if (!await etcdAvailable()) {
    console.log(
      "  etcd is not installed (apt-get install -y etcd-server): our figures alone, no ratios",
    );
    return undefined;
  }
  const version = await etcdVersion() ?? "etcd";
  await using etcd = await startEtcd();
  const range = await etcdRangeRead(etcd, {
    count: BLUEPRINTS,
    valueBytes: DOCUMENT_BYTES,
    pageSize: PAGE_SIZE,
  });
  const watch = await etcdWatchFanout(etcd, {
    watchers: SUBSCRIBERS,
    publications: PUBLICATIONS,
    connections: CHANNELS,
  });
  console.log(
    `  ${version}: range read ${range.runsMs.map((ms) => ms.toFixed(0)).join(", ")} ms; ` +
      `watch p50 ${percentile(watch.latenciesMs, 50).toFixed(1)} ms, ` +
      `p99 ${percentile(watch.latenciesMs, 99).toFixed(1)} ms`,
  );
  return { version, range, watch };
}

interface HubFigures {
  fullSync: HubFullSyncResult;
  push: FanoutResult;
}

/** Our FullSync and push fan-out, or undefined while `hub/hub.ts` does not exist. */
async function measureHub(): Promise<HubFigures | undefined> {
  const startHub = await loadStartHub();
  if (startHub === undefined) {
    console.log("  hub not available yet (no hub/hub.ts): FullSync and push figures skipped");
    return undefined;
  }
  const fullSync = await measureHubFullSync(startHub, {
    count: BLUEPRINTS,
    documentBytes: DOCUMENT_BYTES,
  });
  const push = await measureHubPushFanout(startHub, {
    subscribers: SUBSCRIBERS,
    channels: CHANNELS,
    publications: PUBLICATIONS,
    documentBytes: DOCUMENT_BYTES,
  });
  return { fullSync, push };
}

function fanoutValue(result: FanoutResult): string {
  return `p99 ${percentile(result.latenciesMs, 99).toFixed(1)} ms, p50 ${
    percentile(result.latenciesMs, 50).toFixed(1)
  } ms (${result.subscribers} × ${result.publications} deliveries)`;
}

function fullSyncFigure(ours: HubFigures | undefined, etcd: EtcdFigures | undefined): Figure {
  const name = `FullSync of ${BLUEPRINTS.toLocaleString("en")} blueprints of 1 KiB to one client`;
  const target = `within ${FULL_SYNC_TARGET_RATIO}× of etcd's paginated range read`;
  const etcdValue = etcd &&
    `etcd range read (${etcd.range.pageSize}/page) ${etcd.range.medianMs.toFixed(0)} ms median`;
  if (ours === undefined) {
    return report({
      name: `${name}: hub not available yet`,
      value: etcdValue ?? "no figures",
      target,
      met: undefined,
    });
  }
  const value =
    `${ours.fullSync.medianMs.toFixed(0)} ms median (${ours.fullSync.entries} entries, ` +
    `${ours.fullSync.runsMs.length} runs)`;
  if (etcd === undefined) {
    return report({ name, value: `${value}; etcd not installed`, target, met: undefined });
  }
  const ratio = ours.fullSync.medianMs / etcd.range.medianMs;
  return report({
    name,
    value: `${value}; ${etcdValue}; ratio ${ratio.toFixed(2)}`,
    target,
    met: ratio <= FULL_SYNC_TARGET_RATIO,
  });
}

function pushFigure(ours: HubFigures | undefined, etcd: EtcdFigures | undefined): Figure {
  const name = `publish → notification on ${SUBSCRIBERS} subscribed streams ` +
    `(${CHANNELS} connections, ${PUBLICATIONS} publications), per-subscriber delivery`;
  const target = "p99 no worse than one etcd put seen by as many watchers";
  const etcdValue = etcd && `etcd watchers ${fanoutValue(etcd.watch)}`;
  if (ours === undefined) {
    return report({
      name: `${name}: hub not available yet`,
      value: etcdValue ?? "no figures",
      target,
      met: undefined,
    });
  }
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
    value: `${fanoutValue(ours.push)}; ${etcdValue}; p99 ratio ${(p99 / etcdP99).toFixed(2)}`,
    target,
    met: p99 <= etcdP99,
  });
}

/** Runs the hub benchmarks; returns their figures. */
export async function hubBenchmarks(): Promise<Figure[]> {
  console.log(
    `Hub benchmarks (system register of ${BLUEPRINTS.toLocaleString("en")} blueprints of 1 KiB; ` +
      `etcd as the yardstick, both through grpc-js clients in this process)`,
  );
  const integrity = await integrityFigure();
  const etcd = await measureEtcd();
  const ours = await measureHub();
  return [integrity, fullSyncFigure(ours, etcd), pushFigure(ours, etcd)];
}
