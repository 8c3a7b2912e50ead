/**
 * The notification broadcaster on its own: the first frame, frames sent at
 * once or queued while a client is not keeping up, dropping a subscriber
 * that falls too far behind, keep-alives only while idle, forgetting
 * subscribers however they end, ending every subscription with a given error.
 */
import assert from "node:assert/strict";
import {
  type Frame,
  type FrameSink,
  NotificationBroadcaster,
} from "../../hub/notifications/broadcaster.ts";
import type { BlueprintEvent } from "../../hub/notifications/events.ts";
import { NO_FILTERS } from "../../hub/notifications/filters.ts";
import { ManualClock } from "../../shared/clock.ts";
import { AppError } from "../../shared/errors.ts";
import { FakeScheduler } from "../fixtures/fake_scheduler.ts";

function broadcaster(
  options: { version?: number; queueLimit?: number; batchSize?: number } = {},
) {
  const clock = new ManualClock();
  const scheduler = new FakeScheduler(clock);
  /** Batches of fan-outs deferred to the next turn; run them with `nextTurn()`. */
  const deferred: (() => void)[] = [];
  const notifications = new NotificationBroadcaster({
    scheduler,
    clock,
    keepAliveMs: 1000,
    currentVersion: () => options.version ?? 7,
    queueLimit: options.queueLimit ?? 4,
    batchSize: options.batchSize ?? 100,
    defer: (next) => deferred.push(next),
  });
  const nextTurn = () => {
    for (const next of deferred.splice(0)) next();
  };
  return { notifications, scheduler, clock, deferred, nextTurn };
}

/** `count` subscribers without filters, each with its recording sink; abort to end them. */
function subscribeMany(notifications: NotificationBroadcaster, count: number) {
  const controller = new AbortController();
  const sinks = Array.from({ length: count }, () => new RecordingSink());
  const ended = sinks.map((sink, n) =>
    notifications.attach(`peer-${n}`, { filters: NO_FILTERS, sink, signal: controller.signal })
  );
  return { sinks, ended, controller };
}

