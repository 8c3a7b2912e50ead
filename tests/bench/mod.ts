/**
 * `deno task bench`: every benchmark, each figure printed beside its target.
 * Exits 0 whatever the figures (they are reported, not asserted); exits 1 only
 * when a benchmark could not run.
 *
 * @module
 */
import { peerBenchmarks } from "./peer_bench.ts";

const figures = await peerBenchmarks();
const missed = figures.filter((f) => !f.met).length;
console.log(`\n${figures.length - missed} of ${figures.length} figures meet their targets`);
