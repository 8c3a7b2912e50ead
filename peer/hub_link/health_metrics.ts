/**
 * The peer's health figures sent with each heartbeat (`HealthMetrics`):
 * CPU use since the previous beat, memory, and the replica's size and state.
 *
 * @module
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import process from "node:process";
import type { HealthMetricsSchema } from "../../gen/sorcha/peer/v1/heartbeat_pb.ts";

/** Health figures, one reading per heartbeat. */
export class HealthMetrics {
  #at = performance.now();
  #usage = process.cpuUsage();

  /** The figures now, CPU measured since the last reading. */
  read(
    replica: { blueprints: number; syncing: boolean },
    uptimeSeconds: number,
  ): MessageInitShape<typeof HealthMetricsSchema> {
    const now = performance.now();
    const usage = process.cpuUsage();
    const busyMs = (usage.user + usage.system - this.#usage.user - this.#usage.system) / 1000;
    const cpu = now > this.#at ? Math.min(100, (100 * busyMs) / (now - this.#at)) : 0;
    this.#at = now;
    this.#usage = usage;
    return {
      activeConnections: 1,
      cpuUsagePercent: Math.max(0, cpu),
      memoryUsageMb: Math.round(Deno.memoryUsage().rss / 1024 / 102.4) / 10,
      diskUsagePercent: 0,
      blueprintCount: replica.blueprints,
      pendingSyncs: replica.syncing ? 1 : 0,
      isSyncing: replica.syncing,
      uptimeSeconds: BigInt(Math.floor(uptimeSeconds)),
    };
  }
}
