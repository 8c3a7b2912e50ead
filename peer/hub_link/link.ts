/**
 * The peer's link to the hubs (seed 004): one session with one hub at a
 * time, heartbeats, failover, fail-back, isolated mode, and the replica of
 * the system register (`replicator.ts`). See specs/hub-link/README.md.
 * Each connected session is served by an object of its own
 * (`served_session.ts`: subscription, heartbeats, notifications, fail-back
 * probes); this file runs the rounds and decides what comes after a session.
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
 *   the hub recommends FAILOVER (when: `hub_advice.ts`), or to fail back to
 *   a hub above it that proved steady (`failback.ts`). RECONNECT (the hub
 *   lost the session) opens a new session, starting with the same hub.
 * - **Failover** (`#serve` below): the hub is marked failed, the failover
 *   logged (`failovers.ts`), the hub told, and the next round
 *   (`rounds.ts`) starts at the hub after it.
 * - **Order on connect.** Subscribe to notifications first, then sync, so
 *   nothing published in between is missed.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import { type Backoff, createBackoff } from "../../shared/backoff.ts";
import type { Clock } from "../../shared/clock.ts";
import { AppError, errorMessage } from "../../shared/errors.ts";
import type { Scheduler } from "../../shared/schedule.ts";
import type { HubLinkConfig } from "../config.ts";
import type { ReplicaStore } from "../replica/mod.ts";
import { ConnectionStateTracker } from "./connection_state.ts";
import { HeartbeatCounters } from "./heartbeats.ts";
import { HealthMetrics } from "./health_metrics.ts";
import type { SessionEnd } from "./hub_advice.ts";
import type { HubClient } from "./hub_client.ts";
import { HubClients } from "./hub_clients.ts";
import { HubDirectory } from "./hubs.ts";
import { type AttemptOptions, connectRound } from "./rounds.ts";
import type { LinkRecorder } from "./recorder.ts";
import { Replicator } from "./replicator.ts";
import { ServedSession, type ServedSessionLink } from "./served_session.ts";
import { closeSession, DisconnectReason, type Session, type SessionContext } from "./session.ts";
import { FailoverLog } from "./failovers.ts";
import type { ConnectionState, HubLinkStatus, SyncResult } from "./status.ts";
import { SubscriptionCounters } from "./subscription.ts";

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
  /** Records heartbeat latencies and syncs (the link process's metrics); nothing by default. */
  recorder?: LinkRecorder;
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
  /** The serving of each session, created on first use (a fail-back subscribes before it is current). */
  readonly #served = new WeakMap<Session, ServedSession>();
  readonly #startedAt: number;
  readonly #state: ConnectionStateTracker;
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
    this.#state = new ConnectionStateTracker(options.clock, this.#startedAt);
    this.#heartbeats = new HeartbeatCounters({
      intervalMs: options.config.heartbeatIntervalMs,
      timeoutMs: options.config.heartbeatTimeoutMs,
      maxMissed: options.config.heartbeatMaxMissed,
      recorder: options.recorder,
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
      recorder: options.recorder,
      ...(options.random ? { random: options.random } : {}),
      onChange: () => this.#state.changed(),
    });
  }

  /** The connection state. */
  get state(): ConnectionState {
    return this.#state.state;
  }

  /** Starts connecting (once). */
  start(): void {
    this.#running ??= this.#run().catch((error) => {
      this.#options.logger.error("The hub link stopped: {error}", { error: errorMessage(error) });
    });
  }

  /** Calls `listener` after every change of what {@link HubLink.status} shows; returns an unsubscribe. */
  onChange(listener: () => void): () => void {
    return this.#state.onChange(listener);
  }

  /** Syncs now (`POST /api/sync/trigger`); `full` replaces the replica. Throws `unavailable` with no hub. */
  sync(options: { full: boolean }): Promise<SyncResult> {
    if (!this.#session) {
      const since = this.#state.isolatedSince ?? this.#state.since;
      return Promise.reject(
        new AppError(
          "unavailable",
          `Cannot sync the system register: no hub is connected (${this.#state.state} since ${
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
      state: this.#state.state,
      stateSince: this.#state.since,
      isolatedSince: this.#state.isolatedSince ?? null,
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
    this.#failovers.close();
    if (!options.keepChannels) this.#clients.close();
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
    await this.replicator.loadPatiently(this.#stop.signal);
    if (stop.aborted) return;
    const periodic = scheduler.every("hub link periodic sync", config.syncIntervalMs, async () => {
      if (this.#session) await this.replicator.sync("periodic").catch(() => {});
    }, { signal: stop });
    this.replicator.nextSyncDue = () => periodic.nextRunAt();
    logger.info("Linking to hubs {hubs} (in this order)", {
      hubs: config.hubs.map((hub) => hub.address).join(", "),
    });
    this.#state.set("Connecting");
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
    this.#state.set("Disconnected");
  }

  get #attempts(): AttemptOptions {
    return {
      hubs: this.#hubs,
      context: this.#context,
      cursor: () => this.replicator.cursor,
      signal: this.#stop.signal,
      random: this.#options.random ?? Math.random,
      onChange: () => this.#state.changed(),
    };
  }

  #isolated(): void {
    if (this.#state.isolatedSince === undefined) {
      this.#state.isolatedSince = this.#options.clock.now();
      const checkpoint = this.replicator.checkpoint;
      this.#options.logger.warning(
        "Isolated: no hub of {hubs} answered; serving the system register replica at version {version} (last synced {synced}) and trying again with backoff",
        {
          hubs: this.#options.config.hubs.map((hub) => hub.address).join(", "),
          version: checkpoint?.version ?? 0,
          synced: checkpoint ? new Date(checkpoint.lastSyncAt).toISOString() : "never",
        },
      );
    }
    this.#state.set("Isolated");
  }

  /** Serves `first` (and the hubs it fails back to) until it ends; says where the next round starts. */
  async #serve(first: Session): Promise<{ next: number; heldMs: number }> {
    const { clock, logger } = this.#options;
    let session = first;
    while (true) {
      this.#session = session;
      this.#failovers.landed(session.hub.address);
      const ended = Promise.withResolvers<SessionEnd>();
      this.#endSession = (end) => ended.resolve(end);
      await this.#serving(session).begin();
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
        this.#state.set("Connecting");
        return { next: session.hub.priority, heldMs };
      }
      this.#hubs.failed(session.hub, end.reason, { at: clock.now() });
      this.#failovers.left(session.hub.address, end.reason, clock.now());
      logger.warning("Failing over from hub {hub}: {reason}", {
        hub: this.#hubs.name(session.hub),
        reason: end.reason,
      });
      void closeSession(session, { context: this.#context, reason: end.disconnect });
      this.#state.set("Connecting");
      return { next: session.hub.priority + (end.sameHubFirst ? 0 : 1), heldMs };
    }
  }

  /** The serving of `session`, created on first use. */
  #serving(session: Session): ServedSession {
    let served = this.#served.get(session);
    if (!served) {
      served = new ServedSession(session, this.#servedLink);
      this.#served.set(session, served);
    }
    return served;
  }

  /** What the sessions this link serves need from it. */
  get #servedLink(): ServedSessionLink {
    const { peerId, config, clock, scheduler, logger, random } = this.#options;
    return {
      peerId,
      config,
      hubs: this.#hubs,
      clients: this.#clients,
      replicator: this.replicator,
      state: this.#state,
      heartbeats: this.#heartbeats,
      subscription: this.#subscription,
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
      logger,
      ...(random ? { random } : {}),
      current: () => this.#session,
      end: (end) => this.#endSession?.(end),
      attempts: () => this.#attempts,
      context: () => this.#context,
      serving: (session) => this.#serving(session),
    };
  }
}
