/**
 * Commands of one large write sent one after another without waiting for
 * each answer, but with at most {@link IN_FLIGHT_BYTES} of them unanswered:
 * Redis stores one chunk while the next is encoded, the client never holds
 * the whole write encoded at once, and no command waits behind so many others
 * that its timeout (counted from when it is sent) runs out.
 *
 * @module
 */
import type { RedisConnection } from "./redis_connection.ts";

/** Bytes of commands that may wait for Redis's answer while more are sent. */
export const IN_FLIGHT_BYTES = 4 * 1024 * 1024;

/** Sends the commands of one write; see the module documentation. */
export class BoundedSender {
  readonly #connection: RedisConnection;
  readonly #what: string;
  readonly #inFlight: { answered: Promise<void>; bytes: number }[] = [];
  #inFlightBytes = 0;
  #failure: unknown;

  /** A sender on `connection`; `what` names the write in failures (`writing advertisements failed`). */
  constructor(connection: RedisConnection, what: string) {
    this.#connection = connection;
    this.#what = what;
  }

  /**
   * Sends one command of about `bytes` bytes (`send` calls the client and returns its reply),
   * once few enough are unanswered. Resolves, once sent, with its `reply` (already watched: a
   * failure also shows at {@link drain}); throws the first failure of a command sent before.
   */
  async send<T>(bytes: number, send: () => Promise<T>): Promise<{ reply: Promise<T> }> {
    while (this.#inFlightBytes > IN_FLIGHT_BYTES) await this.#waitOldest();
    this.#throwFailure();
    const reply = send();
    const answered = reply.then(() => {}, (error: unknown) => {
      this.#failure ??= error;
    });
    this.#inFlight.push({ answered, bytes });
    this.#inFlightBytes += bytes;
    // Wrapped: a promise returned as it is would be waited for.
    return { reply };
  }

  /** Waits for every command sent; throws the first failure as an `unavailable` AppError. */
  async drain(): Promise<void> {
    while (this.#inFlight.length > 0) await this.#waitOldest();
    this.#throwFailure();
  }

  #throwFailure(): void {
    if (this.#failure !== undefined) throw this.#connection.failure(this.#what, this.#failure);
  }

  async #waitOldest(): Promise<void> {
    const oldest = this.#inFlight.shift();
    if (!oldest) return;
    this.#inFlightBytes -= oldest.bytes;
    await oldest.answered;
  }
}
