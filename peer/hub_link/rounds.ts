/**
 * Connection attempts: one on one hub (`attemptHub`), and a round over the
 * hubs from a starting one (`connectRound`): each hub once, in priority
 * order, wrapping around, each attempt within the connection deadline; the
 * first session opened ends the round. RESOURCE_EXHAUSTED (the hub's rate
 * limit) means "alive, slow down": that hub is tried once more after 1–2 s
 * before the round moves on. Each hub's first failure in a row is logged at
 * info, the next ones at debug. Each attempt is a span `peer.hub.connect`.
 *
 * @module
 */
import { AppError } from "../../shared/errors.ts";
import { failSpan, inSpan } from "../../shared/telemetry/mod.ts";
import type { HubDirectory, HubRecord } from "./hubs.ts";
import { openSession, type Session, type SessionContext } from "./session.ts";

/** What attempts need. */
export interface AttemptOptions {
  /** The hubs and their states. */
  hubs: HubDirectory;
  /** Opening sessions. */
  context: SessionContext;
  /** The replica's version, told to the hub. */
  cursor: () => number;
  /** Aborts attempts (the link stops). */
  signal: AbortSignal;
  /** Random numbers in [0, 1), for the wait after a rate limit. */
  random: () => number;
  /** Told when a hub's state changes. */
  onChange: () => void;
}

/** One attempt on `hub` (two after a rate limit); the session, or undefined when it failed. */
export async function attemptHub(
  hub: HubRecord,
  options: AttemptOptions,
): Promise<Session | undefined> {
  const { hubs, context, signal } = options;
  const { clock, scheduler, logger } = context;
  for (let tries = 1; tries <= 2; tries++) {
    hub.state = "connecting";
    options.onChange();
    const attempt = await inSpan("peer.hub.connect", async (span) => {
      try {
        const session = await openSession(hub, { context, cursor: options.cursor(), signal });
        hubs.answered(hub, clock.now(), session.centralNodeId);
        span.setAttributes({
          "sorcha.hub.id": session.centralNodeId,
          "sorcha.connect.outcome": "ok",
        });
        return session;
      } catch (error) {
        const failure = error instanceof AppError
          ? error
          : new AppError("unavailable", String(error));
        const rateLimited = failure.code === "resource_exhausted";
        span.setAttribute("sorcha.connect.outcome", rateLimited ? "rate-limited" : "failed");
        failSpan(span, failure);
        hubs.failed(hub, failure.message, { at: clock.now(), rateLimited });
        options.onChange();
        return { rateLimited, failure };
      }
    }, { attributes: connectAttributes(hub, tries) });
    if (!("rateLimited" in attempt)) return attempt;
    if (signal.aborted) return undefined;
    const fields = { hub: hubs.name(hub), error: attempt.failure.message };
    if (hub.consecutiveFailures === 1) {
      logger.info("Cannot connect to hub {hub}: {error}", fields);
    } else logger.debug("Cannot connect to hub {hub}: {error}", fields);
    if (!attempt.rateLimited || tries === 2) return undefined;
    await scheduler.sleep(1000 + 1000 * options.random(), signal);
  }
  return undefined;
}

/** The attributes a `peer.hub.connect` span starts with (the hub's id once it is known). */
function connectAttributes(hub: HubRecord, attempt: number): Record<string, string | number> {
  return {
    "sorcha.hub.address": hub.address,
    "sorcha.hub.id": hub.centralNodeId ?? "",
    "sorcha.hub.priority": hub.priority,
    "sorcha.connect.attempt": attempt,
  };
}

/** One round from the hub at `start`: the first session opened, if any hub opens one. */
export async function connectRound(
  start: number,
  options: AttemptOptions,
): Promise<Session | undefined> {
  for (const hub of options.hubs.round(start)) {
    if (options.signal.aborted) return undefined;
    const session = await attemptHub(hub, options);
    if (session) return session;
  }
  return undefined;
}
