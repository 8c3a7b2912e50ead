/**
 * The hub's peer sessions: who is connected, with which session, and how
 * their heartbeats go. Pure in-memory logic with an injected clock; health
 * is computed lazily from the clock (see `./health.ts` for the rule), and
 * {@link PeerSessions.sweep} drops timed-out sessions when called.
 *
 * - A peer has at most one session; connecting again replaces it.
 * - Heartbeat sequence numbers are monotonic per session: a beat whose
 *   number is not above the highest seen refreshes liveness but is not
 *   counted (totals, latency, sync version).
 * - Skew is `hub now − beat timestamp`. Beyond `skewLimitMs` the beat is
 *   accepted, the skew is reported in the status message and the beat gives
 *   no latency sample; otherwise `max(0, skew)` is a latency sample (the
 *   average is over the last {@link LATENCY_SAMPLES}).
 * - A session whose health is "timeout" is treated as gone (not active, its
 *   beats are told to reconnect) even before a sweep removes it.
 * - The last {@link ENDED_SESSIONS_KEPT} dropped or disconnected peers
 *   are remembered, so their heartbeat status reads "disconnected".
 *
 * @module
 */
import type { Clock } from "../../shared/clock.ts";
import { AppError } from "../../shared/errors.ts";
import { quoteInput } from "../../shared/quote.ts";
import { describeMissed, healthFor, type HeartbeatHealth, missedAt } from "./health.ts";

export type { HeartbeatHealth } from "./health.ts";

/** Default heartbeats missed after which a session is dropped. */
export const DEFAULT_MAX_MISSED = 3;
/** Default largest clock skew (ms) whose beats count for latency. */
export const DEFAULT_SKEW_LIMIT_MS = 60_000;
/** Default most peers connected at once. */
export const DEFAULT_MAX_PEERS = 10_000;
/** How many dropped or disconnected peers are remembered. */
export const ENDED_SESSIONS_KEPT = 1000;
/** How many latency samples the average is over. */
export const LATENCY_SAMPLES = 10;

/** Why a session ended (the proto `DisconnectReason`, as a string). */
export type DisconnectReason =
  | "unknown"
  | "shutdown"
  | "heartbeat_timeout"
  | "failover"
  | "error"
  | "client_request";

/** What a peer can do (the proto `PeerCapabilities`). */
export interface PeerCapabilities {
  /** Whether it takes push notifications. */
  supportsPushNotifications: boolean;
  /** Whether it can sync incrementally. */
  supportsIncrementalSync: boolean;
  /** Largest blueprint it accepts (bytes). */
  maxBlueprintSize: number;
  /** Whether it is behind a NAT. */
  isNatRestricted: boolean;
}

/** A peer's connect request. */
export interface ConnectInput {
  /** The peer's id. */
  peerId: string;
  /** Its address. */
  address: string;
  /** Its port. */
  port: number;
  /** Its node type ("Peer"). */
  nodeType: string;
  /** What it can do. */
  capabilities: PeerCapabilities;
  /** The last system-register version it holds (0 on a first connect). */
  lastKnownVersion: number;
  /** The peer's clock at connect (ms since the epoch). */
  connectionTime: number;
}

/** A peer's current session. */
export interface Session {
  /** The peer's id. */
  peerId: string;
  /** The session's id (a random UUID). */
  sessionId: string;
  /** The peer's address. */
  address: string;
  /** The peer's port. */
  port: number;
  /** The peer's node type. */
  nodeType: string;
  /** What the peer can do. */
  capabilities: PeerCapabilities;
  /** The peer's clock at connect. */
  connectionTime: number;
  /** When the hub accepted the connection (hub clock). */
  connectedAt: number;
  /** The last heartbeat of this session, counted or not (hub clock; `connectedAt` at first). */
  lastHeartbeatAt: number;
  /** The system-register version the peer last reported or synced to. */
  lastSyncVersion: number;
  /** Whether its last counted beat said it was syncing. */
  isSyncing: boolean;
}

/** A heartbeat of a peer (the parts of `HeartbeatMessage` the hub uses). */
export interface HeartbeatInput {
  /** The peer's id. */
  peerId: string;
  /** The session it beats for. */
  sessionId: string;
  /** The peer's clock when it sent the beat (ms since the epoch). */
  timestamp: number;
  /** Monotonic per session. */
  sequenceNumber: number;
  /** The system-register version the peer holds. */
  lastSyncVersion: number;
  /** Whether the peer is syncing. */
  isSyncing?: boolean;
}

/** What the hub should do about a peer (the proto `RecommendedAction`, as a string). */
export type RecommendedAction = "none" | "sync" | "reconnect";

