/**
 * The hub's peer sessions: who is connected, with which session, and how
 * their heartbeats go. In memory, with an injected clock; health is computed
 * lazily from the clock (see `./health.ts` for the rule), a beat is scored
 * by `./heartbeat_scoring.ts`, statuses are read through
 * `./status_views.ts`, and {@link PeerSessions.sweep} drops timed-out
 * sessions when called.
 *
 * - A peer has at most one session; connecting again replaces it.
 * - A session whose health is "timeout" is treated as gone (not active, its
 *   beats are told to reconnect) even before a sweep removes it.
 * - The last {@link ENDED_SESSIONS_KEPT} dropped or disconnected peers
 *   are remembered, so their heartbeat status reads "disconnected".
 *
 * What a session is, in the contract's terms: `./session.ts`.
 *
 * @module
 */
import type { Clock } from "../../shared/clock.ts";
import { AppError } from "../../shared/errors.ts";
import { quoteInput } from "../../shared/quote.ts";
import { describeMissed, healthFor, type HeartbeatHealth, missedAt } from "./health.ts";
import {
  type HeartbeatInput,
  type HeartbeatOutcome,
  NO_BEATS,
  scoreHeartbeat,
  unknownBeat,
} from "./heartbeat_scoring.ts";
import {
  type ConnectedPeerView,
  connectedPeerView,
  endedStatusView,
  type HeartbeatStatusView,
  liveStatusView,
  type SessionFigures,
} from "./status_views.ts";
import type { ConnectInput, DisconnectReason, DroppedPeer, Session } from "./session.ts";

/** Default heartbeats missed after which a session is dropped. */
export const DEFAULT_MAX_MISSED = 3;
/** Default largest clock skew (ms) whose beats count for latency. */
export const DEFAULT_SKEW_LIMIT_MS = 60_000;
/** Default most peers connected at once. */
export const DEFAULT_MAX_PEERS = 10_000;
/** How many dropped or disconnected peers are remembered. */
export const ENDED_SESSIONS_KEPT = 1000;

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

interface EndedState {
  figures: SessionFigures;
  dropped: DroppedPeer;
}

function copySession(session: Session): Session {
  return { ...session, capabilities: { ...session.capabilities } };
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
  readonly #sessions = new Map<string, SessionFigures>();
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
    this.#sessions.set(input.peerId, { session, counters: NO_BEATS });
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
    if (!state) {
      return unknownBeat(
        `Peer "${beat.peerId}" has no session on this hub (the hub may have restarted)`,
        skewMs,
      );
    }
    const { session } = state;
    if (session.sessionId !== beat.sessionId) {
      return unknownBeat(
        `Session ${quoteInput(beat.sessionId)} is not the current session of peer "${beat.peerId}"`,
        skewMs,
      );
    }
    const missedBefore = this.#missed(state, now);
    if (healthFor(missedBefore, this.maxMissed) === "timeout") {
      this.#end(state, "heartbeat_timeout", now);
      return unknownBeat(
        `Session "${beat.sessionId}" of peer "${beat.peerId}" timed out after ${
          describeMissed(missedBefore)
        }`,
        skewMs,
      );
    }
    const scored = scoreHeartbeat(
      {
        lastSyncVersion: session.lastSyncVersion,
        isSyncing: session.isSyncing,
        counters: state.counters,
      },
      beat,
      { now, hubVersion: context.hubVersion, missedBefore, skewLimitMs: this.skewLimitMs },
    );
    session.lastHeartbeatAt = now;
    session.lastSyncVersion = scored.lastSyncVersion;
    session.isSyncing = scored.isSyncing;
    state.counters = scored.counters;
    return scored.outcome;
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

  /** How many live sessions have each health now (a timed-out one is not live). */
  countByHealth(): Record<Exclude<HeartbeatHealth, "timeout">, number> {
    const counts = { healthy: 0, warning: 0, critical: 0 };
    const now = this.#clock.now();
    for (const state of this.#sessions.values()) {
      const health = healthFor(this.#missed(state, now), this.maxMissed);
      if (health !== "timeout") counts[health]++;
    }
    return counts;
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
    return endedStatusView(ended.figures, { dropped: ended.dropped, ...context });
  }

  /** The heartbeat status of every live session. */
  heartbeatStatuses(context: { hubVersion: number }): HeartbeatStatusView[] {
    return this.#liveStates().map((state) => this.#status(state, context.hubVersion));
  }

  /** The live sessions as listed in the hub status. */
  connectedPeers(): ConnectedPeerView[] {
    const now = this.#clock.now();
    return this.#liveStates(now).map((state) =>
      connectedPeerView(state.session, healthFor(this.#missed(state, now), this.maxMissed))
    );
  }

  #missed(state: SessionFigures, now = this.#clock.now()): number {
    return missedAt(state.session.lastHeartbeatAt, now, {
      intervalMs: this.heartbeatIntervalMs,
      timeoutMs: this.heartbeatTimeoutMs,
    });
  }

  #live(peerId: string): SessionFigures | undefined {
    const state = this.#sessions.get(peerId);
    if (!state || healthFor(this.#missed(state), this.maxMissed) === "timeout") return undefined;
    return state;
  }

  #liveStates(now = this.#clock.now()): SessionFigures[] {
    return [...this.#sessions.values()].filter((state) =>
      healthFor(this.#missed(state, now), this.maxMissed) !== "timeout"
    );
  }

  #status(state: SessionFigures, hubVersion: number): HeartbeatStatusView {
    return liveStatusView(state, {
      missed: this.#missed(state),
      maxMissed: this.maxMissed,
      hubVersion,
    });
  }

  /** Removes a session, remembers it as ended (bounded) and reports a timeout drop. */
  #end(state: SessionFigures, reason: DisconnectReason, now = this.#clock.now()): DroppedPeer {
    const dropped: DroppedPeer = {
      peerId: state.session.peerId,
      sessionId: state.session.sessionId,
      lastHeartbeatAt: state.session.lastHeartbeatAt,
      missedHeartbeats: this.#missed(state, now),
      droppedAt: now,
      reason,
    };
    this.#sessions.delete(dropped.peerId);
    this.#ended.delete(dropped.peerId);
    this.#ended.set(dropped.peerId, { figures: state, dropped });
    if (this.#ended.size > ENDED_SESSIONS_KEPT) {
      const oldest = this.#ended.keys().next();
      if (!oldest.done) this.#ended.delete(oldest.value);
    }
    if (reason === "heartbeat_timeout") this.#onDropped?.(dropped);
    return dropped;
  }
}
