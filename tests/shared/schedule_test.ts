import assert from "node:assert/strict";
import { mock } from "node:test";
import {
  createSystemScheduler,
  cronScheduleFor,
  jitterBound,
  nextCronTick,
} from "../../shared/schedule.ts";

Deno.test("whole minutes that divide an hour, and hours that divide a day, run on Deno.cron", () => {
  assert.equal(cronScheduleFor(300_000), "*/5 * * * *");
  assert.equal(cronScheduleFor(60_000), "*/1 * * * *");
  assert.equal(cronScheduleFor(3_600_000), "0 */1 * * *");
  assert.equal(cronScheduleFor(6 * 3_600_000), "0 */6 * * *");
  assert.equal(cronScheduleFor(24 * 3_600_000), "0 0 * * *");
});

Deno.test("other intervals run on a timer", () => {
  for (const ms of [500, 30_000, 90_000, 7 * 60_000, 5 * 3_600_000, 48 * 3_600_000]) {
    assert.equal(cronScheduleFor(ms), undefined, `${ms} ms`);
  }
});

Deno.test("the jitter is a tenth of the interval, at most 30 s", () => {
  assert.equal(jitterBound(1000), 100);
  assert.equal(jitterBound(300_000), 30_000);
  assert.equal(jitterBound(3_600_000), 30_000);
});

Deno.test("the next cron tick is the next multiple of the interval in UTC", () => {
  const at = Date.UTC(2026, 0, 1, 10, 7, 30);
  assert.equal(nextCronTick(at, 300_000), Date.UTC(2026, 0, 1, 10, 10));
});

Deno.test("a timer repetition runs after each interval plus its jitter, never overlapping, until stopped", async () => {
  mock.timers.enable({ apis: ["setTimeout"], now: 0 });
  try {
    let now = 0;
    const scheduler = createSystemScheduler({ clock: { now: () => now }, random: () => 0.5 });
    const controller = new AbortController();
    const runs: number[] = [];
    let finish: (() => void) | undefined;
    const periodic = scheduler.every("test", 1000, async () => {
      runs.push(now);
      await new Promise<void>((resolve) => (finish = resolve));
    }, { signal: controller.signal });
    assert.equal(periodic.kind, "timer");
    assert.equal(periodic.nextRunAt(), 1000);
    const advance = async (ms: number) => {
      now += ms;
      mock.timers.tick(ms);
      for (let i = 0; i < 5; i++) await Promise.resolve();
    };
    await advance(1049);
    assert.deepEqual(runs, [], "the jitter (50 ms) has not passed");
    await advance(1);
    assert.deepEqual(runs, [1050]);
    await advance(5000);
    assert.deepEqual(runs, [1050], "no second run while the first goes on");
    now += 0;
    finish!();
    for (let i = 0; i < 5; i++) await Promise.resolve();
    assert.equal(periodic.nextRunAt(), 7050);
    await advance(1050);
    assert.deepEqual(runs, [1050, 7100]);
    controller.abort();
    finish!();
    for (let i = 0; i < 5; i++) await Promise.resolve();
    assert.equal(periodic.nextRunAt(), undefined);
  } finally {
    mock.timers.reset();
  }
});

Deno.test("a cron repetition registers with Deno.cron and stops with its signal", () => {
  const controller = new AbortController();
  const periodic = createSystemScheduler().every("test-cron", 300_000, () => Promise.resolve(), {
    signal: controller.signal,
  });
  assert.equal(periodic.kind, "cron");
  assert.equal(periodic.schedule, "*/5 * * * *");
  assert.ok(periodic.nextRunAt()! > Date.now());
  controller.abort();
  assert.equal(periodic.nextRunAt(), undefined);
});

Deno.test("a sleep ends early when its signal aborts", async () => {
  const controller = new AbortController();
  const sleeping = createSystemScheduler().sleep(60_000, controller.signal);
  controller.abort();
  await sleeping;
});