/** One subscriber without filters, with its recording sink; abort `controller` to end it. */
function subscribeOne(notifications: NotificationBroadcaster) {
  const { sinks, ended, controller } = subscribeMany(notifications, 1);
  return { sink: sinks[0]!, ended: ended[0]!, controller };
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

/** A sink recording what it is sent; `ready = false` makes it refuse more until `catchUp()`. */
class RecordingSink implements FrameSink {
  readonly frames: Frame[] = [];
  ready = true;
  #resume: (() => void) | undefined;

  send(frame: Frame): boolean {
    this.frames.push(frame);
    return this.ready;
  }

  whenReady(resume: () => void): void {
    this.#resume = resume;
  }

  /** The client caught up: the broadcaster may send again. */
  catchUp(): void {
    this.ready = true;
    const resume = this.#resume;
    this.#resume = undefined;
    resume?.();
  }

  get events(): number[] {
    return this.frames.flatMap((f) => f.kind === "event" ? [f.event.entry.version] : []);
  }
}

Deno.test("a subscription starts with a keep-alive of the current version, then its events", async () => {
  const { notifications } = broadcaster({ version: 7 });
  const { sink, ended, controller } = subscribeOne(notifications);
  assert.deepEqual(sink.frames, [{ kind: "keepalive", version: 7 }]);
  assert.equal(notifications.publish(event(8)), 1);
  assert.deepEqual(sink.frames[1], { kind: "event", event: event(8), sequence: 1 });
  controller.abort();
  await ended;
  assert.equal(notifications.size, 0);
  assert.equal(notifications.publish(event(9)), 0);
});

Deno.test("frames for a client that is not keeping up wait, in order, until it is ready", async () => {
  const { notifications } = broadcaster();
  const { sinks, ended, controller } = subscribeMany(notifications, 2);
  const [slow, other] = sinks as [RecordingSink, RecordingSink];
  slow.ready = false;
  notifications.publish(event(2)); // sent, and the sink says it is full
  notifications.publish(event(3));
  notifications.publish(event(4));
  assert.deepEqual(slow.events, [2]);
  assert.deepEqual(other.events, [2, 3, 4], "the others are not delayed");
  slow.catchUp();
  assert.deepEqual(slow.events, [2, 3, 4]);
  assert.deepEqual(
    slow.frames.flatMap((f) => f.kind === "event" ? [f.sequence] : []),
    [1, 2, 3],
  );
  controller.abort();
  await Promise.all(ended);
});

Deno.test("a subscriber that falls queueLimit notifications behind is dropped with resource_exhausted", async () => {
  const { notifications } = broadcaster({ queueLimit: 2 });
  const controller = new AbortController();
  const stalled = new RecordingSink();
  const healthy = new RecordingSink();
  const stalledEnded = notifications.attach("stalled", {
    filters: NO_FILTERS,
    sink: stalled,
    signal: controller.signal,
  });
  const healthyEnded = notifications.attach("healthy", {
    filters: NO_FILTERS,
    sink: healthy,
    signal: controller.signal,
  });
  stalled.ready = false;
  for (let version = 2; version <= 5; version++) notifications.publish(event(version));
  await assert.rejects(stalledEnded, (error: unknown) => {
    assert.ok(error instanceof AppError);
    assert.equal(error.code, "resource_exhausted");
    assert.match(error.message, /peer "stalled" dropped: it fell 2 notifications behind/);
    return true;
  });
  assert.equal(notifications.dropped, 1);
  assert.equal(notifications.countFor("stalled"), 0);
  assert.deepEqual(healthy.events, [2, 3, 4, 5]);
  controller.abort();
  await healthyEnded;
});

Deno.test("keep-alives are sent only after keepAliveMs without any frame", async () => {
  const { notifications, scheduler } = broadcaster({ version: 3 });
  const { sink, ended, controller } = subscribeOne(notifications);
  let idle = await scheduler.nextSleep();
  assert.equal(idle.ms, 1000);
  idle.release(); // 1000 ms without a frame
  await scheduler.nextSleep();
  assert.deepEqual(sink.frames.map((f) => f.kind), ["keepalive", "keepalive"]);

  idle = await scheduler.nextSleep();
  idle.release();
  notifications.publish(event(4)); // a frame at the very moment the wait ends
  idle = await scheduler.nextSleep();
  assert.equal(idle.ms, 1000, "the idle time starts again from the event");
  assert.deepEqual(sink.frames.map((f) => f.kind), ["keepalive", "keepalive", "event"]);
  controller.abort();
  await ended;
  assert.equal(scheduler.pending.length, 0, "no keep-alive timer is left behind");
});

Deno.test("a subscription whose signal is already aborted is not registered", async () => {
  const { notifications } = broadcaster();
  const controller = new AbortController();
  controller.abort();
  const sink = new RecordingSink();
  await notifications.attach("peer-1", { filters: NO_FILTERS, sink, signal: controller.signal });
  assert.equal(notifications.size, 0);
  assert.deepEqual(sink.frames, []);
});

Deno.test("closeAll ends every subscription with the error given, after what was queued", async () => {
  const { notifications } = broadcaster();
  const { sink, ended } = subscribeOne(notifications);
  sink.ready = false;
  notifications.publish(event(8));
  notifications.publish(event(9)); // queued
  const error = new AppError("failed_precondition", "Subscription ended: corrupt");
  notifications.closeAll(error);
  assert.equal(notifications.size, 0);
  sink.catchUp();
  assert.deepEqual(sink.events, [8, 9]);
  await assert.rejects(ended, (thrown) => thrown === error);
});

Deno.test("a publication reaches batchSize subscribers per turn, and the next one starts once it reached all", async () => {
  const { notifications, deferred, nextTurn } = broadcaster({ batchSize: 2 });
  const { sinks, ended, controller } = subscribeMany(notifications, 5);
  assert.equal(notifications.publish(event(8)), 5);
  assert.equal(notifications.publish(event(9)), 5);
  assert.deepEqual(sinks.map((s) => s.events), [[8], [8], [], [], []]);
  nextTurn();
  assert.deepEqual(sinks.map((s) => s.events), [[8], [8], [8], [8], []]);
  nextTurn(); // the last of 8, then the first of 9
  assert.deepEqual(sinks.map((s) => s.events), [[8, 9], [8], [8], [8], [8]]);
  nextTurn();
  nextTurn();
  assert.equal(deferred.length, 0);
  assert.deepEqual(sinks.map((s) => s.events), Array(5).fill([8, 9]));
  for (const sink of sinks) {
    assert.deepEqual(sink.frames.flatMap((f) => f.kind === "event" ? [f.sequence] : []), [1, 2]);
  }
  controller.abort();
  await Promise.all(ended);
});

Deno.test("a subscriber that leaves during a fan-out is sent nothing more of it", async () => {
  const { notifications, nextTurn } = broadcaster({ batchSize: 1 });
  const { sinks, ended } = subscribeMany(notifications, 1);
  const leaving = new AbortController();
  const late = new RecordingSink();
  const lateEnded = notifications.attach("peer-late", {
    filters: NO_FILTERS,
    sink: late,
    signal: leaving.signal,
  });
  notifications.publish(event(8));
  leaving.abort();
  await lateEnded;
  nextTurn();
  assert.deepEqual(sinks[0]!.events, [8]);
  assert.deepEqual(late.events, []);
  notifications.closeAll("The hub is shutting down");
  await assert.rejects(ended[0]!, /shutting down/);
});

Deno.test("closeAll hands publications still being fanned out to their remaining subscribers first", async () => {
  const { notifications, deferred } = broadcaster({ batchSize: 1 });
  const { sinks, ended } = subscribeMany(notifications, 3);
  notifications.publish(event(8));
  notifications.publish(event(9));
  assert.deepEqual(sinks.map((s) => s.events), [[8], [], []]);
  notifications.closeAll("The hub is shutting down");
  assert.deepEqual(sinks.map((s) => s.events), Array(3).fill([8, 9]));
  for (const done of ended) await assert.rejects(done, /shutting down/);
  // What was deferred finds nothing left to do.
  for (const next of deferred.splice(0)) next();
  assert.deepEqual(sinks.map((s) => s.events), Array(3).fill([8, 9]));
});

/** Whether `promise` has settled, after the microtasks queued so far. */
async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(() => settled = true, () => settled = true);
  await new Promise((resolve) => setTimeout(resolve, 0));
  return settled;
}

