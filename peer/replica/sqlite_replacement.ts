/**
 * A replacement of the SQLite replica, written by the store's writer worker
 * (`sqlite_writer.ts`): each `add` checks its entries, hands them over as
 * column batches (`sqlite_row_batch.ts`) and resolves at once while less than
 * {@link IN_FLIGHT_BYTES} of documents wait to be written, so that the worker
 * writes one part while the caller receives the next; the commit waits for
 * every part, then points the checkpoint at the new table in one transaction.
 * A part that failed fails the next `add`, or the commit.
 *
 * @module
 */
import { checkEntry } from "./entry_codec.ts";
import { ReplacementBase } from "./replacement.ts";
import { rowBatches } from "./sqlite_row_batch.ts";
import type { SqliteWriter } from "./sqlite_writer.ts";
import type { ReplicaCheckpoint, ReplicaEntry } from "./types.ts";

/** Bytes of documents that may wait for the writer while the caller goes on. */
export const IN_FLIGHT_BYTES = 32 * 1024 * 1024;

/** A replacement filling the table that is not live, through the store's writer. */
export class SqliteReplacement extends ReplacementBase {
  readonly #writer: SqliteWriter;
  readonly #id: number;
  /** Steps posted and not yet waited for, oldest first, with their size. */
  readonly #inFlight: { done: Promise<void>; bytes: number }[] = [];
  #inFlightBytes = 0;
  /** The first failure of a step posted. */
  #failure: unknown;

  /**
   * A new, open replacement (number `id` of its store) written by `writer`, which empties the
   * table that is not live first.
   */
  constructor(writer: SqliteWriter, id: number) {
    super(writer.where);
    this.#writer = writer;
    this.#id = id;
    this.#track(writer.request({ kind: "begin", replacement: id }), 0);
  }

  protected override async write(entries: readonly ReplicaEntry[]): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure;
    entries.forEach(checkEntry);
    this.checkCurrent("add entries to");
    for (const batch of rowBatches(entries, (bytes) => this.#writer.buffer(bytes))) {
      const done = this.#writer.request(
        { kind: "add", replacement: this.#id, batch },
        [batch.documents],
      );
      this.#track(done, batch.bytes);
    }
    while (this.#inFlightBytes > IN_FLIGHT_BYTES) await this.#waitOldest();
    if (this.#failure !== undefined) throw this.#failure;
  }

  protected override async swap(checkpoint: ReplicaCheckpoint): Promise<void> {
    while (this.#inFlight.length > 0) await this.#waitOldest();
    if (this.#failure !== undefined) throw this.#failure;
    this.checkCurrent("commit");
    await this.#writer.request({ kind: "commit", replacement: this.#id, checkpoint });
  }

  protected override async discard(): Promise<void> {
    this.#inFlight.length = 0;
    this.#inFlightBytes = 0;
    // A newer replacement owns the table now (the writer would refuse anyway).
    if (this.superseded) return;
    await this.#writer.request({ kind: "abort", replacement: this.#id }).catch(() => {});
  }

  #track(done: Promise<void>, bytes: number): void {
    const answered = done.then(() => {}, (error: unknown) => {
      this.#failure ??= error;
    });
    this.#inFlight.push({ done: answered, bytes });
    this.#inFlightBytes += bytes;
  }

  /** Waits for the oldest step in flight to be answered. */
  async #waitOldest(): Promise<void> {
    const oldest = this.#inFlight.shift();
    if (!oldest) return;
    this.#inFlightBytes -= oldest.bytes;
    await oldest.done;
  }
}
