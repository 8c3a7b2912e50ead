/**
 * The serving of one connected session, one object per session that the
 * link (`link.ts`) creates: its subscription to notifications (opened
 * first, so nothing published before the first sync is missed), its first
 * sync, its heartbeats and what the hub's answers and misses advise
 * (`hub_advice.ts`: a session that must end is ended through the link,
 * which fails over, reconnects or stops), the notifications it receives,
 * and its fail-back probes with the make-before-break switch to a hub above
 * it (`failback.ts`).
 *
 * What a session does only while it is the link's current one: answers,
 * misses and notifications of a session that was left are ignored.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import type { BlueprintNotification } from "../../gen/sorcha/peer/v1/system_register_sync_pb.ts";
import type { Clock } from "../../shared/clock.ts";
import type { AppError } from "../../shared/errors.ts";
import type { Scheduler } from "../../shared/schedule.ts";
import { contextOf, inSpan, SpanKind } from "../../shared/telemetry/mod.ts";
import type { HubLinkConfig } from "../config.ts";
import type { ConnectionStateTracker } from "./connection_state.ts";
import { runFailbackProbes } from "./failback.ts";
import {
  type Acknowledgement,
  type HeartbeatCounters,
  type HeartbeatOptions,
  type RunningHeartbeats,
  slower,
  startHeartbeats,
} from "./heartbeats.ts";
import { adviceOnAcknowledgement, adviceOnMiss, type SessionEnd } from "./hub_advice.ts";
import type { HubClients } from "./hub_clients.ts";
import type { HubDirectory, HubRecord } from "./hubs.ts";
import type { Replicator } from "./replicator.ts";
import { attemptHub, type AttemptOptions } from "./rounds.ts";
import { closeSession, DisconnectReason, type Session, type SessionContext } from "./session.ts";
import { runSubscription, type SubscriptionCounters } from "./subscription.ts";

/** What a served session needs from its link. */
export interface ServedSessionLink {
  /** This peer's id. */
  peerId: string;
  /** Hubs and timings. */
  config: HubLinkConfig;
  /** The hubs, with what each did. */
  hubs: HubDirectory;
  /** One channel per hub. */
  clients: HubClients;
  /** The replica. */
  replicator: Replicator;
  /** The connection state, and who is told of changes. */
  state: ConnectionStateTracker;
  /** The heartbeat figures, shared by the link's sessions. */
  heartbeats: HeartbeatCounters;
  /** The subscription figures, shared by the link's sessions. */
  subscription: SubscriptionCounters;
  /** The health figures sent with each heartbeat. */
  metrics: HeartbeatOptions["metrics"];
  /** Time. */
  clock: Clock;
  /** Waits and deadlines. */
  scheduler: Scheduler;
  /** Where it logs. */
  logger: Logger;
  /** Random numbers in [0, 1), for jitter. */
  random?: () => number;
  /** The link's current session, if any. */
  current: () => Session | undefined;
  /** Ends the link's current session. */
  end: (end: SessionEnd) => void;
  /** How the link attempts a hub. */
  attempts: () => AttemptOptions;
  /** What opening and closing sessions need. */
  context: () => SessionContext;
  /** The served session of `session` (created on first use). */
  serving: (session: Session) => ServedSession;
}

/** One session served; see the module documentation. */
export class ServedSession {
  /** The session. */
  readonly session: Session;
  readonly #link: ServedSessionLink;
  #subscribed = false;
  /** Whether its first sync was asked for: its notifications may ask for more. */
  #syncing = false;
  #beats: RunningHeartbeats | undefined;

  /** Serves nothing until {@link ServedSession.subscribe} and {@link ServedSession.begin}. */
  constructor(session: Session, link: ServedSessionLink) {
    this.session = session;
    this.#link = link;
  }

  /** Whether its subscription was opened. */
  get subscribed(): boolean {
    return this.#subscribed;
  }

