/**
 * What the smoke walk-through's checks are made of: a check that prints one
 * line (`PASS` or `FAIL` with what was seen) and counts itself, failing
 * expectations, JSON over HTTP, and bounded polling for a condition (the
 * walk-through never sleeps for time to pass otherwise).
 *
 * @module
 */
import { errorMessage } from "../shared/errors.ts";

/** A failed expectation: its message is what the check's line says. */
export class CheckFailed extends Error {}

/** Fails the check with `message` unless `condition` holds. */
export function expect(condition: unknown, message: string): asserts condition {
  if (!condition) throw new CheckFailed(message);
}

/** The body of `response` as JSON, failing the check unless its status is `status`. */
export async function json<T>(response: Response, what: string, status = 200): Promise<T> {
  const text = await response.text();
  expect(response.status === status, `${what}: HTTP ${response.status} ${text.slice(0, 200)}`);
  return JSON.parse(text) as T;
}

/** Sends `body` as JSON. */
export function send(url: string, method: string, body: unknown): Promise<Response> {
  return fetch(url, {
    method,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** Resolves after `ms` (a pause between two polls). */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * What a poll saw: `true` when the condition holds, otherwise `false` or
 * why not yet (shown when the wait times out).
 */
export type PollResult = true | false | string;

/**
 * Polls `check` every `intervalMs` (default 250) until it holds; fails with
 * `what` (and the last reason given) after `timeoutMs`.
 */
export async function eventually(
  what: string,
  check: () => Promise<PollResult>,
  timeoutMs: number,
  intervalMs = 250,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = await check();
    if (seen === true) return;
    expect(
      Date.now() < deadline,
      `${what} (waited ${timeoutMs} ms${typeof seen === "string" ? `; last: ${seen}` : ""})`,
    );
    await pause(intervalMs);
  }
}

/** Options of {@link untilEach}. */
export interface UntilEachOptions {
  /** What is awaited, for the failure's message. */
  what: string;
  /** When the clock started (`Date.now()`); times are measured from it. */
  since: number;
  /** How long to wait in all, in ms. */
  timeoutMs: number;
  /** Time between two rounds of polls, in ms (default 20). */
  intervalMs?: number;
}

/**
 * Polls `probe` for every item at once, round after round, until it holds
 * for each; resolves with the time each took (ms since `since`), by name,
 * in the order of `items`.
 * A probe that throws counts as not yet (its message is the reason). Fails
 * after `timeoutMs`, naming the items still waited for and why.
 */
export async function untilEach<T extends { readonly name: string }>(
  items: readonly T[],
  probe: (item: T) => Promise<PollResult>,
  options: UntilEachOptions,
): Promise<Map<string, number>> {
  const times = new Map<string, number>();
  const reasons = new Map<string, string>();
  const deadline = options.since + options.timeoutMs;
  for (;;) {
    const pending = items.filter((item) => !times.has(item.name));
    await Promise.all(pending.map(async (item) => {
      let seen: PollResult;
      try {
        seen = await probe(item);
      } catch (error) {
        seen = errorMessage(error);
      }
      if (seen === true) times.set(item.name, Date.now() - options.since);
      else if (typeof seen === "string") reasons.set(item.name, seen);
    }));
    if (times.size === items.length) {
      return new Map(items.map((item) => [item.name, times.get(item.name)!]));
    }
    if (Date.now() >= deadline) {
      const late = items.filter((item) => !times.has(item.name)).map((item) =>
        `${item.name}${reasons.has(item.name) ? ` (${reasons.get(item.name)})` : ""}`
      );
      throw new CheckFailed(
        `${options.what}: not yet after ${options.timeoutMs} ms for ${late.join(", ")}`,
      );
    }
    await pause(options.intervalMs ?? 20);
  }
}

/** How many checks passed and failed. */
export interface CheckCounts {
  /** Checks that passed. */
  passed: number;
  /** Checks that failed. */
  failed: number;
}

/**
 * Runs one check: `run` resolves (optionally with a detail) or throws.
 * Prints `PASS  name: detail` (`PASS  name (detail)` when the detail is a
 * time in parentheses) or `FAIL  name: why`; resolves whether it passed.
 */
export type Check = (name: string, run: () => Promise<string | void>) => Promise<boolean>;

/** A {@link Check} that prints with `print` and counts into `counts`. */
export function checker(print: (line: string) => void, counts: CheckCounts): Check {
  return async (name, run) => {
    try {
      const detail = await run();
      counts.passed++;
      print(`PASS  ${name}${detail ? `${detail.startsWith("(") ? " " : ": "}${detail}` : ""}`);
      return true;
    } catch (error) {
      counts.failed++;
      print(`FAIL  ${name}: ${errorMessage(error)}`);
      return false;
    }
  };
}
