/**
 * The notification broadcaster on its own: the first frame, forgetting
 * subscribers however their stream ends, ending every subscription with a
 * given error.
 */
import assert from "node:assert/strict";
import { NotificationBroadcaster } from "../../hub/notifications/broadcaster.ts";
import type { BlueprintEvent } from "../../hub/notifications/events.ts";
import { NO_FILTERS } from "../../hub/notifications/filters.ts";
import { AppError } from "../../shared/errors.ts";
import { FakeScheduler } from "../fixtures/fake_scheduler.ts";

function broadcaster(version = 7, queueLimit = 4) {
  return new NotificationBroadcaster({
    scheduler: new FakeScheduler(),
    keepAliveMs: 1000,
    currentVersion: () => version,
    queueLimit,
  });
}

function event(version: number): BlueprintEvent {
  return {
    kind: "published",
    entry: {
      blueprintId: `bp-${version}`,
      document: new Uint8Array(),
      publishedAt: version,
      publishedBy: "tester",
      version,
      isActive: true,
      publicationTransactionId: `tx-${version}`,
      checksum: "sha256:00",
      metadata: {},
      chainHash: "sha256:00",
    },
  };
}

Deno.test("a subscription starts with a keep-alive of the current version, then its events", async () => {
  const notifications = broadcaster(7);
  const controller = new AbortController();
  const frames = notifications.subscribe("peer-1", {
    filters: NO_FILTERS,
    signal: controller.signal,
  })[Symbol.asyncIterator]();
  notifications.publish(event(8)); // queued before the first read
  assert.deepEqual((await frames.next()).value, { kind: "keepalive", version: 7 });
  const next = (await frames.next()).value;
  assert.equal(next?.kind === "event" && next.sequence, 1);
  controller.abort();
  assert.equal((await frames.next()).done, true);
  assert.equal(notifications.size, 0);
});

Deno.test("a subscription closed at its first frame is forgotten", async () => {
  const notifications = broadcaster();
  const frames = notifications.subscribe("peer-1", {
    filters: NO_FILTERS,
    signal: new AbortController().signal,
  });
  assert.equal(notifications.size, 1);
  for await (const frame of frames) {
    assert.equal(frame.kind, "keepalive");
    break;
  }
  assert.equal(notifications.size, 0);
  assert.equal(notifications.countFor("peer-1"), 0);
});

Deno.test("closeAll ends every subscription with the error given, after what was queued", async () => {
  const notifications = broadcaster();
  const frames = notifications.subscribe("peer-1", {
    filters: NO_FILTERS,
    signal: new AbortController().signal,
  })[Symbol.asyncIterator]();
  await frames.next();
  notifications.publish(event(8));
  const error = new AppError("failed_precondition", "Subscription ended: corrupt");
  notifications.closeAll(error);
  assert.equal(notifications.size, 0);
  assert.equal((await frames.next()).value?.kind, "event");
  await assert.rejects(frames.next(), (thrown) => thrown === error);
});
