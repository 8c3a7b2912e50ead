/**
 * The peer's link to the hubs (seed 004): one session with one hub at a
 * time, heartbeats, failover, fail-back, isolated mode, and the replica of
 * the system register (`replicator.ts`). See specs/hub-link/README.md.
 *
 * - **Rounds.** The hubs are tried in priority order, one attempt each,
 *   each within `HUB_CONNECT_TIMEOUT_SECONDS`. A failover starts the next
 *   round at the hub after the failed one (n0 → n1 → n2 → n0), so the
 *   failed hub is tried last. A round in which every hub failed makes the
 *   peer `Isolated`: it keeps serving its replica and tries again in rounds
 *   after a backoff (1 s doubling to `HUB_RETRY_MAX_SECONDS`, jittered),
 *   reset once a session held for three heartbeat intervals.
 * - **Sticky.** The peer stays on the hub it has while that hub answers.
 *   It leaves it after `HEARTBEAT_MAX_MISSED` beats missed in a row, when
 *   the hub recommends FAILOVER, or to fail back to a hub above it that
 *   proved steady (`failback.ts`). RECONNECT (the hub lost the session)
 *   opens a new session, starting with the same hub.
 * - **Order on connect.** Subscribe to notifications first, then sync, so
 *   nothing published in between is missed.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import type { BlueprintNotification } from "../../gen/sorcha/peer/v1/system_register_sync_pb.ts";
import { type Backoff, createBackoff } from "../../shared/backoff.ts";
import type { Clock } from "../../shared/clock.ts";
import { AppError, errorMessage } from "../../shared/errors.ts";
import type { Scheduler } from "../../shared/schedule.ts";
import type { HubLinkConfig } from "../config.ts";
import type { ReplicaStore } from "../replica/types.ts";
import { runFailbackProbes } from "./failback.ts";
import {
  type Acknowledgement,
  HeartbeatCounters,
  type RunningHeartbeats,
  slower,
  startHeartbeats,
} from "./heartbeats.ts";
import { HealthMetrics } from "./health_metrics.ts";
import { adviceOnAcknowledgement, adviceOnMiss, type SessionEnd } from "./hub_advice.ts";
import type { HubClient } from "./hub_client.ts";
import { HubClients } from "./hub_clients.ts";
import { HubDirectory, type HubRecord } from "./hubs.ts";
import { attemptHub, type AttemptOptions, connectRound } from "./rounds.ts";
import { Replicator } from "./replicator.ts";
import { closeSession, DisconnectReason, type Session, type SessionContext } from "./session.ts";
import { FailoverLog } from "./failovers.ts";
import type { ConnectionState, HubLinkStatus, SyncResult } from "./status.ts";
import { runSubscription, SubscriptionCounters } from "./subscription.ts";

/** Options of {@link HubLink}. */
export interface HubLinkOptions {
  /** This peer's id. */
  peerId: string;
  /** How other peers reach this one (told to hubs). */
  publicUrl: string;
  /** Hubs and timings. */
  config: HubLinkConfig;
  /** Where the replica lives. */
  store: ReplicaStore;
  /** Opens a channel to a hub (token, TLS and keepalive set by the caller); one per hub is kept. */
  openClient: (address: string) => HubClient;
  /** The largest document this peer takes, announced to hubs. */
  maxBlueprintBytes: number;
  /** Time. */
  clock: Clock;
  /** Waits, deadlines, the periodic sync. */
  scheduler: Scheduler;
  /** Where it logs. */
  logger: Logger;
  /** Random numbers in [0, 1), for jitter. */
  random?: () => number;
}

/** See the module documentation. */
export class HubLink {
  /** The replica. */
  readonly replicator: Replicator;
  readonly #options: HubLinkOptions;
  readonly #hubs: HubDirectory;
  readonly #clients: HubClients;
  readonly #stop = new AbortController();
  readonly #heartbeats: HeartbeatCounters;
  readonly #subscription: SubscriptionCounters;
  readonly #listeners = new Set<() => void>();
  readonly #subscribed = new WeakSet<Session>();
  /** Sessions whose first sync was asked for: their notifications may ask for more. */
  readonly #syncing = new WeakSet<Session>();
  /** The heartbeats of each session. */
  readonly #beats = new WeakMap<Session, RunningHeartbeats>();
  readonly #startedAt: number;
  #state: ConnectionState = "Disconnected";
  #stateSince: number;
  #isolatedSince: number | undefined;
  #session: Session | undefined;
  #endSession: ((end: SessionEnd) => void) | undefined;
  readonly #failovers = new FailoverLog();
  #running: Promise<void> | undefined;
  readonly #health = new HealthMetrics();

