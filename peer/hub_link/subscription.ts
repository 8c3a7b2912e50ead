/**
 * The push subscription to the current hub: `SubscribeToPushNotifications`,
 * taken with `listen` (each notification handed over as it arrives). The
 * hub's first frame is a keep-alive: once it is here, the subscription is in
 * place and no later publication is missed, so the link subscribes before
 * its first sync. A stream that ends or fails is opened again after a few
 * seconds (jittered) while the session lasts; a new session subscribes at
 * once.
 *
 * @module
 */
import type { BlueprintNotification } from "../../gen/sorcha/peer/v1/system_register_sync_pb.ts";
import type { Clock } from "../../shared/clock.ts";
import { AppError, errorMessage } from "../../shared/errors.ts";
import type { Scheduler } from "../../shared/schedule.ts";
import type { Session } from "./session.ts";
import type { SubscriptionView } from "./status.ts";

/** The wait before subscribing again after a stream ended: 2 s to 5 s. */
export const RESUBSCRIBE_MIN_MS = 2000;
/** See {@link RESUBSCRIBE_MIN_MS}. */
export const RESUBSCRIBE_MAX_MS = 5000;

/** The subscription's figures (owned by the link, shown in its status). */
export class SubscriptionCounters {
  /** See {@link SubscriptionView.state}. */
  state: SubscriptionView["state"] = "down";
  /** When it entered that state. */
  since: number;
  /** Notifications received. */
  notifications = 0;
  /** When the last one came. */
  lastNotificationAt: number | undefined;
  /** Why it is down. */
  lastError: string | undefined;

  /** Counters starting down at `now`. */
  constructor(now: number) {
    this.since = now;
  }

  /** Moves to `state` at `now`. */
  enter(state: SubscriptionView["state"], now: number, error?: string): void {
    if (this.state !== state) this.since = now;
    this.state = state;
    if (error !== undefined) this.lastError = error;
    else if (state === "subscribed") this.lastError = undefined;
  }

  /** The status view. */
  view(): SubscriptionView {
    return {
      state: this.state,
      since: this.since,
      notifications: this.notifications,
      lastNotificationAt: this.lastNotificationAt ?? null,
      lastError: this.lastError ?? null,
    };
  }
}

/** Options of {@link runSubscription}. */
export interface SubscriptionOptions {
  /** This peer's id. */
  peerId: string;
  /** Figures (shared across sessions). */
  counters: SubscriptionCounters;
  /** Called with each frame: a notification, or a keep-alive (empty blueprint id) carrying the hub's version. */
  onFrame: (frame: BlueprintNotification) => void;
  /** Called once the first frame of the first stream arrived (the subscription is in place). */
  onReady: () => void;
  /** Called when a stream ended with an error (the link may log it). */
  onError: (error: AppError) => void;
  /** Time. */
  clock: Clock;
  /** Waits. */
  scheduler: Scheduler;
  /** Random numbers in [0, 1), for jitter. */
  random?: () => number;
}

/** Keeps a subscription to `session`'s hub open until the session ends. */
export async function runSubscription(
  session: Session,
  options: SubscriptionOptions,
): Promise<void> {
  const { counters, clock, scheduler } = options;
  const stop = session.stop.signal;
  const random = options.random ?? Math.random;
  let ready = false;
  while (!stop.aborted) {
    counters.enter("subscribing", clock.now());
    let failure: AppError | undefined;
    try {
      await session.client.sync.subscribeToPushNotifications({
        peerId: options.peerId,
        sessionId: session.sessionId,
        subscribeTime: BigInt(clock.now()),
      }, { signal: stop }).listen((frame) => {
        if (counters.state !== "subscribed") counters.enter("subscribed", clock.now());
        if (!ready) {
          ready = true;
          options.onReady();
        }
        if (frame.blueprintId !== "") {
          counters.notifications++;
          counters.lastNotificationAt = clock.now();
        }
        options.onFrame(frame);
      });
      failure = new AppError("unavailable", `Hub ${session.centralNodeId} ended the subscription`);
    } catch (error) {
      if (stop.aborted) break;
      failure = error instanceof AppError
        ? error
        : new AppError("unavailable", errorMessage(error));
    }
    if (stop.aborted) break;
    counters.enter("down", clock.now(), failure.message);
    options.onError(failure);
    // A rate-limited or full hub asks for patience: wait the longest.
    const spread = failure.code === "resource_exhausted" ? 1 : random();
    const delay = RESUBSCRIBE_MIN_MS + spread * (RESUBSCRIBE_MAX_MS - RESUBSCRIBE_MIN_MS);
    await scheduler.sleep(delay, stop);
  }
  // The link marks the subscription down when the session ends (a newer session may own it now).
}
