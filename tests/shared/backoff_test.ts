import assert from "node:assert/strict";
import { createBackoff } from "../../shared/backoff.ts";

function delays(options: Parameters<typeof createBackoff>[0], count: number): number[] {
  const out: number[] = [];
  let backoff = createBackoff(options);
  for (let i = 0; i < count; i++) {
    out.push(backoff.delayMs);
    backoff = backoff.next();
  }
  return out;
}

Deno.test("the backoff starts at one second and doubles up to its ceiling", () => {
  assert.deepEqual(
    delays({ maxMs: 60_000, jitter: 0 }, 9),
    [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000],
  );
});

Deno.test("the backoff jitter moves each delay by at most 20% and never above the ceiling", () => {
  assert.deepEqual(delays({ maxMs: 60_000, random: () => 0 }, 3), [800, 1600, 3200]);
  assert.deepEqual(delays({ maxMs: 60_000, random: () => 0.999999 }, 8).map(Math.round), [
    1200,
    2400,
    4800,
    9600,
    19200,
    38400,
    60000,
    60000,
  ]);
});

Deno.test("a ceiling below the first delay makes every delay the ceiling", () => {
  assert.deepEqual(delays({ maxMs: 300, jitter: 0 }, 3), [300, 300, 300]);
});
