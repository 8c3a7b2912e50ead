/**
 * SubscribeToPushNotifications over gRPC against an in-process hub:
 * notifications of publications and re-publications, filters, keep-alives
 * while idle, independence of subscribers (a stalled one is dropped without
 * delaying the rest), limits and shutdown.
 */
import assert from "node:assert/strict";
import { ManualClock } from "../../shared/clock.ts";
import { FakeScheduler } from "../fixtures/fake_scheduler.ts";
import { until } from "../fixtures/wait.ts";
import {
  collect,
  type Frame,
  isKeepAlive,
  NotificationType,
  publishBlueprint,
  rejectsWithCode,
  stalledSubscription,
  startTestHub,
  Subscription,
  syncClient,
} from "./hub_fixture.ts";

const decoder = new TextDecoder();

function summaryOf(frame: Frame): Record<string, unknown> {
  return JSON.parse(decoder.decode(frame.blueprintSummary));
}

Deno.test("a subscriber gets BLUEPRINT_PUBLISHED, then BLUEPRINT_UPDATED on re-publication, numbered 1, 2, …", async () => {
  await using hub = await startTestHub();
  using channel = hub.channel();
  await using subscription = new Subscription(channel, { peerId: "peer-1", sessionId: "s-1" });
  await subscription.subscribed();
  const [first] = subscription.frames;
  assert.ok(isKeepAlive(first!), "the first frame is a keep-alive");
  assert.equal(first!.version, 1n);
  assert.equal(first!.blueprintId, "");
  assert.equal(hub.register.notifications.size, 1);

  const published = await publishBlueprint(hub, "bp-a", {
    publishedBy: "alice",
    metadata: { team: "red" },
  });
  const updated = await publishBlueprint(hub, "bp-a", { revision: 2, publishedBy: "bob" });
  await publishBlueprint(hub, "bp-b", { publishedBy: "alice", bytes: 2048 });
  await subscription.eventCount(3);

  const [a1, a2, b1] = subscription.events;
  assert.equal(a1!.type, NotificationType.BLUEPRINT_PUBLISHED);
  assert.equal(a1!.blueprintId, "bp-a");
  assert.equal(a1!.version, 2n);
  assert.equal(a1!.sequenceNumber, 1n);
  assert.equal(a1!.publishedBy, "alice");
  assert.equal(a1!.publishedAt, BigInt(published.entry.publishedAt));
  assert.equal(a1!.checksum, published.entry.checksum);
  assert.deepEqual(summaryOf(a1!), {
    blueprintId: "bp-a",
    version: 2,
    checksum: published.entry.checksum,
    sizeBytes: published.entry.document.byteLength,
    title: "Blueprint bp-a",
  });

  assert.equal(a2!.type, NotificationType.BLUEPRINT_UPDATED);
  assert.equal(a2!.blueprintId, "bp-a");
  assert.equal(a2!.version, 3n);
  assert.equal(a2!.sequenceNumber, 2n);
  assert.equal(a2!.publishedBy, "bob");
  assert.equal(a2!.checksum, updated.entry.checksum);
  assert.notEqual(a2!.checksum, a1!.checksum);

  assert.equal(b1!.type, NotificationType.BLUEPRINT_PUBLISHED);
  assert.equal(b1!.version, 4n);
  assert.equal(b1!.sequenceNumber, 3n);
  assert.ok(b1!.blueprintSummary.byteLength <= 4096);
  assert.match(String(summaryOf(b1!).description), /^About bp-b/);

  // A subscription cancelled by its client is forgotten.
  await subscription[Symbol.asyncDispose]();
  await until(
    "the hub forgets the subscription",
    () => Promise.resolve(hub.register.notifications.size === 0),
  );
});

