/**
 * Failover from a hung hub: two hub processes of one network (one shared
 * data directory) and a peer process linked to both (`HUB_NODES=n0,n1`) with
 * beats every 0.5 s, a 0.5 s deadline and 2 misses. Once the peer is
 * connected to n0, n0's process is stopped (SIGSTOP: its sockets stay open,
 * nothing is answered, as a hung process or a network dropping packets);
 * the time runs from the signal until the peer's `GET /api/connection/status`
 * says Connected to n1 (polled every 5 ms; the link process reports its
 * status to the peer's HTTP process at most every 25 ms). n0 is then
 * continued and the peer fails back to it (three steady probes, two beat
 * intervals apart) before the next run.
 *
 * The detection floor printed beside it is the spec's: a hung hub is found
 * `(HEARTBEAT_MAX_MISSED − 1) × interval + timeout` after it stopped at best,
 * one interval more at worst (the beat cadence is fixed, and the hub may stop
 * just after a beat was answered). Each run is split from the peer's own
 * figures: detection (stop → the failover in `recentFailovers`) and
 * reconnection (the failover → the new session's `connectedAt`).
 *
 * @module
 */
import { tempDir } from "../fixtures/wait.ts";
import { spawnLinkHub, spawnLinkPeer } from "./link_services.ts";
import {
  connectedTo,
  type ConnectionStatus,
  connectionStatus,
  pollUntil,
} from "./peer_link_api.ts";
import { type Figure, median, report } from "./report.ts";

const RUNS = 5;
const INTERVAL_SECONDS = 0.5;
const TIMEOUT_SECONDS = 0.5;
const MAX_MISSED = 2;
const TARGET_MS = 2000;
/** How often the peer's status is read while a failover runs. */
const POLL_MS = 5;
/**
 * Connected to n0 at least this long before a run: its first sync done, its
 * beats steady. Each run then waits a further fraction of a beat interval
 * (0, 1/5, 2/5 ... of it), so that the hub stops at a different point of the
 * beat cadence in each run, from just after a beat to just before the next
 * (with one fixed wait, every run would stop the hub at the same point).
 */
const SETTLE_MS = 1000;

/** One failover, in ms. */
interface FailoverRun {
  /** SIGSTOP → the peer's status says Connected to n1 (as seen over REST). */
  totalMs: number;
  /** SIGSTOP → the link decided to fail over (its `recentFailovers`, ms resolution). */
  detectionMs: number;
  /** The failover → the session with n1 opened (`connectedAt`). */
  reconnectMs: number;
}

function runs(values: number[]): string {
  return values.map((ms) => ms.toFixed(0)).join(", ");
}

/** Stops n0 once and times the peer's failover to n1 (see the module). */
async function failoverOnce(
  peerUrl: string,
  n0: { address: string; stop(): void },
  n1Address: string,
  failoversBefore: number,
): Promise<FailoverRun> {
  const stoppedAtWall = Date.now();
  const stoppedAt = performance.now();
  n0.stop();
  const status: ConnectionStatus = await pollUntil(async () => {
    const status = await connectionStatus(peerUrl);
    return connectedTo(status, n1Address) ? status : undefined;
  }, { what: "the peer is connected to n1", intervalMs: POLL_MS, timeoutMs: 15_000 });
  const totalMs = performance.now() - stoppedAt;
  const failover = status.recentFailovers.at(-1);
  if (status.failovers !== failoversBefore + 1 || failover?.from !== n0.address) {
    throw new Error(
      `expected one failover from ${n0.address}, got ${JSON.stringify(status.recentFailovers)}`,
    );
  }
  const failedOverAt = Date.parse(failover.at);
  return {
    totalMs,
    detectionMs: failedOverAt - stoppedAtWall,
    reconnectMs: Date.parse(status.connectedAt ?? failover.at) - failedOverAt,
  };
}

/** Runs the failover benchmark {@link RUNS} times; returns its figures. */
export async function failoverFigures(): Promise<Figure[]> {
  await using data = await tempDir("hub-link-bench-failover-");
  await using n0 = await spawnLinkHub({ hubId: "n0", dataDir: data.path });
  await using n1 = await spawnLinkHub({ hubId: "n1", dataDir: data.path });
  await using peer = await spawnLinkPeer({
    hubs: [n0.address, n1.address],
    env: {
      HEARTBEAT_INTERVAL_SECONDS: `${INTERVAL_SECONDS}`,
      HEARTBEAT_TIMEOUT_SECONDS: `${TIMEOUT_SECONDS}`,
      HEARTBEAT_MAX_MISSED: `${MAX_MISSED}`,
      HUB_RETRY_MAX_SECONDS: "2",
    },
  });
  const measured: FailoverRun[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      const before = await pollUntil(async () => {
        const status = await connectionStatus(peer.url);
        return connectedTo(status, n0.address) ? status : undefined;
      }, { what: `the peer is connected to n0 (run ${run + 1})`, timeoutMs: 30_000 });
      const phaseMs = (run / RUNS) * INTERVAL_SECONDS * 1000;
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS + phaseMs));
      const stop = () => n0.service.signal("SIGSTOP");
      try {
        measured.push(
          await failoverOnce(peer.url, { address: n0.address, stop }, n1.address, before.failovers),
        );
      } finally {
        n0.service.signal("SIGCONT");
      }
    }
  } catch (error) {
    throw new Error(
      `failover benchmark: ${error instanceof Error ? error.message : error}\n` +
        `peer: ${peer.service.stderrTail()}`,
    );
  }
  const totals = measured.map((run) => run.totalMs);
  const worst = Math.max(...totals);
  const floorMs = ((MAX_MISSED - 1) * INTERVAL_SECONDS + TIMEOUT_SECONDS) * 1000;
  const floorWorstMs = floorMs + INTERVAL_SECONDS * 1000;
  console.log(
    `  failover runs (SIGSTOP → Connected to n1): ${runs(totals)} ms; detection ${
      runs(measured.map((run) => run.detectionMs))
    } ms; reconnection ${runs(measured.map((run) => run.reconnectMs))} ms`,
  );
  return [
    report({
      name: `failover from a hung hub (SIGSTOP; beats every ${INTERVAL_SECONDS} s, ` +
        `${TIMEOUT_SECONDS} s deadline, ${MAX_MISSED} misses): until Connected to the next hub ` +
        `over REST, hub and peer processes`,
      value:
        `worst ${worst.toFixed(0)} ms, median ${median(totals).toFixed(0)} ms (${RUNS} runs); ` +
        `detection floor ${floorMs.toFixed(0)} ms (${floorWorstMs.toFixed(0)} ms at worst), ` +
        `detection measured: median ${
          median(measured.map((run) => run.detectionMs)).toFixed(0)
        } ms`,
      target: `connected to the next hub within ${TARGET_MS} ms`,
      met: worst <= TARGET_MS,
    }),
  ];
}