  /** A link that does nothing until {@link HubLink.start}. */
  constructor(options: HubLinkOptions) {
    this.#options = options;
    this.#hubs = new HubDirectory(options.config.hubs);
    this.#clients = new HubClients(options.openClient);
    this.#startedAt = options.clock.now();
    this.#stateSince = this.#startedAt;
    this.#heartbeats = new HeartbeatCounters({
      intervalMs: options.config.heartbeatIntervalMs,
      timeoutMs: options.config.heartbeatTimeoutMs,
      maxMissed: options.config.heartbeatMaxMissed,
    });
    this.#subscription = new SubscriptionCounters(this.#startedAt);
    this.replicator = new Replicator(options.store, {
      peerId: options.peerId,
      source: () => {
        const session = this.#session;
        if (!session || session.stop.signal.aborted) return undefined;
        return {
          client: session.client,
          address: session.hub.address,
          hubId: session.centralNodeId,
          sessionId: session.sessionId,
          genesisChecksum: session.genesisChecksum,
          hubVersion: session.hubVersion,
          signal: session.stop.signal,
        };
      },
      clock: options.clock,
      scheduler: options.scheduler,
      retryMaxMs: options.config.retryMaxMs,
      callTimeoutMs: options.config.connectTimeoutMs,
      logger: options.logger,
      ...(options.random ? { random: options.random } : {}),
      onChange: () => this.#changed(),
    });
  }

  /** The connection state. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** Starts connecting (once). */
  start(): void {
    this.#running ??= this.#run().catch((error) => {
      this.#options.logger.error("The hub link stopped: {error}", {
        error: errorMessage(error),
      });
    });
  }

  /** Calls `listener` after every change of what {@link HubLink.status} shows; returns an unsubscribe. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Syncs now (`POST /api/sync/trigger`); `full` replaces the replica. Throws `unavailable` with no hub. */
  sync(options: { full: boolean }): Promise<SyncResult> {
    if (!this.#session) {
      const since = this.#isolatedSince ?? this.#stateSince;
      return Promise.reject(
        new AppError(
          "unavailable",
          `Cannot sync the system register: no hub is connected (${this.#state} since ${
            new Date(since).toISOString()
          }); the replica stays at version ${this.replicator.cursor}`,
        ),
      );
    }
    return this.replicator.sync("asked for over the API", { full: options.full });
  }

  /** Everything the link reports. */
  status(): HubLinkStatus {
    const session = this.#session;
    return {
      state: this.#state,
      stateSince: this.#stateSince,
      isolatedSince: this.#isolatedSince ?? null,
      session: session
        ? {
          address: session.hub.address,
          centralNodeId: session.centralNodeId,
          sessionId: session.sessionId,
          connectedAt: session.connectedAt,
          hubVersion: session.hubVersion,
          genesisChecksum: session.genesisChecksum,
        }
        : null,
      hubs: this.#hubs.views(),
      heartbeat: this.#heartbeats.view(),
      subscription: this.#subscription.view(),
      replica: this.replicator.view(),
      failovers: this.#failovers.count,
      recentFailovers: this.#failovers.recent(),
      startedAt: this.#startedAt,
    };
  }

  /**
   * Stops: the hub is told (briefly), timers end, the store is left to its
   * owner. The channels are closed too, unless `keepChannels` (a link
   * process about to exit leaves them to the operating system, so that no
   * hub receives a GOAWAY: see `hub_clients.ts`).
   */
  async close(options: { keepChannels?: boolean } = {}): Promise<void> {
    if (this.#stop.signal.aborted) return;
    this.#stop.abort();
    this.#endSession?.({ kind: "stop" });
    this.replicator.close();
    await this.#running;
    if (!options.keepChannels) this.#clients.close();
  }

  #changed(): void {
    for (const listener of this.#listeners) listener();
  }

  #setState(state: ConnectionState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#stateSince = this.#options.clock.now();
    this.#changed();
  }

  get #context(): SessionContext {
    const options = this.#options;
    return {
      peerId: options.peerId,
      publicUrl: options.publicUrl,
      maxBlueprintBytes: options.maxBlueprintBytes,
      client: (address) => this.#clients.get(address),
      connectTimeoutMs: options.config.connectTimeoutMs,
      clock: options.clock,
      scheduler: options.scheduler,
      logger: options.logger,
    };
  }

  #firstBackoff(): Backoff {
    return createBackoff({
      initialMs: 1000,
      maxMs: this.#options.config.retryMaxMs,
      ...(this.#options.random ? { random: this.#options.random } : {}),
    });
  }

  async #run(): Promise<void> {
    const { scheduler, config, logger } = this.#options;
    const stop = this.#stop.signal;
    await this.#loadReplica();
    if (stop.aborted) return;
    const periodic = scheduler.every("hub link periodic sync", config.syncIntervalMs, async () => {
      if (this.#session) await this.replicator.sync("periodic").catch(() => {});
    }, { signal: stop });
    this.replicator.nextSyncDue = () => periodic.nextRunAt();
    logger.info("Linking to hubs {hubs} (in this order)", {
      hubs: config.hubs.map((hub) => hub.address).join(", "),
    });
    this.#setState("Connecting");
    let backoff = this.#firstBackoff();
    let start = 0;
    while (!stop.aborted) {
      const session = await connectRound(start, this.#attempts);
      if (stop.aborted) {
        if (session) {
          await closeSession(session, {
            context: this.#context,
            reason: DisconnectReason.SHUTDOWN,
          });
        }
        break;
      }
      if (!session) {
        this.#isolated();
        await scheduler.sleep(backoff.delayMs, stop);
        backoff = backoff.next();
        start = 0;
        continue;
      }
      const served = await this.#serve(session);
      if (served.heldMs >= 3 * config.heartbeatIntervalMs) backoff = this.#firstBackoff();
      start = served.next;
    }
    this.#setState("Disconnected");
  }

  /** Loads the replica's checkpoint, retrying while the store is unreachable. */
  async #loadReplica(): Promise<void> {
    let backoff = this.#firstBackoff();
    let logged = false;
    while (!this.#stop.signal.aborted) {
      try {
        await this.replicator.load();
        return;
      } catch (error) {
        if (!logged) {
          this.#options.logger.warning("Cannot read the system register replica yet: {error}", {
            error: errorMessage(error),
          });
          logged = true;
        }
        await this.#options.scheduler.sleep(backoff.delayMs, this.#stop.signal);
        backoff = backoff.next();
      }
    }
  }

  get #attempts(): AttemptOptions {
    return {
      hubs: this.#hubs,
      context: this.#context,
      cursor: () => this.replicator.cursor,
      signal: this.#stop.signal,
      random: this.#options.random ?? Math.random,
      onChange: () => this.#changed(),
    };
  }

  #isolated(): void {
    if (this.#isolatedSince === undefined) {
      this.#isolatedSince = this.#options.clock.now();
      const checkpoint = this.replicator.checkpoint;
      this.#options.logger.error(
        "Isolated: no hub of {hubs} answered; serving the system register replica at version {version} (last synced {synced}) and trying again with backoff",
        {
          hubs: this.#options.config.hubs.map((hub) => hub.address).join(", "),
          version: checkpoint?.version ?? 0,
          synced: checkpoint ? new Date(checkpoint.lastSyncAt).toISOString() : "never",
        },
      );
    }
    this.#setState("Isolated");
  }

  /** Serves `first` (and the hubs it fails back to) until it ends; says where the next round starts. */
  async #serve(first: Session): Promise<{ next: number; heldMs: number }> {
    const { clock, logger } = this.#options;
    let session = first;
    while (true) {
      this.#adopt(session);
      const ended = Promise.withResolvers<SessionEnd>();
      this.#endSession = (end) => ended.resolve(end);
      if (!this.#subscribed.has(session)) await this.#subscribe(session);
      this.#syncing.add(session);
      void this.replicator.sync(`connected to hub ${session.centralNodeId}`);
      this.#startActivities(session);
      const end = await ended.promise;
      this.#endSession = undefined;
      if (end.kind === "switch") {
        this.#failovers.left(
          session.hub.address,
          `fail-back to ${this.#hubs.name(end.to.hub)}`,
          clock.now(),
        );
        session.hub.state = "standby";
        void closeSession(session, { context: this.#context, reason: DisconnectReason.FAILOVER });
        session = end.to;
        continue;
      }
      this.#session = undefined;
      this.#subscription.enter("down", clock.now());
      const heldMs = clock.now() - session.connectedAt;
      if (end.kind === "stop") {
        await closeSession(session, { context: this.#context, reason: DisconnectReason.SHUTDOWN });
        return { next: session.hub.priority, heldMs };
      }
      if (end.kind === "reconnect") {
        logger.warning("Reconnecting to hub {hub}: {reason}", {
          hub: this.#hubs.name(session.hub),
          reason: end.reason,
        });
        session.hub.state = "standby";
        void closeSession(session, {
          context: this.#context,
          reason: DisconnectReason.CLIENT_REQUEST,
        });
        this.#setState("Connecting");
        return { next: session.hub.priority, heldMs };
      }
      this.#hubs.failed(session.hub, end.reason, { at: clock.now() });
      this.#failovers.left(session.hub.address, end.reason, clock.now());
      logger.warning("Failing over from hub {hub}: {reason}", {
        hub: this.#hubs.name(session.hub),
        reason: end.reason,
      });
      void closeSession(session, { context: this.#context, reason: end.disconnect });
      this.#setState("Connecting");
      return { next: session.hub.priority + (end.sameHubFirst ? 0 : 1), heldMs };
    }
  }

  /** Makes `session` the current one. */
  #adopt(session: Session): void {
    const { logger, clock } = this.#options;
    this.#session = session;
    session.hub.state = "connected";
    this.#failovers.landed(session.hub.address);
    const wasIsolated = this.#isolatedSince;
    this.#isolatedSince = undefined;
    const { heartbeatIntervalMs } = this.#options.config;
    this.#heartbeats.intervalMs = session.hubHeartbeatIntervalMs > 0
      ? Math.min(heartbeatIntervalMs, session.hubHeartbeatIntervalMs)
      : heartbeatIntervalMs;
    this.#heartbeats.consecutiveMisses = 0;
    logger.info(
      "Connected to hub {hub}, session {session}; its system register is at version {version}, the replica at {cursor}{after}",
      {
        hub: this.#hubs.name(session.hub),
        session: session.sessionId,
        version: session.hubVersion,
        cursor: this.replicator.cursor,
        after: wasIsolated === undefined
          ? ""
          : ` (after ${Math.round((clock.now() - wasIsolated) / 1000)} s isolated)`,
      },
    );
    this.#setState("Connected");
    this.#changed();
  }

  /** Opens `session`'s subscription and waits (within the connection deadline) until it is in place. */
  async #subscribe(session: Session): Promise<void> {
    const { scheduler, clock, config } = this.#options;
    this.#subscribed.add(session);
    const ready = Promise.withResolvers<void>();
    const waitStop = new AbortController();
    void runSubscription(session, {
      peerId: this.#options.peerId,
      counters: this.#subscription,
      clock,
      scheduler,
      ...(this.#options.random ? { random: this.#options.random } : {}),
      onReady: () => ready.resolve(),
      onFrame: (frame) => this.#onFrame(session, frame),
      onError: (error) => {
        if (session === this.#session) {
          this.#options.logger.debug("Subscription to hub {hub} ended: {error}", {
            hub: session.centralNodeId,
            error: error.message,
          });
          // The hub may be gone (stopped, crashed): ask it at once rather than at the next beat.
          if (error.code === "unavailable") this.#beats.get(session)?.beatNow();
        }
        this.#changed();
      },
    });
    await Promise.race([ready.promise, scheduler.sleep(config.connectTimeoutMs, waitStop.signal)]);
    waitStop.abort();
    this.#changed();
  }

  /** Heartbeats and fail-back probes for the current session. */
  #startActivities(session: Session): void {
    const { config, clock, scheduler } = this.#options;
    this.#beats.set(
      session,
      startHeartbeats(session, {
        peerId: this.#options.peerId,
        counters: this.#heartbeats,
        timeoutMs: config.heartbeatTimeoutMs,
        maxIntervalMs: session.hubHeartbeatIntervalMs || Number.POSITIVE_INFINITY,
        lastSyncVersion: () => this.replicator.cursor,
        metrics: () =>
          this.#health.read(
            {
              blueprints: this.replicator.checkpoint?.blueprints ?? 0,
              syncing: this.replicator.syncing,
            },
            (clock.now() - this.#startedAt) / 1000,
          ),
        clock,
        scheduler,
        events: {
          onAcknowledged: (ack) => this.#onAcknowledged(session, ack),
          onMissed: (error, misses) => this.#onMissed(session, error, misses),
        },
      }),
    );
    void runFailbackProbes(session, {
      peerId: this.#options.peerId,
      hubs: this.#hubs,
      intervalMs: config.failbackIntervalMs,
      timeoutMs: config.connectTimeoutMs,
      client: (address) => this.#clients.get(address),
      failBack: (hub) => this.#failBack(session, hub),
      clock,
      scheduler,
      ...(this.#options.random ? { random: this.#options.random } : {}),
    });
  }

  #onAcknowledged(session: Session, ack: Acknowledgement): void {
    if (session !== this.#session) return;
    const { clock, logger } = this.#options;
    this.#hubs.answered(session.hub, clock.now(), ack.centralNodeId);
    const version = Number(ack.currentSystemRegisterVersion);
    session.hubVersion = version;
    if (this.#state === "HeartbeatTimeout") {
      logger.info("Hub {hub} answers heartbeats again", { hub: session.centralNodeId });
      this.#setState("Connected");
    }
    this.#changed();
    const advice = adviceOnAcknowledgement(ack);
    if (advice.kind === "end") this.#endSession?.(advice.end);
    else if (advice.kind === "slower") {
      this.#heartbeats.intervalMs = slower(
        this.#heartbeats.intervalMs,
        session.hubHeartbeatIntervalMs || Number.POSITIVE_INFINITY,
      );
    } else if (advice.kind === "sync") void this.replicator.sync("the hub recommended a sync");
    else this.replicator.noteHubVersion(advice.version);
  }

  #onMissed(session: Session, error: AppError, misses: number): void {
    if (session !== this.#session) return;
    const { config, logger } = this.#options;
    if (misses === 1) {
      logger.warning("Hub {hub} missed a heartbeat (1 of {max} before failing over): {error}", {
        hub: session.centralNodeId,
        max: config.heartbeatMaxMissed,
        error: error.message,
      });
    }
    this.#setState("HeartbeatTimeout");
    this.#changed();
    const end = adviceOnMiss(error, {
      misses,
      maxMissed: config.heartbeatMaxMissed,
      subscribed: this.#subscription.state === "subscribed",
    });
    if (end) this.#endSession?.(end);
  }

  #onFrame(session: Session, frame: BlueprintNotification): void {
    if (session !== this.#session) return;
    session.hub.lastContactAt = this.#options.clock.now();
    const version = Number(frame.version);
    if (version > session.hubVersion) session.hubVersion = version;
    // Before the session's first sync is asked for, that sync covers what frames announce.
    if (version > this.replicator.cursor && this.#syncing.has(session)) {
      void this.replicator.sync(
        frame.blueprintId
          ? `notification of ${frame.blueprintId} at version ${version}`
          : `the hub is at version ${version}`,
        { untilVersion: version },
      );
    }
    this.#changed();
  }

  /** Make-before-break: opens a session with `hub` and subscribes, then leaves `current`. */
  async #failBack(current: Session, hub: HubRecord): Promise<void> {
    if (current !== this.#session || current.stop.signal.aborted) return;
    const session = await attemptHub(hub, this.#attempts);
    if (!session) return;
    if (current !== this.#session || current.stop.signal.aborted) {
      await closeSession(session, {
        context: this.#context,
        reason: DisconnectReason.CLIENT_REQUEST,
      });
      return;
    }
    await this.#subscribe(session);
    if (current !== this.#session || current.stop.signal.aborted) {
      await closeSession(session, {
        context: this.#context,
        reason: DisconnectReason.CLIENT_REQUEST,
      });
      return;
    }
    this.#endSession?.({ kind: "switch", to: session });
  }
}
