/**
 * The link's failovers: how many since start, and the last few (from, to,
 * why, when), as `GET /api/connection/status` shows them. A failover is
 * recorded when the peer leaves a hub; where it landed is filled in when the
 * next session opens.
 *
 * @module
 */
import type { FailoverView } from "./status.ts";

/** Failovers kept. */
export const RECENT_FAILOVERS = 10;

/** Failovers; see the module documentation. */
export class FailoverLog {
  #count = 0;
  readonly #recent: FailoverView[] = [];

  /** Failovers since start. */
  get count(): number {
    return this.#count;
  }

  /** Records leaving the hub at `from` for `reason` at `at`. */
  left(from: string, reason: string, at: number): void {
    this.#count++;
    this.#recent.push({ from, to: null, reason, at });
    if (this.#recent.length > RECENT_FAILOVERS) this.#recent.shift();
  }

  /** Records where the last failover landed, unless known already. */
  landed(address: string): void {
    const last = this.#recent.at(-1);
    if (last && last.to === null) last.to = address;
  }

  /** The last few, oldest first (copies). */
  recent(): FailoverView[] {
    return this.#recent.map((failover) => ({ ...failover }));
  }
}