  /**
   * Starts serving the session, once the link made it its current one: marks
   * its hub connected, subscribes (unless it did already), asks for its first
   * sync, and starts its heartbeats and fail-back probes.
   */
  async begin(): Promise<void> {
    const session = this.session;
    this.#adopt();
    if (!this.#subscribed) await this.subscribe();
    this.#syncing = true;
    void this.#link.replicator.sync(`connected to hub ${session.centralNodeId}`);
    this.#startActivities();
  }

  /** Opens the session's subscription and waits (within the connection deadline) until it is in place. */
  async subscribe(): Promise<void> {
    const { scheduler, clock, config } = this.#link;
    const session = this.session;
    this.#subscribed = true;
    const ready = Promise.withResolvers<void>();
    const waitStop = new AbortController();
    void runSubscription(session, {
      peerId: this.#link.peerId,
      counters: this.#link.subscription,
      clock,
      scheduler,
      ...(this.#link.random ? { random: this.#link.random } : {}),
      onReady: () => ready.resolve(),
      onFrame: (frame) => this.#onFrame(frame),
      onError: (error) => {
        if (this.#isCurrent()) {
          this.#link.logger.debug("Subscription to hub {hub} ended: {error}", {
            hub: session.centralNodeId,
            error: error.message,
          });
          // The hub may be gone (stopped, crashed): ask it at once rather than at the next beat.
          if (error.code === "unavailable") this.#beats?.beatNow();
        }
        this.#link.state.changed();
      },
    });
    await Promise.race([ready.promise, scheduler.sleep(config.connectTimeoutMs, waitStop.signal)]);
    waitStop.abort();
    this.#link.state.changed();
  }

