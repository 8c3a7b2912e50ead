/**
 * The handle of the SQLite replica's writer worker (`sqlite_writer_worker.ts`)
 * and what the two say to each other. A replacement's writes (thousands of
 * rows, their transactions and the WAL they fill) run there, on a connection
 * of the worker's own to the same file, while the calling thread goes on
 * receiving and checking the entries that follow: see the worker's module for
 * why. Requests are handled one at a time in the order they are posted; each
 * is answered.
 *
 * A worker that fails to start or dies fails every request waiting for it,
 * and every later one, with an `unavailable` {@link AppError}: a replacement
 * it was writing is never committed, and the old replica stays (its store
 * starts a new worker for the next replacement).
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import { BufferPool } from "../../shared/buffer_pool.ts";
import { AppError, type ErrorCode, isErrorCode } from "../../shared/errors.ts";
import type { RowBatch } from "./sqlite_row_batch.ts";
import { UNIQUE_VIOLATIONS } from "./sqlite_schema.ts";
import type { ReplicaCheckpoint } from "./types.ts";

/** How long closing waits for the worker to close its connection before it is terminated, in ms. */
const CLOSE_TIMEOUT_MS = 5_000;

/** The least size of a documents buffer (a part of 1,024 entries of 1 KiB fits). */
const BUFFER_BYTES = 2 * 1024 * 1024;

/** What the writer is asked (`id`: the request's, echoed by its answer). */
export type WriterRequest =
  | { id: number; kind: "open"; path: string }
  | { id: number; kind: "begin"; replacement: number }
  | { id: number; kind: "add"; replacement: number; batch: RowBatch }
  | { id: number; kind: "commit"; replacement: number; checkpoint: ReplicaCheckpoint }
  | { id: number; kind: "abort"; replacement: number }
  | { id: number; kind: "close" };

/** A failure, as the worker reports it. */
export interface WriterFailure {
  /** What failed and why. */
  message: string;
  /** The {@link AppError} code, when the worker threw one. */
  code?: ErrorCode;
  /** SQLite's extended result code, when SQLite failed. */
  errcode?: number;
}

/**
 * The writer's answer to a request (with an `add`'s documents buffer, handed back), or a problem
 * of its clean-up after one (to log).
 */
export type WriterReply =
  | { id: number; ok: true; returned?: ArrayBuffer }
  | { id: number; ok: false; failure: WriterFailure }
  | { warning: string };

/** `T` without `K`, member by member of a union. */
type Without<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A request without its id, as callers give it. */
type Request = Without<WriterRequest, "id">;

/** The worker of one replica store, started on creation; {@link SqliteWriter.close} ends it. */
export class SqliteWriter {
  /** `SQLite at {path}`, for messages. */
  readonly where: string;
  readonly #worker: Worker;
  readonly #logger: Logger;
  readonly #waiting = new Map<number, PromiseWithResolvers<void>>();
  /** Documents buffers the worker handed back, for the next parts. */
  readonly #buffers = new BufferPool({ minBytes: BUFFER_BYTES, kept: 4 });
  #nextId = 1;
  /** Why the worker can no longer answer, once it cannot. */
  #broken: AppError | undefined;
  #closing: Promise<void> | undefined;

  /**
   * Starts the worker, which opens `path` (requests made meanwhile wait their turn); problems of
   * its clean-up go to `logger`. `module` replaces the worker's module (tests give one that
   * fails).
   */
  constructor(path: string, logger: Logger, module?: URL) {
    this.where = `SQLite at ${path}`;
    this.#logger = logger;
    this.#worker = new Worker(module ?? new URL("./sqlite_writer_worker.ts", import.meta.url), {
      type: "module",
      name: "replica-writer",
    });
    this.#worker.onmessage = (event: MessageEvent<WriterReply>) => this.#answered(event.data);
    this.#worker.onerror = (event) => {
      event.preventDefault();
      this.#break(`its worker failed: ${event.message}`);
    };
    this.#worker.onmessageerror = () => this.#break("an answer of its worker could not be read");
    // Failures show at the replacement's next step.
    this.request({ kind: "open", path }).catch(() => {});
  }

  /** Whether the worker can no longer answer (the store starts another). */
  get broken(): boolean {
    return this.#broken !== undefined;
  }

  /**
   * Posts a request (`transfer`: buffers handed over, unusable here afterwards); resolves once
   * it is done, rejects with the {@link AppError} it failed with.
   */
  request(request: Request, transfer: Transferable[] = []): Promise<void> {
    if (this.#broken) return Promise.reject(this.#broken);
    const id = this.#nextId++;
    const waiting = Promise.withResolvers<void>();
    this.#waiting.set(id, waiting);
    this.#worker.postMessage({ ...request, id }, transfer);
    return waiting.promise;
  }

  /** A buffer of at least `bytes` for a part's documents (one handed back, or a new one). */
  buffer(bytes: number): ArrayBuffer {
    return this.#buffers.take(bytes);
  }

  /** Closes the worker's connection and ends the worker; requests still waiting fail. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    if (!this.#broken) {
      const closed = this.request({ kind: "close" }).catch(() => {});
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<void>((resolve) => timer = setTimeout(resolve, CLOSE_TIMEOUT_MS));
      await Promise.race([closed, late]);
      clearTimeout(timer);
    }
    this.#break("the store was closed");
  }

  #answered(reply: WriterReply): void {
    if ("warning" in reply) {
      this.#logger.warn("{where}: {warning}", { where: this.where, warning: reply.warning });
      return;
    }
    const waiting = this.#waiting.get(reply.id);
    if (!waiting) return;
    this.#waiting.delete(reply.id);
    if (reply.ok && reply.returned) this.#buffers.give(reply.returned);
    if (reply.ok) waiting.resolve();
    else waiting.reject(this.#error(reply.failure));
  }

  /** Ends the worker and fails whatever waits for it. */
  #break(why: string): void {
    if (this.#broken) return;
    this.#broken = new AppError("unavailable", `${this.where}: the replica writer stopped: ${why}`);
    this.#worker.terminate();
    for (const waiting of this.#waiting.values()) waiting.reject(this.#broken);
    this.#waiting.clear();
  }

  /**
   * The error for a failure: the worker's {@link AppError} code as it is; two blueprints given
   * one version, `failed_precondition`; anything else, `unavailable`.
   */
  #error(failure: WriterFailure): AppError {
    if (failure.code && isErrorCode(failure.code)) {
      return new AppError(failure.code, `${this.where}: ${failure.message}`);
    }
    if (failure.errcode !== undefined && UNIQUE_VIOLATIONS.has(failure.errcode)) {
      return new AppError(
        "failed_precondition",
        `${this.where}: ${failure.message} (two blueprints would hold one version)`,
      );
    }
    return new AppError("unavailable", `${this.where}: ${failure.message}`);
  }
}
