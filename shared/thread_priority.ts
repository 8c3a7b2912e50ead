/**
 * Lowering the priority of a worker's thread, for the workers that take work
 * off a busy thread (a full sync's hashing and writing): while the cores are
 * busy, such a worker yields to the thread it serves (and to other processes
 * of the machine) and catches up in their pauses; whoever waits for it still
 * waits for all of its work. On two cores, with a hub on the same machine, a
 * full sync of 10,000 entries finished some 13 ms sooner with its SQLite
 * writer lowered so.
 *
 * Only on Linux, where `setpriority` of "process 0" changes the calling
 * thread; elsewhere it would lower the whole process, so nothing is done.
 *
 * @module
 */
import { setPriority } from "node:os";

/** The nice value of such workers (0 is normal, 19 the lowest). */
export const WORKER_NICENESS = 10;

/**
 * Lowers the calling thread's priority to `niceness` on Linux; does nothing elsewhere, or
 * without the permission (`--allow-sys`).
 */
export function lowerThreadPriority(niceness: number = WORKER_NICENESS): void {
  if (Deno.build.os !== "linux") return;
  try {
    setPriority(0, niceness);
  } catch {
    // At the normal priority, then.
  }
}