Deno.test("each subscription filter is honoured, all of them together, and no filter lets everything through", async () => {
  await using hub = await startTestHub();
  using channel = hub.channel();
  const requests = {
    everything: {},
    blueprints: { blueprintIds: ["bp-a", "zz-end"] },
    publishers: { publisherIds: ["alice"] },
    types: { notificationTypes: [NotificationType.BLUEPRINT_PUBLISHED] },
    updates: { notificationTypes: [NotificationType.BLUEPRINT_UPDATED] },
    metadata: { metadataFilters: { team: "red" } },
    combined: {
      blueprintIds: ["bp-a", "bp-b", "zz-end"],
      publisherIds: ["alice"],
      metadataFilters: { team: "red" },
    },
  } as const;
  const subscriptions = new Map<string, Subscription>();
  try {
    for (const [name, filters] of Object.entries(requests)) {
      const subscription = new Subscription(channel, {
        peerId: `peer-${name}`,
        filters: name === "everything" ? undefined : filters,
      });
      subscriptions.set(name, subscription);
      await subscription.subscribed();
    }

    await publishBlueprint(hub, "bp-a", { publishedBy: "alice", metadata: { team: "red" } }); // 2
    await publishBlueprint(hub, "bp-b", { publishedBy: "bob", metadata: { team: "blue" } }); // 3
    await publishBlueprint(hub, "bp-a", { publishedBy: "bob", metadata: { team: "blue" } }); // 4
    await publishBlueprint(hub, "bp-c", { publishedBy: "alice", metadata: { team: "blue" } }); // 5
    await publishBlueprint(hub, "bp-b", {
      publishedBy: "alice",
      metadata: { team: "red", tier: "gold" },
    }); // 6
    await publishBlueprint(hub, "bp-c", { publishedBy: "carol", metadata: { team: "red" } }); // 7
    // The last publication passes every filter but `updates`, which gets its last at 7.
    await publishBlueprint(hub, "zz-end", { publishedBy: "alice", metadata: { team: "red" } }); // 8

    const expected: Record<keyof typeof requests, number[]> = {
      everything: [2, 3, 4, 5, 6, 7, 8],
      blueprints: [2, 4, 8],
      publishers: [2, 5, 6, 8],
      types: [2, 3, 5, 8],
      updates: [4, 6, 7],
      metadata: [2, 6, 7, 8],
      combined: [2, 6, 8],
    };
    for (const [name, versions] of Object.entries(expected)) {
      const subscription = subscriptions.get(name)!;
      const last = BigInt(versions.at(-1)!);
      await subscription.waitFor(
        `subscriber "${name}" gets version ${last}`,
        () => subscription.events.some((frame) => frame.version === last),
      );
      assert.deepEqual(
        subscription.events.map((frame) => Number(frame.version)),
        versions,
        `subscriber "${name}"`,
      );
      assert.deepEqual(
        subscription.events.map((frame) => frame.sequenceNumber),
        versions.map((_, index) => BigInt(index + 1)),
        `subscriber "${name}" numbers its own notifications from 1`,
      );
    }
    const updates = subscriptions.get("updates")!.events;
    assert.ok(updates.every((frame) => frame.type === NotificationType.BLUEPRINT_UPDATED));
  } finally {
    for (const subscription of subscriptions.values()) await subscription[Symbol.asyncDispose]();
  }
});

Deno.test("while idle, a subscription gets keep-alives carrying the current version", async () => {
  const clock = new ManualClock();
  const scheduler = new FakeScheduler(clock);
  await using hub = await startTestHub({ clock, scheduler, keepAliveSeconds: 15 });
  using channel = hub.channel();
  await using subscription = new Subscription(channel, { peerId: "peer-1" });
  await subscription.subscribed();

  let idle = await scheduler.nextSleep();
  assert.equal(idle.ms, 15_000);
  idle.release();
  await subscription.waitFor("a keep-alive arrives", () => subscription.frames.length === 2);
  const keepAlive = subscription.frames[1]!;
  assert.ok(isKeepAlive(keepAlive));
  assert.equal(keepAlive.type, NotificationType.UNKNOWN);
  assert.equal(keepAlive.sequenceNumber, 0n);
  assert.equal(keepAlive.version, 1n);
  assert.equal(keepAlive.publishedAt, BigInt(clock.now()));

  await publishBlueprint(hub, "bp-a"); // 2
  await publishBlueprint(hub, "bp-b"); // 3
  await subscription.eventCount(2);
  idle = await scheduler.nextSleep();
  idle.release();
  await subscription.waitFor("a second keep-alive arrives", () => subscription.frames.length === 5);
  const later = subscription.frames[4]!;
  assert.ok(isKeepAlive(later));
  assert.equal(later.version, 3n);

  // Keep-alives do not take sequence numbers.
  await publishBlueprint(hub, "bp-c"); // 4
  await subscription.eventCount(3);
  assert.deepEqual(subscription.events.map((frame) => frame.sequenceNumber), [1n, 2n, 3n]);
  assert.deepEqual(
    subscription.frames.map((frame) => isKeepAlive(frame) ? "keep-alive" : Number(frame.version)),
    ["keep-alive", "keep-alive", 2, 3, "keep-alive", 4],
  );
});

