/**
 * The child process of `link_fleet_bench.ts`: many hub links (`HubLink` of
 * `peer/hub_link/link.ts`, each with its own peer id, an in-memory replica
 * and a connection of its own to the hub, as separate peers have), driven
 * over standard input and output, one JSON line per message:
 *
 * 1. it reads a {@link FleetSpec}, starts its links (spread over one beat
 *    interval, as peers started independently beat out of step), and
 *    answers `{"connected":N}` once all are Connected and synced;
 * 2. `{"measure":true}` starts the measurement (beat latencies, failovers,
 *    misses are counted from then), `{"report":true}` answers a
 *    {@link FleetReport};
 * 3. it closes its links and exits once its standard input closes.
 *
 * Each beat's round trip is timed around the link's own `sendHeartbeat`
 * call (the link's client is wrapped), as the link times it for its
 * `lastLatencyMs`, and every beat is kept: the status shows only the
 * average of the last ten.
 *
 * @module
 */
import { parseHubList } from "../../peer/hub_link/hub_address.ts";
import {
  type HubClient,
  MAX_BLUEPRINT_BYTES,
  openHubClient,
} from "../../peer/hub_link/hub_client.ts";
import { HubLink } from "../../peer/hub_link/link.ts";
import { MemoryReplicaStore } from "../../peer/replica/memory_store.ts";
import { lines } from "../../shared/lines.ts";
import { systemClock } from "../../shared/clock.ts";
import { log, setupLogging } from "../../shared/logging.ts";
import { createSystemScheduler } from "../../shared/schedule.ts";
import type { FleetReply, FleetReport, FleetSpec } from "./link_fleet_bench.ts";

const encoder = new TextEncoder();
const CONNECT_TIMEOUT_MS = 60_000;

function reply(message: FleetReply): void {
  const bytes = encoder.encode(`${JSON.stringify(message)}\n`);
  let written = 0;
  while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
}

/** Beats timed since the measurement started. */
interface BeatLog {
  measuring: boolean;
  latenciesMs: number[];
  failedBeats: number;
}

/** The peer's own hub client, its beats timed into `beats`. */
function openTimedHubClient(address: string, spec: FleetSpec, beats: BeatLog): HubClient {
  const client = openHubClient(address, {
    keepaliveMs: Math.min(10_000, Math.max(1000, spec.intervalMs)),
    keepaliveTimeoutMs: Math.min(20_000, Math.max(1000, spec.timeoutMs)),
  });
  const heartbeat = client.heartbeat;
  const timed: HubClient["heartbeat"] = {
    ...heartbeat,
    async sendHeartbeat(
      request: Parameters<HubClient["heartbeat"]["sendHeartbeat"]>[0],
      options?: Parameters<HubClient["heartbeat"]["sendHeartbeat"]>[1],
    ) {
      const began = performance.now();
      const counted = beats.measuring; // beats sent during the measurement
      try {
        const ack = await heartbeat.sendHeartbeat(request, options);
        if (counted && beats.measuring) beats.latenciesMs.push(performance.now() - began);
        return ack;
      } catch (error) {
        if (counted && beats.measuring) beats.failedBeats++;
        throw error;
      }
    },
  };
  return { ...client, heartbeat: timed };
}

/** Starts the links of `spec`, spread over one beat interval. */
async function startLinks(spec: FleetSpec, beats: BeatLog): Promise<HubLink[]> {
  const scheduler = createSystemScheduler({ timersOnly: true });
  const logger = log("bench", "hub-link");
  const links: HubLink[] = [];
  const started = performance.now();
  for (let i = 0; i < spec.links; i++) {
    const index = spec.firstIndex + i;
    const at = (index * spec.intervalMs) / spec.totalLinks;
    const wait = at - (performance.now() - started);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const link = new HubLink({
      peerId: `bench-peer-${index}`,
      publicUrl: `http://127.0.0.1:${10_000 + index}`,
      config: {
        hubs: parseHubList(spec.hubAddress),
        heartbeatIntervalMs: spec.intervalMs,
        heartbeatTimeoutMs: spec.timeoutMs,
        heartbeatMaxMissed: spec.maxMissed,
        retryMaxMs: 60_000,
        connectTimeoutMs: 5000,
        syncIntervalMs: 300_000,
        failbackIntervalMs: 2 * spec.intervalMs,
        tlsCaPath: undefined,
        tlsServerName: undefined,
      },
      store: new MemoryReplicaStore(),
      openClient: (address) => openTimedHubClient(address, spec, beats),
      maxBlueprintBytes: MAX_BLUEPRINT_BYTES,
      clock: systemClock,
      scheduler,
      logger,
    });
    link.start();
    links.push(link);
  }
  return links;
}

/** Waits until every link is Connected with its replica synced. */
async function allConnected(links: HubLink[]): Promise<void> {
  const deadline = performance.now() + CONNECT_TIMEOUT_MS;
  while (true) {
    const waiting = links.filter((link) => {
      const status = link.status();
      return status.state !== "Connected" || status.replica.checkpoint === null;
    }).length;
    if (waiting === 0) return;
    if (performance.now() > deadline) {
      throw new Error(`${waiting} of ${links.length} links not connected and synced in time`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Failovers, misses and beats of every link, added up. */
function totals(links: HubLink[]): { failovers: number; missed: number; sent: number } {
  let failovers = 0;
  let missed = 0;
  let sent = 0;
  for (const link of links) {
    const status = link.status();
    failovers += status.failovers;
    missed += status.heartbeat.totalMissed;
    sent += status.heartbeat.totalSent;
  }
  return { failovers, missed, sent };
}

async function main(): Promise<void> {
  setupLogging({ level: "warning", format: "pretty", color: false });
  const input = lines(Deno.stdin.readable);
  const first = await input.next();
  if (first.done) return;
  const spec = JSON.parse(first.value) as FleetSpec;
  const beats: BeatLog = { measuring: false, latenciesMs: [], failedBeats: 0 };
  const links = await startLinks(spec, beats);
  try {
    await allConnected(links);
    reply({ connected: links.length });
    let before = totals(links);
    for await (const line of input) {
      const message = JSON.parse(line) as { measure?: true; report?: true };
      if (message.measure) {
        before = totals(links);
        beats.measuring = true;
      } else if (message.report) {
        beats.measuring = false;
        const after = totals(links);
        const report: FleetReport = {
          links: links.length,
          latenciesMs: beats.latenciesMs,
          failedBeats: beats.failedBeats,
          failovers: after.failovers - before.failovers,
          missed: after.missed - before.missed,
          sent: after.sent - before.sent,
          connected: links.filter((link) => link.state === "Connected").length,
          worstAverageLatencyMs: Math.max(
            0,
            ...links.map((link) => link.status().heartbeat.averageLatencyMs ?? 0),
          ),
        };
        reply({ report });
      }
    }
  } catch (error) {
    reply({ error: error instanceof Error ? error.message : String(error) });
  } finally {
    await Promise.all(links.map((link) => link.close()));
  }
}

if (import.meta.main) {
  await main();
  // grpc-js may leave timers behind once its channels are closed; the parent waits for this exit.
  Deno.exit(0);
}
