/**
 * The metrics of the hub's push notifications, observed from the
 * broadcaster's own figures at each export (nothing is counted twice).
 *
 * @module
 */
import type { ServiceMetrics } from "../../shared/telemetry/mod.ts";
import type { NotificationBroadcaster } from "./broadcaster.ts";

/**
 * Defines on `metrics`: `sorcha_hub_subscribers` (open subscriptions),
 * `sorcha_hub_notifications_delivered_total` and
 * `sorcha_hub_notifications_dropped_total`, read from `broadcaster`.
 */
export function defineNotificationMetrics(
  metrics: ServiceMetrics,
  broadcaster: NotificationBroadcaster,
): void {
  metrics.gauge({
    name: "sorcha_hub_subscribers",
    help: "Push-notification subscriptions open on this hub now.",
    observe: () => broadcaster.size,
  });
  metrics.observedCounter({
    name: "sorcha_hub_notifications_delivered_total",
    help:
      "Notifications of publications written to subscribers' streams (one per subscriber per publication; keep-alives aside).",
    observe: () => broadcaster.delivered,
  });
  metrics.observedCounter({
    name: "sorcha_hub_notifications_dropped_total",
    help:
      "Subscriptions dropped because their client fell a whole queue of notifications behind (each loses what was queued for it).",
    observe: () => broadcaster.dropped,
  });
}