/** What a heartbeat did and what to answer. */
export interface HeartbeatOutcome {
  /** Whether the beat is for the peer's current session (if not, nothing was recorded). */
  known: boolean;
  /** Whether it counted (a new, higher sequence number). */
  counted: boolean;
  /** How many versions the peer is behind the hub. */
  versionLag: number;
  /** What the peer should do. */
  action: RecommendedAction;
  /** Hub clock minus the beat's timestamp (ms). */
  skewMs: number;
  /** Heartbeats missed before this one (added to the session's total). */
  missedBefore: number;
  /** A message for the peer. */
  message: string;
}

/** Health as reported: a live session's, or "disconnected" for one that ended. */
export type HeartbeatStatusHealth = HeartbeatHealth | "disconnected";

/** A peer's heartbeat status (the proto `HeartbeatStatus`). */
export interface HeartbeatStatusView {
  /** The peer's id. */
  peerId: string;
  /** Its (last) session's id. */
  sessionId: string;
  /** Its last heartbeat (hub clock). */
  lastHeartbeatTime: number;
  /** Heartbeats missed now (at the drop, for a peer that timed out). */
  missedHeartbeats: number;
  /** Whether its health is "healthy". */
  isHealthy: boolean;
  /** Health, skew and lag in words. */
  statusMessage: string;
  /** Beats counted in the session. */
  totalReceived: number;
  /** Beats missed in the session, including those missed now. */
  totalMissed: number;
  /** Average latency over the last {@link LATENCY_SAMPLES} samples (0 without samples). */
  averageLatencyMs: number;
  /** The version the peer last reported or synced to. */
  lastKnownSyncVersion: number;
  /** How many versions it is behind the hub. */
  versionLag: number;
  /** Its health. */
  health: HeartbeatStatusHealth;
}

/** A connected peer as listed in the hub status (the proto `ConnectedPeerInfo`). */
export interface ConnectedPeerView {
  /** The peer's id. */
  peerId: string;
  /** Its session's id. */
  sessionId: string;
  /** When it connected. */
  connectedAt: number;
  /** Its last heartbeat. */
  lastHeartbeatAt: number;
  /** The version it last reported or synced to. */
  lastSyncVersion: number;
  /** "heartbeat_timeout" while it misses beats, else "syncing" if its last beat said so. */
  status: "connected" | "heartbeat_timeout" | "syncing";
}

/** A session that ended: dropped by a timeout or disconnected. */
export interface DroppedPeer {
  /** The peer's id. */
  peerId: string;
  /** The session that ended. */
  sessionId: string;
  /** Its last heartbeat. */
  lastHeartbeatAt: number;
  /** Heartbeats missed when it ended. */
  missedHeartbeats: number;
  /** When it ended (hub clock). */
  droppedAt: number;
  /** Why. */
  reason: DisconnectReason;
}

/** Options of {@link PeerSessions}. */
export interface PeerSessionsOptions {
  /** Time source. */
  clock: Clock;
  /** How often peers beat (ms). */
  heartbeatIntervalMs: number;
  /** Grace after a due beat before it counts as missed (ms). */
  heartbeatTimeoutMs: number;
  /** Heartbeats missed after which a session is dropped (default {@link DEFAULT_MAX_MISSED}). */
  maxMissed?: number;
  /** Largest skew (ms) whose beats count for latency (default {@link DEFAULT_SKEW_LIMIT_MS}). */
  skewLimitMs?: number;
  /** Most peers connected at once (default {@link DEFAULT_MAX_PEERS}). */
  maxPeers?: number;
  /** Called for every session dropped by a timeout (by a sweep, a connect or a late beat). */
  onDropped?: (dropped: DroppedPeer) => void;
}

interface SessionState {
  session: Session;
  highestSequence: number | undefined;
  totalReceived: number;
  totalMissed: number;
  latencies: number[];
  /** The skew of the last counted beat, when beyond the limit. */
  excessiveSkewMs: number | undefined;
}

interface EndedState {
  state: SessionState;
  dropped: DroppedPeer;
}

function copySession(session: Session): Session {
  return { ...session, capabilities: { ...session.capabilities } };
}

function describeSkew(skewMs: number): string {
  const seconds = Math.round(Math.abs(skewMs) / 1000);
  return `clock off by ${seconds} s (peer ${skewMs < 0 ? "ahead" : "behind"})`;
}

function average(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;
}

function positiveInteger(name: string, value: number, minimum: number): number {
  if (!Number.isInteger(value) || value < minimum) {
    throw new RangeError(`PeerSessions: ${name} must be an integer ≥ ${minimum}, got ${value}`);
  }
  return value;
}

