/**
 * `deno task bench`: every benchmark, each figure printed beside its target.
 * Exits 0 whatever the figures (they are reported, not asserted); exits 1 only
 * when a benchmark could not run. `deno task bench peer`, `deno task bench
 * register`, `deno task bench gossip`, `deno task bench hub`, `deno task
 * bench hub-link` or `deno task bench telemetry` runs one group.
 *
 * @module
 */
import { gossipBenchmarks } from "./gossip_bench.ts";
import { hubBenchmarks } from "./hub_bench.ts";
import { hubLinkBenchmarks } from "./hub_link_bench.ts";
import { peerBenchmarks } from "./peer_bench.ts";
import { registerBenchmarks } from "./register_bench.ts";
import { telemetryBenchmarks } from "./telemetry_bench.ts";

const only = Deno.args[0];
const figures = [
  ...(only === undefined || only === "peer" ? await peerBenchmarks() : []),
  ...(only === undefined || only === "register" ? await registerBenchmarks() : []),
  ...(only === undefined || only === "gossip" ? await gossipBenchmarks() : []),
  ...(only === undefined || only === "hub" ? await hubBenchmarks() : []),
  ...(only === undefined || only === "hub-link" ? await hubLinkBenchmarks() : []),
  ...(only === undefined || only === "telemetry" ? await telemetryBenchmarks() : []),
];
const targeted = figures.filter((f) => f.met !== undefined);
const met = targeted.filter((f) => f.met).length;
console.log(`\n${met} of ${targeted.length} figures meet their targets`);
