/**
 * Heartbeats to the current hub, at a fixed cadence: one every interval,
 * whether or not the previous one was answered, each with its own deadline
 * (`HEARTBEAT_TIMEOUT_SECONDS`). A beat not answered in time, or failed, is
 * a miss; an answer resets the misses. So a hub that hangs with its sockets
 * open (a stopped process, a network dropping packets) is found after
 * `HEARTBEAT_MAX_MISSED` beats: at most about `(max missed) × interval +
 * timeout` after it stopped. RESOURCE_EXHAUSTED (the hub's rate limit) is
 * not a miss: the hub is alive and asks for fewer calls, so the interval
 * doubles, as for REDUCE_FREQUENCY. Each beat is a span
 * (`peer.hub.heartbeat`); acknowledged round trips go to the link's
 * recorder (`recorder.ts`).
 *
 * @module
 */
import type { MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import {
  type HealthMetricsSchema,
  type HeartbeatAcknowledgementSchema,
  RecommendedAction,
} from "../../gen/sorcha/peer/v1/heartbeat_pb.ts";
import type { Clock } from "../../shared/clock.ts";
import { deadline } from "../../shared/deadline.ts";
import { AppError, errorMessage } from "../../shared/errors.ts";
import type { Scheduler } from "../../shared/schedule.ts";
import { failSpan, inSpan } from "../../shared/telemetry/mod.ts";
import type { LinkRecorder } from "./recorder.ts";
import type { Session } from "./session.ts";
import type { HeartbeatView } from "./status.ts";

export { RecommendedAction };

/** An acknowledgement, as the link handles it. */
export type Acknowledgement = MessageShape<typeof HeartbeatAcknowledgementSchema>;

/** Latencies kept for the average. */
const LATENCY_WINDOW = 10;

/** Heartbeat figures over every session (owned by the link, shown in its status). */
export class HeartbeatCounters {
  /** The last sequence number sent in the current session. */
  sequence = 0;
  /** Misses in a row. */
  consecutiveMisses = 0;
  /** Beats sent. */
  totalSent = 0;
  /** Beats acknowledged. */
  totalAcknowledged = 0;
  /** Beats missed. */
  totalMissed = 0;
  /** When the last beat was acknowledged. */
  lastAcknowledgedAt: number | undefined;
  /** The last recommended action's name. */
  lastAction: string | undefined;
  /** The interval in force, in ms. */
  intervalMs: number;
  readonly #latencies: number[] = [];
  readonly #timeoutMs: number;
  readonly #maxMissed: number;
  readonly #recorder: LinkRecorder | undefined;

  /**
   * Counters for beats every `intervalMs`, each given `timeoutMs`, failing
   * over after `maxMissed`; acknowledged round trips also go to `recorder`.
   */
  constructor(
    options: { intervalMs: number; timeoutMs: number; maxMissed: number; recorder?: LinkRecorder },
  ) {
    this.intervalMs = options.intervalMs;
    this.#timeoutMs = options.timeoutMs;
    this.#maxMissed = options.maxMissed;
    this.#recorder = options.recorder;
  }

  /** Records an acknowledged beat's round trip. */
  acknowledged(latencyMs: number, at: number): void {
    this.totalAcknowledged++;
    this.consecutiveMisses = 0;
    this.lastAcknowledgedAt = at;
    this.#latencies.push(latencyMs);
    if (this.#latencies.length > LATENCY_WINDOW) this.#latencies.shift();
    this.#recorder?.heartbeat(latencyMs);
  }

  /** The status view. */
  view(): HeartbeatView {
    const latencies = this.#latencies;
    const round = (ms: number) => Math.round(ms * 10) / 10;
    return {
      sequence: this.sequence,
      consecutiveMisses: this.consecutiveMisses,
      totalSent: this.totalSent,
      totalAcknowledged: this.totalAcknowledged,
      totalMissed: this.totalMissed,
      lastLatencyMs: latencies.length ? round(latencies.at(-1)!) : null,
      averageLatencyMs: latencies.length
        ? round(latencies.reduce((sum, ms) => sum + ms, 0) / latencies.length)
        : null,
      lastAcknowledgedAt: this.lastAcknowledgedAt ?? null,
      lastAction: this.lastAction ?? null,
      intervalMs: this.intervalMs,
      timeoutMs: this.#timeoutMs,
      maxMissed: this.#maxMissed,
    };
  }
}

/** What the heartbeat loop tells the link. */
export interface HeartbeatEvents {
  /** A beat was answered. */
  onAcknowledged(ack: Acknowledgement): void;
  /** A beat was missed; `misses` in a row so far. */
  onMissed(error: AppError, misses: number): void;
}

/** Options of {@link runHeartbeats}. */
export interface HeartbeatOptions {
  /** This peer's id. */
  peerId: string;
  /** Figures (shared across sessions); its `intervalMs` is the cadence, and may change. */
  counters: HeartbeatCounters;
  /** A beat's deadline, in ms. */
  timeoutMs: number;
  /**
   * The longest interval a slowed-down cadence may reach, in ms: the hub's
   * own interval (beyond it the hub would count beats as missed).
   */
  maxIntervalMs: number;
  /** The version the replica holds, sent in each beat. */
  lastSyncVersion: () => number;
  /** The peer's health figures, sent in each beat. */
  metrics: () => MessageInitShape<typeof HealthMetricsSchema>;
  /** Time. */
  clock: Clock;
  /** Waits and deadlines. */
  scheduler: Scheduler;
  /** What to tell the link. */
  events: HeartbeatEvents;
}

/** Heartbeats running for one session. */
export interface RunningHeartbeats {
  /** Sends one beat now, outside the cadence (to check a hub that seems gone). */
  beatNow(): void;
  /** Settles once the session has ended. */
  readonly done: Promise<void>;
}

/** Beats to `session`'s hub until the session ends (its `stop` aborts). */
export function startHeartbeats(session: Session, options: HeartbeatOptions): RunningHeartbeats {
  const { counters, clock, scheduler } = options;
  const stop = session.stop.signal;
  counters.sequence = 0;
  const done = (async () => {
    let next = clock.now() + counters.intervalMs;
    while (!stop.aborted) {
      await scheduler.sleep(Math.max(0, next - clock.now()), stop);
      if (stop.aborted) return;
      void beat(session, ++counters.sequence, options);
      next = Math.max(next + counters.intervalMs, clock.now());
    }
  })();
  return {
    beatNow: () => {
      if (!stop.aborted) void beat(session, ++counters.sequence, options);
    },
    done,
  };
}

/** `intervalMs` doubled, but never past `maxIntervalMs` (nor below `intervalMs`). */
export function slower(intervalMs: number, maxIntervalMs: number): number {
  return Math.max(intervalMs, Math.min(intervalMs * 2, maxIntervalMs));
}

/**
 * Sends one beat, in a span `peer.hub.heartbeat`, and reports how it went
 * (nothing once the session has ended), after the span: what the link does
 * about it (a sync, a failover) is no part of the beat's trace.
 */
async function beat(session: Session, sequence: number, options: HeartbeatOptions): Promise<void> {
  const report = await inSpan("peer.hub.heartbeat", async (span) => {
    const { counters, clock } = options;
    const stop = session.stop.signal;
    counters.totalSent++;
    const began = performance.now();
    using time = deadline(options.scheduler, options.timeoutMs, {
      what: `Heartbeat ${sequence} to hub ${session.centralNodeId}`,
      signal: stop,
    });
    try {
      const ack = await session.client.heartbeat.sendHeartbeat({
        peerId: options.peerId,
        timestamp: BigInt(clock.now()),
        sequenceNumber: BigInt(sequence),
        lastSyncVersion: BigInt(options.lastSyncVersion()),
        sessionId: session.sessionId,
        nodeType: "Peer",
        metrics: options.metrics(),
      }, { signal: time.signal });
      if (stop.aborted) return undefined;
      const latencyMs = performance.now() - began;
      counters.acknowledged(latencyMs, clock.now());
      counters.lastAction = RecommendedAction[ack.recommendedAction] ??
        String(ack.recommendedAction);
      span.setAttributes({
        "sorcha.heartbeat.outcome": "acknowledged",
        "sorcha.heartbeat.latency_ms": Math.round(latencyMs * 10) / 10,
        "sorcha.heartbeat.action": counters.lastAction,
      });
      return () => options.events.onAcknowledged(ack);
    } catch (error) {
      if (stop.aborted) return undefined;
      const failure = error instanceof AppError
        ? error
        : new AppError("unavailable", errorMessage(error));
      if (failure.code === "resource_exhausted") {
        // Alive, and asking for fewer calls: not a miss.
        span.setAttribute("sorcha.heartbeat.outcome", "rate-limited");
        counters.intervalMs = slower(counters.intervalMs, options.maxIntervalMs);
        return undefined;
      }
      counters.totalMissed++;
      counters.consecutiveMisses++;
      span.setAttribute("sorcha.heartbeat.outcome", "missed");
      failSpan(span, failure);
      const misses = counters.consecutiveMisses;
      return () => options.events.onMissed(failure, misses);
    }
  }, {
    attributes: {
      "sorcha.hub.address": session.hub.address,
      "sorcha.hub.id": session.centralNodeId,
      "sorcha.heartbeat.sequence": sequence,
    },
  });
  report?.();
}