/** The hub's peer sessions and heartbeats; see the module documentation. */
export class PeerSessions {
  /** How often peers beat (ms). */
  readonly heartbeatIntervalMs: number;
  /** Grace after a due beat (ms). */
  readonly heartbeatTimeoutMs: number;
  /** Heartbeats missed after which a session is dropped. */
  readonly maxMissed: number;
  /** Largest skew (ms) whose beats count for latency. */
  readonly skewLimitMs: number;
  /** Most peers connected at once. */
  readonly maxPeers: number;
  readonly #clock: Clock;
  readonly #onDropped: ((dropped: DroppedPeer) => void) | undefined;
  readonly #sessions = new Map<string, SessionState>();
  readonly #ended = new Map<string, EndedState>();

  /** Creates an empty set of sessions. */
  constructor(options: PeerSessionsOptions) {
    this.#clock = options.clock;
    this.heartbeatIntervalMs = positiveInteger(
      "heartbeatIntervalMs",
      options.heartbeatIntervalMs,
      1,
    );
    this.heartbeatTimeoutMs = positiveInteger("heartbeatTimeoutMs", options.heartbeatTimeoutMs, 0);
    this.maxMissed = positiveInteger("maxMissed", options.maxMissed ?? DEFAULT_MAX_MISSED, 1);
    this.skewLimitMs = positiveInteger(
      "skewLimitMs",
      options.skewLimitMs ?? DEFAULT_SKEW_LIMIT_MS,
      0,
    );
    this.maxPeers = positiveInteger("maxPeers", options.maxPeers ?? DEFAULT_MAX_PEERS, 1);
    this.#onDropped = options.onDropped;
  }

