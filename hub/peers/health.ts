/**
 * Heartbeat health of a peer session, computed from the clock alone (no
 * timers): how many heartbeat intervals a peer has missed since its last
 * beat, and what that makes its health.
 *
 * The rule: a peer's next beat is due `interval` after its last one, with
 * `timeout` of grace. While `now ≤ lastHeartbeatAt + interval + timeout` it
 * has missed nothing; past that deadline it has missed
 * `1 + floor((now − deadline) / interval)` beats. 0 missed is "healthy",
 * 1 is "warning", 2 up to `maxMissed − 1` is "critical", and `maxMissed` or
 * more is "timeout": the session is dropped.
 *
 * @module
 */

/** Health of a live (not yet dropped) session. */
export type HeartbeatHealth = "healthy" | "warning" | "critical" | "timeout";

/** The timing that {@link missedAt} measures against. */
export interface HeartbeatTiming {
  /** How often a peer beats (ms). */
  intervalMs: number;
  /** Grace after a due beat before it counts as missed (ms). */
  timeoutMs: number;
}

/** Heartbeats missed by `now` by a session whose last beat was at `lastHeartbeatAt`. */
export function missedAt(lastHeartbeatAt: number, now: number, timing: HeartbeatTiming): number {
  const deadline = lastHeartbeatAt + timing.intervalMs + timing.timeoutMs;
  if (now <= deadline) return 0;
  return 1 + Math.floor((now - deadline) / timing.intervalMs);
}

/** The health that `missed` heartbeats give, with sessions dropped at `maxMissed`. */
export function healthFor(missed: number, maxMissed: number): HeartbeatHealth {
  if (missed >= maxMissed) return "timeout";
  if (missed === 0) return "healthy";
  if (missed === 1) return "warning";
  return "critical";
}

/** A short phrase for the missed count, e.g. "1 heartbeat missed". */
export function describeMissed(missed: number): string {
  if (missed === 0) return "no heartbeat missed";
  return `${missed} heartbeat${missed === 1 ? "" : "s"} missed`;
}