Deno.test("settled waits until every publication is handed out and every client behind caught up", async () => {
  const { notifications, scheduler, nextTurn } = broadcaster({ batchSize: 1 });
  const { sinks, ended, controller } = subscribeMany(notifications, 2);
  assert.equal(await isSettled(notifications.settled({ timeoutMs: 5000 })), true);

  sinks[0]!.ready = false;
  notifications.publish(event(2)); // the first subscriber now, the second on the next turn
  const settled = notifications.settled({ timeoutMs: 5000 });
  assert.equal(await isSettled(settled), false, "a fan-out is still pending");
  nextTurn();
  assert.equal(await isSettled(settled), false, "a client is behind");
  sinks[0]!.catchUp();
  assert.equal(await isSettled(settled), true);
  assert.equal(
    scheduler.pending.filter((sleep) => sleep.ms === 5000).length,
    0,
    "its timeout ended",
  );
  controller.abort();
  await Promise.all(ended);
});

Deno.test("settled gives up after its timeout on a client that stays behind", async () => {
  const { notifications, scheduler } = broadcaster();
  const { sinks, ended, controller } = subscribeMany(notifications, 1);
  sinks[0]!.ready = false;
  notifications.publish(event(2));
  const settled = notifications.settled({ timeoutMs: 5000 });
  assert.equal(await isSettled(settled), false);
  scheduler.pending.find((sleep) => sleep.ms === 5000)!.release();
  assert.equal(await isSettled(settled), true);
  controller.abort();
  await Promise.all(ended);
});

Deno.test("settled stops waiting for a client that leaves", async () => {
  const { notifications } = broadcaster();
  const { sinks, ended, controller } = subscribeMany(notifications, 1);
  sinks[0]!.ready = false;
  notifications.publish(event(2));
  const settled = notifications.settled({ timeoutMs: 5000 });
  assert.equal(await isSettled(settled), false);
  controller.abort();
  await Promise.all(ended);
  assert.equal(await isSettled(settled), true);
});
