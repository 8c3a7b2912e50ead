/**
 * Fail-back: while connected to a hub below the top of the list, probe the
 * hubs above it now and then (every two heartbeat intervals, jittered ±20%)
 * with `GetCentralNodeStatus`; a hub that answers HEALTHY
 * within the connection deadline {@link FAILBACK_PROBES} times in a row is
 * moved back to, make-before-break (the link opens the new session, syncs
 * and subscribes, and only then leaves the old hub). One success is not
 * trusted: a hub coming back from a crash may go down again at once.
 *
 * @module
 */
import { NodeHealth } from "../../gen/sorcha/peer/v1/central_node_connection_pb.ts";
import type { Clock } from "../../shared/clock.ts";
import { deadline } from "../../shared/deadline.ts";
import type { Scheduler } from "../../shared/schedule.ts";
import type { HubClient } from "./hub_client.ts";
import type { HubDirectory, HubRecord } from "./hubs.ts";
import type { Session } from "./session.ts";

/** Healthy probes in a row before moving back to a hub. */
export const FAILBACK_PROBES = 3;

/** Options of {@link runFailbackProbes}. */
export interface FailbackOptions {
  /** This peer's id. */
  peerId: string;
  /** The hubs. */
  hubs: HubDirectory;
  /** Time between probe rounds, in ms (before jitter). */
  intervalMs: number;
  /** A probe's deadline, in ms. */
  timeoutMs: number;
  /** The channel to a hub. */
  client: (address: string) => HubClient;
  /** Moves to `hub`; resolves once it did (or could not). */
  failBack: (hub: HubRecord) => Promise<void>;
  /** Time. */
  clock: Clock;
  /** Waits and deadlines. */
  scheduler: Scheduler;
  /** Random numbers in [0, 1), for jitter. */
  random?: () => number;
}

/** Whether `hub` answers HEALTHY within the deadline. */
async function probe(
  hub: HubRecord,
  options: FailbackOptions,
  stop: AbortSignal,
): Promise<boolean> {
  const client = options.client(hub.address);
  using time = deadline(options.scheduler, options.timeoutMs, {
    what: `Probing hub ${hub.address}`,
    signal: stop,
  });
  try {
    const status = await client.connection.getCentralNodeStatus(
      { peerId: options.peerId, includePeerList: false },
      { signal: time.signal },
    );
    if (status.health !== NodeHealth.HEALTHY) return false;
    options.hubs.answered(hub, options.clock.now(), status.nodeId);
    return true;
  } catch {
    return false;
  }
}

/** Probes the hubs above `session`'s until the session ends, failing back when one proves steady. */
export async function runFailbackProbes(session: Session, options: FailbackOptions): Promise<void> {
  const stop = session.stop.signal;
  const above = options.hubs.above(session.hub.priority);
  if (above.length === 0) return;
  for (const hub of above) hub.probeStreak = 0;
  const random = options.random ?? Math.random;
  while (!stop.aborted) {
    await options.scheduler.sleep(options.intervalMs * (0.8 + 0.4 * random()), stop);
    if (stop.aborted) return;
    for (const hub of above) {
      hub.probeStreak = await probe(hub, options, stop) ? hub.probeStreak + 1 : 0;
      if (stop.aborted) return;
    }
    const steady = above.find((hub) => hub.probeStreak >= FAILBACK_PROBES);
    if (steady) {
      steady.probeStreak = 0;
      await options.failBack(steady);
    }
  }
}
