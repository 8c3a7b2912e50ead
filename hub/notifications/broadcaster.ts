/**
 * Fan-out of publications to subscribers. Publishing never waits on a
 * subscriber: it hands each accepting subscriber its frame through the
 * subscriber's {@link FrameSink}, `batchSize` subscribers per turn (no task
 * or promise per subscriber), the next batch on the next tick: the transport
 * sends each batch (one socket write per connection, see
 * `shared/grpc/coalescing.ts`) while the next is being prepared, so the
 * first subscribers' clients are reading before the last frames are made.
 * Publications go out in order: one's fan-out ends before the next begins.
 * A sink that says its client is not keeping up pauses its subscriber:
 * frames then wait in the subscriber's bounded queue until the sink is ready
 * again. A subscriber whose queue is full (its client stopped reading, or
 * reads too slowly) is dropped, and its subscription ends with an error
 * saying so; the others are not delayed.
 *
 * {@link NotificationBroadcaster.settled} tells when every publication is
 * handed out and no client is behind: what hands on many publications at
 * once (a burst of another hub's) waits for it between runs of them.
 *
 * A subscription's first frame is a keep-alive (meaning "subscribed"), and
 * whenever a subscriber has been sent nothing for `keepAliveMs`, it gets
 * another; each carries the register's current version. Keep-alives cost one
 * timer per subscriber per `keepAliveMs`, however many notifications flow.
 *
 * @module
 */
import process from "node:process";
import type { Clock } from "../../shared/clock.ts";
import { AppError } from "../../shared/errors.ts";
import type { Scheduler } from "../../shared/schedule.ts";
import type { BlueprintEvent } from "./events.ts";
import { compileFilters, type EventFilter, type NotificationFilters } from "./filters.ts";

/** What a subscription is sent. */
export type Frame =
  | { kind: "event"; event: BlueprintEvent; sequence: number }
  | { kind: "keepalive"; version: number };

/** Where a subscriber's frames go (its stream). */
export interface FrameSink {
  /**
   * Sends `frame` now. Returns false when the client is not keeping up: the
   * broadcaster then sends nothing more until the callback given to
   * {@link FrameSink.whenReady} is called.
   */
  send(frame: Frame): boolean;
  /** Calls `resume` (never synchronously) once the client can take frames again. */
  whenReady(resume: () => void): void;
}

/** Options of {@link NotificationBroadcaster}. */
export interface BroadcasterOptions {
  /** Waits between keep-alives. */
  scheduler: Scheduler;
  /** Tells how long a subscriber has been idle. */
  clock: Clock;
  /** Idle time before a keep-alive frame, in ms. */
  keepAliveMs: number;
  /** The register's current version (for keep-alives). */
  currentVersion: () => number;
  /** Notifications a subscriber may fall behind before it is dropped (default 1024). */
  queueLimit?: number;
  /** Subscribers at most (default 10,000); more are refused with resource_exhausted. */
  maxSubscribers?: number;
  /** Subscribers handed a publication's frame per turn (default 32). */
  batchSize?: number;
  /** Runs the next batch of a fan-out (default `process.nextTick`: after the transport's writes). */
  defer?: (next: () => void) => void;
}

/** A publication being fanned out: the subscribers that accept it, and how far it got. */
interface FanOut {
  readonly event: BlueprintEvent;
  readonly subscribers: Subscriber[];
  next: number;
}

/** Options of {@link NotificationBroadcaster.attach}. */
export interface AttachOptions {
  /** What it wants. */
  filters: NotificationFilters;
  /** Where its frames go. */
  sink: FrameSink;
  /** Ends the subscription (the client went away). */
  signal: AbortSignal;
}

interface Subscriber {
  readonly peerId: string;
  readonly accepts: EventFilter;
  readonly sink: FrameSink;
  /** Frames waiting for the sink to be ready. */
  readonly queue: Frame[];
  /** The sink said its client is not keeping up. */
  paused: boolean;
  sequence: number;
  /** When the last frame was sent (clock time). */
  lastSentAt: number;
  /** Set when the subscription is to end with an error once its queue is sent. */
  failure: AppError | undefined;
  /** Ends the subscription: without an error when the client left. */
  finish(error?: AppError): void;
}

/** Broadcasts publications to filtered, independent subscriber streams. */
export class NotificationBroadcaster {
  readonly #subscribers = new Set<Subscriber>();
  readonly #options: Required<BroadcasterOptions>;
  /** Publications not yet handed to every subscriber, oldest first. */
  readonly #fanOuts: FanOut[] = [];
  /** Subscribers whose sink said their client is not keeping up, until it is again. */
  readonly #paused = new Set<Subscriber>();
  /** Called once no fan-out is pending and no subscriber is paused (see {@link settled}). */
  #settledWaiters: (() => void)[] = [];
  #dropped = 0;
  #delivered = 0;

