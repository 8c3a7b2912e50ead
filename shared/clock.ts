/**
 * Time as a dependency: code that needs the time takes a {@link Clock}, so
 * tests can move time without sleeping.
 *
 * @module
 */

/** A source of the current time. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

/** The real clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to; for tests. */
export class ManualClock implements Clock {
  #now: number;

  /** Starts at `start` milliseconds since the epoch (default: 2026-01-01). */
  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }

  /** The clock's current time. */
  now(): number {
    return this.#now;
  }

  /** Moves the clock forward by `ms` milliseconds. */
  advance(ms: number): void {
    this.#now += ms;
  }
}
