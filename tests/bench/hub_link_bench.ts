/**
 * Hub-link benchmarks (`deno task bench hub-link`): the peer's link to the
 * hubs (specs/hub-link/README.md), with hubs, peers and clients as processes
 * of their own on loopback, each figure beside its target and, where there
 * is one, a bare baseline measured in the same run:
 *
 * 1. failover from a hung hub (SIGSTOP), beside the detection floor
 *    (`link_failover_bench.ts`);
 * 2. a fresh peer's first sync of 10,000 blueprints of 1 KiB on SQLite and
 *    on Redis, against a bare FullSync client (`link_first_sync_bench.ts`);
 * 3. publish on the hub → visible in the peer's replica over REST, beside
 *    the hub's own POST + GET (`link_publish_bench.ts`);
 * 4. 200 links with 1 s beats on one hub: failovers, beat round trips, the
 *    hub's CPU (`link_fleet_bench.ts`).
 *
 * The machine's load average is printed before and after: the figures are
 * of processes sharing the machine's cores with whatever else runs.
 *
 * @module
 */
import { failoverFigures } from "./link_failover_bench.ts";
import { firstSyncFigures } from "./link_first_sync_bench.ts";
import { fleetFigures } from "./link_fleet_bench.ts";
import { publishFigures } from "./link_publish_bench.ts";
import type { Figure } from "./report.ts";

/** The 1-minute load average and the number of cores, for the report. */
async function load(): Promise<string> {
  const average = (await Deno.readTextFile("/proc/loadavg").catch(() => "?")).split(" ")[0];
  return `load average ${average} on ${navigator.hardwareConcurrency} cores`;
}

/** Runs the hub-link benchmarks in turn; returns their figures. */
export async function hubLinkBenchmarks(): Promise<Figure[]> {
  console.log(
    "Hub-link benchmarks (hub and peer processes on loopback; the peer's link in its own " +
      `process, as in production; ${await load()})`,
  );
  const figures = [
    ...await failoverFigures(),
    ...await firstSyncFigures(),
    ...await publishFigures(),
    ...await fleetFigures(),
  ];
  console.log(`  (${await load()} at the end)`);
  return figures;
}