  /** Creates a broadcaster without subscribers. */
  constructor(options: BroadcasterOptions) {
    this.#options = {
      queueLimit: 1024,
      maxSubscribers: 10_000,
      batchSize: 32,
      defer: (next) => process.nextTick(next),
      ...options,
    };
  }

  /** Subscribers now. */
  get size(): number {
    return this.#subscribers.size;
  }

  /** Subscribers dropped for falling behind, since start. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Notifications of publications written to subscribers' streams, since start (keep-alives aside). */
  get delivered(): number {
    return this.#delivered;
  }

  /** Subscribers per peer id. */
  countFor(peerId: string): number {
    let n = 0;
    for (const subscriber of this.#subscribers) if (subscriber.peerId === peerId) n++;
    return n;
  }

  /**
   * Sends `event` to every subscriber whose filters accept it (or queues it
   * for those whose client is not keeping up): the first batch now, the rest
   * on the next ticks, after the publications before it. Returns how many
   * subscribers accept it.
   */
  publish(event: BlueprintEvent): number {
    const subscribers: Subscriber[] = [];
    for (const subscriber of this.#subscribers) {
      if (!subscriber.failure && subscriber.accepts(event)) subscribers.push(subscriber);
    }
    if (subscribers.length > 0) {
      this.#fanOuts.push({ event, subscribers, next: 0 });
      if (this.#fanOuts.length === 1) this.#fanOut();
    }
    return subscribers.length;
  }

  /** Hands the oldest publications' frames to up to `batchSize` subscribers, and defers the rest. */
  #fanOut = (): void => {
    let budget = this.#options.batchSize;
    while (this.#fanOuts.length > 0) {
      const fanOut = this.#fanOuts[0]!;
      while (fanOut.next < fanOut.subscribers.length) {
        if (budget-- === 0) {
          this.#options.defer(this.#fanOut);
          return;
        }
        this.#hand(fanOut.subscribers[fanOut.next++]!, fanOut.event);
      }
      this.#fanOuts.shift();
    }
    this.#checkSettled();
  };

  /**
   * Resolves once every publication is handed to every subscriber and no
   * subscriber's client is behind (each has taken what it was sent), or
   * after `timeoutMs` (a client that stopped reading is dropped only once
   * `queueLimit` notifications wait for it). What hands many publications
   * at once (a burst of another hub's, read from the store) waits for this
   * between runs of them, so that clients that keep up are not dropped.
   */
  settled(options: { timeoutMs: number }): Promise<void> {
    if (this.#isSettled()) return Promise.resolve();
    const stop = new AbortController();
    const woken = new Promise<void>((resolve) => this.#settledWaiters.push(resolve));
    const timedOut = this.#options.scheduler.sleep(options.timeoutMs, stop.signal).catch(() => {});
    return Promise.race([woken, timedOut]).finally(() => stop.abort());
  }

  #isSettled(): boolean {
    return this.#fanOuts.length === 0 && this.#paused.size === 0;
  }

  #checkSettled(): void {
    if (this.#settledWaiters.length === 0 || !this.#isSettled()) return;
    for (const settle of this.#settledWaiters.splice(0)) settle();
  }

  /** Sends `event` to `subscriber`, queues it, or drops the subscriber whose queue is full. */
  #hand(subscriber: Subscriber, event: BlueprintEvent): void {
    // It may have ended since the publication.
    if (subscriber.failure || !this.#subscribers.has(subscriber)) return;
    if (subscriber.paused && subscriber.queue.length >= this.#options.queueLimit) {
      this.#drop(subscriber);
      return;
    }
    this.#deliver(subscriber, { kind: "event", event, sequence: ++subscriber.sequence });
  }

  /**
   * Subscribes `peerId`: sends a keep-alive at once (it is in place), then
   * matching events in order (numbered from 1) and keep-alives while idle.
   * The promise resolves once `signal` aborts (the client left), and rejects
   * with the error that ended the subscription otherwise: resource_exhausted
   * when dropped for falling behind, or the error given to
   * {@link NotificationBroadcaster.closeAll}. Refused with resource_exhausted
   * (thrown) when the hub serves its maximum of subscriptions.
   */
  attach(peerId: string, options: AttachOptions): Promise<void> {
    const { maxSubscribers } = this.#options;
    if (this.#subscribers.size >= maxSubscribers) {
      throw new AppError(
        "resource_exhausted",
        `Cannot subscribe peer "${peerId}": the hub already serves ${maxSubscribers} subscriptions`,
      );
    }
    const { signal, sink } = options;
    const stopKeepAlives = new AbortController();
    let settle!: { resolve: () => void; reject: (error: AppError) => void };
    const ended = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    const onAbort = () => subscriber.finish();
    const subscriber: Subscriber = {
      peerId,
      accepts: compileFilters(options.filters),
      sink,
      queue: [],
      paused: false,
      sequence: 0,
      lastSentAt: this.#options.clock.now(),
      failure: undefined,
      finish: (error) => {
        if (stopKeepAlives.signal.aborted) return;
        stopKeepAlives.abort();
        signal.removeEventListener("abort", onAbort);
        this.#subscribers.delete(subscriber);
        this.#paused.delete(subscriber);
        subscriber.queue.length = 0;
        this.#checkSettled();
        if (error) settle.reject(error);
        else settle.resolve();
      },
    };
    if (signal.aborted) {
      subscriber.finish();
      return ended;
    }
    signal.addEventListener("abort", onAbort, { once: true });
    this.#subscribers.add(subscriber);
    this.#deliver(subscriber, this.#keepAlive());
    void this.#keepAlives(subscriber, stopKeepAlives.signal);
    return ended;
  }

  /**
   * Ends every subscription with `error` (a string: unavailable with that
   * message, as at shutdown), once the notifications already queued for it
   * are sent.
   */
  closeAll(error: string | AppError): void {
    // Publications still being fanned out reach everyone first.
    while (this.#fanOuts.length > 0) {
      const fanOut = this.#fanOuts.shift()!;
      for (let n = fanOut.next; n < fanOut.subscribers.length; n++) {
        this.#hand(fanOut.subscribers[n]!, fanOut.event);
      }
    }
    const failure = typeof error === "string" ? new AppError("unavailable", error) : error;
    for (const subscriber of this.#subscribers) {
      subscriber.failure = failure;
      if (!subscriber.paused) subscriber.finish(failure);
    }
    this.#subscribers.clear();
  }

  #keepAlive(): Frame {
    return { kind: "keepalive", version: this.#options.currentVersion() };
  }

  /** Sends `frame` now, or queues it while the sink is not ready. */
  #deliver(subscriber: Subscriber, frame: Frame): void {
    if (subscriber.paused) {
      subscriber.queue.push(frame);
      return;
    }
    this.#send(subscriber, frame);
  }

  #send(subscriber: Subscriber, frame: Frame): void {
    subscriber.lastSentAt = this.#options.clock.now();
    if (frame.kind === "event") this.#delivered++;
    if (!subscriber.sink.send(frame)) {
      subscriber.paused = true;
      this.#paused.add(subscriber);
      subscriber.sink.whenReady(() => this.#resume(subscriber));
    }
  }

  /** The sink is ready again: sends what queued, while it stays ready. */
  #resume(subscriber: Subscriber): void {
    subscriber.paused = false;
    while (!subscriber.paused) {
      const frame = subscriber.queue.shift();
      if (frame === undefined) break;
      this.#send(subscriber, frame);
    }
    if (!subscriber.paused) {
      this.#paused.delete(subscriber);
      if (subscriber.failure) subscriber.finish(subscriber.failure);
      this.#checkSettled();
    }
  }

  /** Sends a keep-alive whenever `subscriber` has been sent nothing for `keepAliveMs`. */
  async #keepAlives(subscriber: Subscriber, signal: AbortSignal): Promise<void> {
    const { scheduler, clock, keepAliveMs } = this.#options;
    while (!signal.aborted) {
      const idleFor = clock.now() - subscriber.lastSentAt;
      if (idleFor < keepAliveMs) {
        await scheduler.sleep(keepAliveMs - idleFor, signal);
        continue;
      }
      // A paused subscriber has frames waiting already; it gets no keep-alive on top.
      if (subscriber.paused) await scheduler.sleep(keepAliveMs, signal);
      else this.#send(subscriber, this.#keepAlive());
    }
  }

  #drop(subscriber: Subscriber): void {
    this.#dropped++;
    subscriber.finish(
      new AppError(
        "resource_exhausted",
        `Subscription of peer "${subscriber.peerId}" dropped: it fell ${this.#options.queueLimit} notifications behind (its client is not reading)`,
      ),
    );
  }
}
