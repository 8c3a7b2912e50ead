/**
 * The CPU time a process has used, from Linux's `/proc/<pid>/stat` (user
 * and system time, fields 14 and 15, in clock ticks), to report a process's
 * CPU over an interval as a percentage of one core.
 *
 * @module
 */

/** Clock ticks per second (`getconf CLK_TCK`; 100 on Linux unless told otherwise). */
let ticksPerSecond: number | undefined;

async function clockTicks(): Promise<number> {
  if (ticksPerSecond !== undefined) return ticksPerSecond;
  try {
    const out = await new Deno.Command("getconf", { args: ["CLK_TCK"], stderr: "null" }).output();
    const ticks = Number(new TextDecoder().decode(out.stdout).trim());
    ticksPerSecond = Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    ticksPerSecond = 100;
  }
  return ticksPerSecond;
}

/** A reading of a process's CPU time. */
export interface CpuReading {
  /** User plus system time so far, in ms. */
  cpuMs: number;
  /** `performance.now()` when it was read. */
  at: number;
}

/** Reads the CPU time process `pid` has used so far. */
export async function readCpu(pid: number): Promise<CpuReading> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14, 15)
  return { cpuMs: (ticks * 1000) / await clockTicks(), at: performance.now() };
}

/** The CPU used between two readings of one process, as a percentage of one core. */
export function cpuPercent(from: CpuReading, to: CpuReading): number {
  const elapsedMs = to.at - from.at;
  return elapsedMs > 0 ? (100 * (to.cpuMs - from.cpuMs)) / elapsedMs : 0;
}
