/**
 * Fan-out of publications to subscribers. Publishing never waits on a
 * subscriber: each has its own bounded queue, filled synchronously and read
 * by its stream at the pace its client takes messages. A subscriber whose
 * queue is full (its client stopped reading, or reads too slowly) is
 * dropped, and its stream ends with an error saying so; the others are not
 * delayed. A subscription's first frame is a keep-alive (meaning
 * "subscribed"), and while a subscriber has nothing to read for
 * `keepAliveMs`, it gets another; each carries the register's current version.
 *
 * @module
 */
import { AppError } from "../../shared/errors.ts";
import type { Scheduler } from "../../shared/schedule.ts";
import type { BlueprintEvent } from "./events.ts";
import { compileFilters, type EventFilter, type NotificationFilters } from "./filters.ts";

/** What a subscription yields. */
export type Frame =
  | { kind: "event"; event: BlueprintEvent; sequence: number }
  | { kind: "keepalive"; version: number };

/** Options of {@link NotificationBroadcaster}. */
export interface BroadcasterOptions {
  /** Waits between keep-alives. */
  scheduler: Scheduler;
  /** Idle time before a keep-alive frame, in ms. */
  keepAliveMs: number;
  /** The register's current version (for keep-alives). */
  currentVersion: () => number;
  /** Notifications a subscriber may fall behind before it is dropped (default 1024). */
  queueLimit?: number;
  /** Subscribers at most (default 10,000); more are refused with resource_exhausted. */
  maxSubscribers?: number;
}

/** Options of {@link NotificationBroadcaster.subscribe}. */
export interface SubscribeOptions {
  /** What it wants. */
  filters: NotificationFilters;
  /** Ends the subscription (the client went away). */
  signal: AbortSignal;
}

interface Subscriber {
  readonly peerId: string;
  readonly accepts: EventFilter;
  readonly queue: BlueprintEvent[];
  sequence: number;
  failure: AppError | undefined;
  wake: (() => void) | undefined;
}

/** Broadcasts publications to filtered, independent subscriber streams. */
export class NotificationBroadcaster {
  readonly #subscribers = new Set<Subscriber>();
  readonly #options: Required<BroadcasterOptions>;
  #dropped = 0;

  /** Creates a broadcaster without subscribers. */
  constructor(options: BroadcasterOptions) {
    this.#options = { queueLimit: 1024, maxSubscribers: 10_000, ...options };
  }

  /** Subscribers now. */
  get size(): number {
    return this.#subscribers.size;
  }

  /** Subscribers dropped for falling behind, since start. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Subscribers per peer id. */
  countFor(peerId: string): number {
    let n = 0;
    for (const subscriber of this.#subscribers) if (subscriber.peerId === peerId) n++;
    return n;
  }

  /** Queues `event` for every subscriber whose filters accept it; returns how many. */
  publish(event: BlueprintEvent): number {
    let queued = 0;
    for (const subscriber of this.#subscribers) {
      if (subscriber.failure || !subscriber.accepts(event)) continue;
      if (subscriber.queue.length >= this.#options.queueLimit) {
        this.#drop(subscriber);
        continue;
      }
      subscriber.queue.push(event);
      queued++;
      subscriber.wake?.();
    }
    return queued;
  }

  /**
   * A subscription for `peerId`: yields a keep-alive at once (it is in
   * place), then matching events in order (numbered from 1) and keep-alives
   * while idle, until `signal` aborts (it then just ends) or the subscriber
   * is dropped (it then throws resource_exhausted). Subscribed from this
   * call on: events published before the first read are queued.
   */
  subscribe(peerId: string, options: SubscribeOptions): AsyncIterable<Frame> {
    if (this.#subscribers.size >= this.#options.maxSubscribers) {
      throw new AppError(
        "resource_exhausted",
        `Cannot subscribe peer "${peerId}": the hub already serves ${this.#options.maxSubscribers} subscriptions`,
      );
    }
    const subscriber: Subscriber = {
      peerId,
      accepts: compileFilters(options.filters),
      queue: [],
      sequence: 0,
      failure: undefined,
      wake: undefined,
    };
    // Registered now, not at the first read, so nothing published after subscribing is missed.
    this.#subscribers.add(subscriber);
    return this.#frames(subscriber, options.signal);
  }

  /**
   * Ends every subscription with `error` (a string: unavailable with that
   * message, as at shutdown), after the notifications already queued.
   */
  closeAll(error: string | AppError): void {
    const failure = typeof error === "string" ? new AppError("unavailable", error) : error;
    for (const subscriber of this.#subscribers) {
      subscriber.failure = failure;
      subscriber.wake?.();
    }
    this.#subscribers.clear();
  }

  async *#frames(subscriber: Subscriber, signal: AbortSignal): AsyncGenerator<Frame> {
    const { scheduler, keepAliveMs, currentVersion } = this.#options;
    const onAbort = () => subscriber.wake?.();
    signal.addEventListener("abort", onAbort);
    try {
      // Yielded from here, not by the caller before it starts reading the frames: a caller
      // closed at its first frame then still closes this generator, which forgets the subscriber.
      if (!signal.aborted) yield { kind: "keepalive", version: currentVersion() };
      while (!signal.aborted) {
        const event = subscriber.queue.shift();
        if (event) {
          yield { kind: "event", event, sequence: ++subscriber.sequence };
          continue;
        }
        if (subscriber.failure) throw subscriber.failure;
        const idle = new AbortController();
        const woken = new Promise<boolean>((resolve) => {
          subscriber.wake = () => resolve(true);
        });
        const timedOut = scheduler.sleep(keepAliveMs, idle.signal).then(() => false);
        const wasWoken = await Promise.race([woken, timedOut]);
        idle.abort();
        subscriber.wake = undefined;
        if (!wasWoken && !signal.aborted && subscriber.queue.length === 0 && !subscriber.failure) {
          yield { kind: "keepalive", version: currentVersion() };
        }
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      this.#subscribers.delete(subscriber);
    }
  }

  #drop(subscriber: Subscriber): void {
    this.#dropped++;
    subscriber.queue.length = 0;
    subscriber.failure = new AppError(
      "resource_exhausted",
      `Subscription of peer "${subscriber.peerId}" dropped: it fell ${this.#options.queueLimit} notifications behind (its client is not reading)`,
    );
    this.#subscribers.delete(subscriber);
    subscriber.wake?.();
  }
}