  /** Its hub connected, the heartbeat interval its own, the state `Connected`. */
  #adopt(): void {
    const { logger, clock, config, heartbeats, state } = this.#link;
    const session = this.session;
    session.hub.state = "connected";
    const wasIsolated = state.isolatedSince;
    state.isolatedSince = undefined;
    const { heartbeatIntervalMs } = config;
    heartbeats.intervalMs = session.hubHeartbeatIntervalMs > 0
      ? Math.min(heartbeatIntervalMs, session.hubHeartbeatIntervalMs)
      : heartbeatIntervalMs;
    heartbeats.consecutiveMisses = 0;
    logger.info(
      "Connected to hub {hub}, session {session}; its system register is at version {version}, the replica at {cursor}{after}",
      {
        hub: this.#link.hubs.name(session.hub),
        session: session.sessionId,
        version: session.hubVersion,
        cursor: this.#link.replicator.cursor,
        after: wasIsolated === undefined
          ? ""
          : ` (after ${Math.round((clock.now() - wasIsolated) / 1000)} s isolated)`,
      },
    );
    state.set("Connected");
    state.changed();
  }

  #isCurrent(): boolean {
    return this.session === this.#link.current();
  }

  /** Heartbeats and fail-back probes. */
  #startActivities(): void {
    const { config, clock, scheduler } = this.#link;
    const session = this.session;
    this.#beats = startHeartbeats(session, {
      peerId: this.#link.peerId,
      counters: this.#link.heartbeats,
      timeoutMs: config.heartbeatTimeoutMs,
      maxIntervalMs: session.hubHeartbeatIntervalMs || Number.POSITIVE_INFINITY,
      lastSyncVersion: () => this.#link.replicator.cursor,
      metrics: this.#link.metrics,
      clock,
      scheduler,
      events: {
        onAcknowledged: (ack) => this.#onAcknowledged(ack),
        onMissed: (error, misses) => this.#onMissed(error, misses),
      },
    });
    void runFailbackProbes(session, {
      peerId: this.#link.peerId,
      hubs: this.#link.hubs,
      intervalMs: config.failbackIntervalMs,
      timeoutMs: config.connectTimeoutMs,
      client: (address) => this.#link.clients.get(address),
      failBack: (hub) => this.#failBack(hub),
      clock,
      scheduler,
      ...(this.#link.random ? { random: this.#link.random } : {}),
    });
  }

  #onAcknowledged(ack: Acknowledgement): void {
    if (!this.#isCurrent()) return;
    const { clock, logger, state, replicator, heartbeats } = this.#link;
    const session = this.session;
    this.#link.hubs.answered(session.hub, clock.now(), ack.centralNodeId);
    const version = Number(ack.currentSystemRegisterVersion);
    session.hubVersion = version;
    if (state.state === "HeartbeatTimeout") {
      logger.info("Hub {hub} answers heartbeats again", { hub: session.centralNodeId });
      state.set("Connected");
    }
    state.changed();
    const advice = adviceOnAcknowledgement(ack);
    if (advice.kind === "end") this.#link.end(advice.end);
    else if (advice.kind === "slower") {
      heartbeats.intervalMs = slower(
        heartbeats.intervalMs,
        session.hubHeartbeatIntervalMs || Number.POSITIVE_INFINITY,
      );
    } else if (advice.kind === "sync") void replicator.sync("the hub recommended a sync");
    else replicator.noteHubVersion(advice.version);
  }

  #onMissed(error: AppError, misses: number): void {
    if (!this.#isCurrent()) return;
    const { config, logger, state } = this.#link;
    if (misses === 1) {
      logger.warning("Hub {hub} missed a heartbeat (1 of {max} before failing over): {error}", {
        hub: this.session.centralNodeId,
        max: config.heartbeatMaxMissed,
        error: error.message,
      });
    }
    state.set("HeartbeatTimeout");
    state.changed();
    const end = adviceOnMiss(error, {
      misses,
      maxMissed: config.heartbeatMaxMissed,
      subscribed: this.#link.subscription.state === "subscribed",
    });
    if (end) this.#link.end(end);
  }

  #onFrame(frame: BlueprintNotification): void {
    if (!this.#isCurrent()) return;
    if (frame.blueprintId === "") {
      this.#onVersion(Number(frame.version), `the hub is at version ${frame.version}`);
      return;
    }
    // A notification: its span continues the publication's trace, and so does the sync it asks for.
    void inSpan("peer.push.received", () => {
      this.#onVersion(
        Number(frame.version),
        `notification of ${frame.blueprintId} at version ${frame.version}`,
      );
    }, {
      kind: SpanKind.CONSUMER,
      parent: contextOf({ traceparent: frame.traceparent }),
      attributes: {
        "sorcha.hub.id": this.session.centralNodeId,
        "sorcha.blueprint.id": frame.blueprintId,
        "sorcha.blueprint.version": Number(frame.version),
      },
    });
  }

  /** A frame said the hub is at `version`: a sync when the replica is behind. */
  #onVersion(version: number, reason: string): void {
    const session = this.session;
    const replicator = this.#link.replicator;
    session.hub.lastContactAt = this.#link.clock.now();
    if (version > session.hubVersion) session.hubVersion = version;
    // Before the session's first sync is asked for, that sync covers what frames announce.
    if (version > replicator.cursor && this.#syncing) {
      void replicator.sync(reason, { untilVersion: version });
    }
    this.#link.state.changed();
  }

  /** Make-before-break: opens a session with `hub` and subscribes, then leaves this one. */
  async #failBack(hub: HubRecord): Promise<void> {
    const current = this.session;
    if (!this.#isCurrent() || current.stop.signal.aborted) return;
    const session = await attemptHub(hub, this.#link.attempts());
    if (!session) return;
    if (!this.#isCurrent() || current.stop.signal.aborted) {
      await this.#abandon(session);
      return;
    }
    await this.#link.serving(session).subscribe();
    if (!this.#isCurrent() || current.stop.signal.aborted) {
      await this.#abandon(session);
      return;
    }
    this.#link.logger.info("Failing back from hub {from} to hub {hub}, steady again", {
      from: this.#link.hubs.name(current.hub),
      hub: this.#link.hubs.name(hub),
    });
    this.#link.end({ kind: "switch", to: session });
  }

  /** Closes a session opened to fail back to, once this one was left meanwhile. */
  async #abandon(session: Session): Promise<void> {
    await closeSession(session, {
      context: this.#link.context(),
      reason: DisconnectReason.CLIENT_REQUEST,
    });
  }
}