  /**
   * Opens a session for a peer, replacing any session it had. Throws
   * `resource_exhausted` when {@link maxPeers} other peers are connected.
   */
  connect(input: ConnectInput): Session {
    if (!this.#sessions.has(input.peerId) && this.#sessions.size >= this.maxPeers) {
      this.sweep();
      if (this.#sessions.size >= this.maxPeers) {
        throw new AppError(
          "resource_exhausted",
          `Cannot connect peer "${input.peerId}": the hub already serves its limit of ${this.maxPeers} peers`,
          { details: { maxPeers: this.maxPeers } },
        );
      }
    }
    const now = this.#clock.now();
    const session: Session = {
      peerId: input.peerId,
      sessionId: crypto.randomUUID(),
      address: input.address,
      port: input.port,
      nodeType: input.nodeType,
      capabilities: { ...input.capabilities },
      connectionTime: input.connectionTime,
      connectedAt: now,
      lastHeartbeatAt: now,
      lastSyncVersion: input.lastKnownVersion,
      isSyncing: false,
    };
    this.#ended.delete(input.peerId);
    this.#sessions.set(input.peerId, {
      session,
      highestSequence: undefined,
      totalReceived: 0,
      totalMissed: 0,
      latencies: [],
      excessiveSkewMs: undefined,
    });
    return copySession(session);
  }

  /**
   * Ends a peer's current session. Throws `not_found` when the peer is not
   * connected or `sessionId` is not its current session (nothing changes then).
   */
  disconnect(
    input: { peerId: string; sessionId: string; reason: DisconnectReason },
  ): { disconnectedAt: number } {
    const state = this.#sessions.get(input.peerId);
    if (!state) {
      throw new AppError(
        "not_found",
        `Cannot disconnect peer "${input.peerId}": it is not connected`,
      );
    }
    if (state.session.sessionId !== input.sessionId) {
      throw new AppError(
        "not_found",
        `Cannot disconnect peer "${input.peerId}": session ${
          quoteInput(input.sessionId)
        } is not its current session`,
      );
    }
    const ended = this.#end(state, input.reason);
    return { disconnectedAt: ended.droppedAt };
  }

  /** The peer's current session, unless it has none or it timed out. */
  session(peerId: string): Session | undefined {
    const state = this.#live(peerId);
    return state ? copySession(state.session) : undefined;
  }

  /**
   * The peer's current session, checked against `sessionId`. Throws
   * `not_found` when the peer has no live session or it is another one.
   */
  requireSession(peerId: string, sessionId: string): Session {
    const state = this.#sessions.get(peerId);
    if (!state) {
      throw new AppError("not_found", `Peer "${peerId}" is not connected: connect first`);
    }
    if (state.session.sessionId !== sessionId) {
      throw new AppError(
        "not_found",
        `Session ${
          quoteInput(sessionId)
        } is not the current session of peer "${peerId}": reconnect`,
      );
    }
    const missed = this.#missed(state);
    if (healthFor(missed, this.maxMissed) === "timeout") {
      throw new AppError(
        "not_found",
        `Session "${sessionId}" of peer "${peerId}" timed out after ${
          describeMissed(missed)
        }: reconnect`,
      );
    }
    return copySession(state.session);
  }

  /**
   * Records a heartbeat against the hub at `hubVersion`. A beat for no live
   * session records nothing and asks the peer to reconnect.
   */
  recordHeartbeat(beat: HeartbeatInput, context: { hubVersion: number }): HeartbeatOutcome {
    const now = this.#clock.now();
    const skewMs = now - beat.timestamp;
    const state = this.#sessions.get(beat.peerId);
    const unknown = (why: string): HeartbeatOutcome => ({
      known: false,
      counted: false,
      versionLag: 0,
      action: "reconnect",
      skewMs,
      missedBefore: 0,
      message: `${why}: reconnect`,
    });
    if (!state) {
      return unknown(
        `Peer "${beat.peerId}" has no session on this hub (the hub may have restarted)`,
      );
    }
    if (state.session.sessionId !== beat.sessionId) {
      return unknown(
        `Session ${quoteInput(beat.sessionId)} is not the current session of peer "${beat.peerId}"`,
      );
    }
    const missedBefore = this.#missed(state, now);
    if (healthFor(missedBefore, this.maxMissed) === "timeout") {
      this.#end(state, "heartbeat_timeout", now);
      return unknown(
        `Session "${beat.sessionId}" of peer "${beat.peerId}" timed out after ${
          describeMissed(missedBefore)
        }`,
      );
    }

    const session = state.session;
    state.totalMissed += missedBefore;
    session.lastHeartbeatAt = now;
    const counted = state.highestSequence === undefined ||
      beat.sequenceNumber > state.highestSequence;
    if (counted) {
      state.highestSequence = beat.sequenceNumber;
      state.totalReceived++;
      session.lastSyncVersion = beat.lastSyncVersion;
      session.isSyncing = beat.isSyncing ?? false;
      if (Math.abs(skewMs) > this.skewLimitMs) {
        state.excessiveSkewMs = skewMs;
      } else {
        state.excessiveSkewMs = undefined;
        state.latencies.push(Math.max(0, skewMs));
        if (state.latencies.length > LATENCY_SAMPLES) state.latencies.shift();
      }
    }

    const versionLag = Math.max(0, context.hubVersion - session.lastSyncVersion);
    const parts: string[] = [];
    let action: RecommendedAction = "none";
    if (session.lastSyncVersion > context.hubVersion) {
      action = "sync";
      parts.push(
        `version ${session.lastSyncVersion} is ahead of the hub's ${context.hubVersion}: reset with a full sync`,
      );
    } else if (versionLag > 0) {
      action = "sync";
      parts.push(`${versionLag} version(s) behind the hub's ${context.hubVersion}: sync`);
    } else {
      parts.push("up to date");
    }
    if (!counted) {
      parts.push(
        `sequence number ${beat.sequenceNumber} is not above ${state.highestSequence}: not counted`,
      );
    }
    if (Math.abs(skewMs) > this.skewLimitMs) parts.push(describeSkew(skewMs));
    return {
      known: true,
      counted,
      versionLag,
      action,
      skewMs,
      missedBefore,
      message: parts.join("; "),
    };
  }

  /** Moves a peer's sync version (a sync stream to it completed). Returns whether it has a live session. */
  markSyncVersion(peerId: string, version: number): boolean {
    const state = this.#live(peerId);
    if (!state) return false;
    state.session.lastSyncVersion = version;
    return true;
  }

  /** Drops the sessions that timed out and returns them (also reported to `onDropped`). */
  sweep(): DroppedPeer[] {
    const now = this.#clock.now();
    const dropped: DroppedPeer[] = [];
    for (const state of [...this.#sessions.values()]) {
      if (healthFor(this.#missed(state, now), this.maxMissed) === "timeout") {
        dropped.push(this.#end(state, "heartbeat_timeout", now));
      }
    }
    return dropped;
  }

  /** The live sessions (those that timed out are left out, swept or not). */
  active(): Session[] {
    return this.#liveStates().map((state) => copySession(state.session));
  }

  /** How many sessions are live. */
  activeCount(): number {
    return this.#liveStates().length;
  }

  /**
   * A peer's heartbeat status against the hub at `hubVersion`: its live
   * session's, "timeout" for one timed out but not swept yet,
   * "disconnected" for a recently ended one, undefined for an unknown peer.
   */
  heartbeatStatus(
    peerId: string,
    context: { hubVersion: number },
  ): HeartbeatStatusView | undefined {
    const state = this.#sessions.get(peerId);
    if (state) return this.#status(state, context.hubVersion);
    const ended = this.#ended.get(peerId);
    if (!ended) return undefined;
    const { state: last, dropped } = ended;
    const versionLag = Math.max(0, context.hubVersion - last.session.lastSyncVersion);
    return {
      ...this.#totals(last, dropped.missedHeartbeats, versionLag),
      isHealthy: false,
      statusMessage: `disconnected (${dropped.reason}) at ${
        new Date(dropped.droppedAt).toISOString()
      }`,
      health: "disconnected",
    };
  }

  /** The heartbeat status of every live session. */
  heartbeatStatuses(context: { hubVersion: number }): HeartbeatStatusView[] {
    return this.#liveStates().map((state) => this.#status(state, context.hubVersion));
  }

  /** The live sessions as listed in the hub status. */
  connectedPeers(): ConnectedPeerView[] {
    const now = this.#clock.now();
    return this.#liveStates(now).map((state) => {
      const session = state.session;
      const health = healthFor(this.#missed(state, now), this.maxMissed);
      const status = health !== "healthy"
        ? "heartbeat_timeout"
        : session.isSyncing
        ? "syncing"
        : "connected";
      return {
        peerId: session.peerId,
        sessionId: session.sessionId,
        connectedAt: session.connectedAt,
        lastHeartbeatAt: session.lastHeartbeatAt,
        lastSyncVersion: session.lastSyncVersion,
        status,
      };
    });
  }

  #missed(state: SessionState, now = this.#clock.now()): number {
    return missedAt(state.session.lastHeartbeatAt, now, {
      intervalMs: this.heartbeatIntervalMs,
      timeoutMs: this.heartbeatTimeoutMs,
    });
  }

  #live(peerId: string): SessionState | undefined {
    const state = this.#sessions.get(peerId);
    if (!state || healthFor(this.#missed(state), this.maxMissed) === "timeout") return undefined;
    return state;
  }

  #liveStates(now = this.#clock.now()): SessionState[] {
    return [...this.#sessions.values()].filter((state) =>
      healthFor(this.#missed(state, now), this.maxMissed) !== "timeout"
    );
  }

  #totals(
    state: SessionState,
    missedNow: number,
    versionLag: number,
  ): Omit<HeartbeatStatusView, "isHealthy" | "statusMessage" | "health"> {
    return {
      peerId: state.session.peerId,
      sessionId: state.session.sessionId,
      lastHeartbeatTime: state.session.lastHeartbeatAt,
      missedHeartbeats: missedNow,
      totalReceived: state.totalReceived,
      totalMissed: state.totalMissed + missedNow,
      averageLatencyMs: average(state.latencies),
      lastKnownSyncVersion: state.session.lastSyncVersion,
      versionLag,
    };
  }

  #status(state: SessionState, hubVersion: number): HeartbeatStatusView {
    const missed = this.#missed(state);
    const health = healthFor(missed, this.maxMissed);
    const versionLag = Math.max(0, hubVersion - state.session.lastSyncVersion);
    const parts: string[] = [
      health === "healthy"
        ? "healthy"
        : health === "timeout"
        ? `timed out: ${describeMissed(missed)}`
        : `${health}: ${describeMissed(missed)}`,
    ];
    if (state.excessiveSkewMs !== undefined) parts.push(describeSkew(state.excessiveSkewMs));
    if (versionLag > 0) parts.push(`${versionLag} version(s) behind`);
    return {
      ...this.#totals(state, missed, versionLag),
      isHealthy: health === "healthy",
      statusMessage: parts.join("; "),
      health,
    };
  }

  /** Removes a session, remembers it as ended (bounded) and reports a timeout drop. */
  #end(state: SessionState, reason: DisconnectReason, now = this.#clock.now()): DroppedPeer {
    const missed = this.#missed(state, now);
    const dropped: DroppedPeer = {
      peerId: state.session.peerId,
      sessionId: state.session.sessionId,
      lastHeartbeatAt: state.session.lastHeartbeatAt,
      missedHeartbeats: missed,
      droppedAt: now,
      reason,
    };
    this.#sessions.delete(dropped.peerId);
    this.#ended.delete(dropped.peerId);
    this.#ended.set(dropped.peerId, { state, dropped });
    if (this.#ended.size > ENDED_SESSIONS_KEPT) {
      const oldest = this.#ended.keys().next();
      if (!oldest.done) this.#ended.delete(oldest.value);
    }
    if (reason === "heartbeat_timeout") this.#onDropped?.(dropped);
    return dropped;
  }
}