Deno.test("keep-alives come by real time too (a short keepAliveSeconds)", async () => {
  await using hub = await startTestHub({ keepAliveSeconds: 0.05 });
  using channel = hub.channel();
  await using subscription = new Subscription(channel, { peerId: "peer-1" });
  await publishBlueprint(hub, "bp-a"); // 2 (maybe before the subscription, maybe after)
  await subscription.waitFor(
    "two keep-alives of version 2 arrive",
    () => subscription.frames.filter((f) => isKeepAlive(f) && f.version === 2n).length >= 2,
  );
});

Deno.test("a subscriber that stops reading does not hold up the others: it is dropped, publishing never waits", async () => {
  const total = 200;
  await using hub = await startTestHub({ subscriberQueueLimit: 8 });
  // Separate connections, as separate peers would have.
  using stalledChannel = hub.channel();
  using readerChannel = hub.channel();
  const stalled = await stalledSubscription(stalledChannel, "stalled"); // it reads no more
  await using reader = new Subscription(readerChannel, { peerId: "reader" });
  await reader.subscribed();
  assert.equal(hub.register.notifications.size, 2);

  for (let n = 1; n <= total; n++) {
    // Every publication resolves although one subscriber reads nothing,
    // and the reader gets it before the next one.
    await publishBlueprint(hub, `bp-${n}`, { bytes: 2048 });
    await reader.eventCount(n);
  }
  assert.deepEqual(
    reader.events.map((frame) => frame.sequenceNumber),
    Array.from({ length: total }, (_, index) => BigInt(index + 1)),
  );
  assert.deepEqual(
    reader.events.map((frame) => frame.version),
    Array.from({ length: total }, (_, index) => BigInt(index + 2)),
  );
  assert.ok(hub.register.notifications.dropped >= 1);
  assert.equal(hub.register.notifications.size, 1);
  assert.equal(hub.register.notifications.countFor("stalled"), 0);

  // The stalled client, reading again, learns that it was dropped.
  await rejectsWithCode(
    stalled.readOn(),
    "resource_exhausted",
    /Subscription of peer "stalled" dropped: it fell 8 notifications behind/,
  );
  assert.ok(!reader.ended);
});

Deno.test("subscriptions per peer are bounded", async () => {
  await using hub = await startTestHub({ maxSubscriptionsPerPeer: 2 });
  using channel = hub.channel();
  await using one = new Subscription(channel, { peerId: "peer-1" });
  await using two = new Subscription(channel, { peerId: "peer-1" });
  await one.subscribed();
  await two.subscribed();
  await rejectsWithCode(
    collect(syncClient(channel).subscribeToPushNotifications({ peerId: "peer-1" })),
    "resource_exhausted",
    /^Cannot subscribe peer "peer-1": it already has 2 subscriptions open \(at most 2 at once\)/,
  );
  await using other = new Subscription(channel, { peerId: "peer-2" });
  await other.subscribed();
});

Deno.test("closing the hub ends its subscriptions with UNAVAILABLE", async () => {
  const hub = await startTestHub();
  let closed = false;
  try {
    using channel = hub.channel();
    await using subscription = new Subscription(channel, { peerId: "peer-1" });
    await subscription.subscribed();
    await hub[Symbol.asyncDispose]();
    closed = true;
    await subscription.finished();
    assert.ok(subscription.error, "the subscription ended without an error");
    assert.equal((subscription.error as { code?: string }).code, "unavailable");
    assert.match(String(subscription.error), /shutting down/);
  } finally {
    if (!closed) await hub[Symbol.asyncDispose]();
  }
});
