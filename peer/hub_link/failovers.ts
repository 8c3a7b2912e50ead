/**
 * The link's failovers: how many since start, and the last few (from, to,
 * why, when), as `GET /api/connection/status` shows them. A failover is
 * recorded when the peer leaves a hub; where it landed is filled in when the
 * next session opens.
 *
 * Each failover is a span `peer.hub.failover`, from leaving the hub until
 * the next session opened (its duration is the time without a hub), with
 * the hub left, the one landed on and why.
 *
 * @module
 */
import { inSpan, ROOT_CONTEXT } from "../../shared/telemetry/mod.ts";
import type { FailoverView } from "./status.ts";

/** Failovers kept. */
export const RECENT_FAILOVERS = 10;

/** Failovers; see the module documentation. */
export class FailoverLog {
  #count = 0;
  readonly #recent: FailoverView[] = [];
  /** Ends the span of the failover under way with where it landed (null: nowhere). */
  #land: ((to: string | null) => void) | undefined;

  /** Failovers since start. */
  get count(): number {
    return this.#count;
  }

  /** Records leaving the hub at `from` for `reason` at `at`. */
  left(from: string, reason: string, at: number): void {
    this.#count++;
    this.#recent.push({ from, to: null, reason, at });
    if (this.#recent.length > RECENT_FAILOVERS) this.#recent.shift();
    this.#land?.(null);
    const landed = Promise.withResolvers<string | null>();
    this.#land = landed.resolve;
    void inSpan("peer.hub.failover", async (span) => {
      span.setAttribute("sorcha.failover.to", await landed.promise ?? "");
    }, {
      parent: ROOT_CONTEXT,
      attributes: { "sorcha.failover.from": from, "sorcha.failover.reason": reason },
    });
  }

  /** Records where the last failover landed, unless known already. */
  landed(address: string): void {
    const last = this.#recent.at(-1);
    if (last && last.to === null) last.to = address;
    this.#land?.(address);
    this.#land = undefined;
  }

  /** Ends the span of a failover that has not landed (the link stops). */
  close(): void {
    this.#land?.(null);
    this.#land = undefined;
  }

  /** The last few, oldest first (copies). */
  recent(): FailoverView[] {
    return this.#recent.map((failover) => ({ ...failover }));
  }
}
