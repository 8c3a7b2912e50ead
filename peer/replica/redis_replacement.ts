/**
 * A replacement of the Redis replica: entries go to the staging keys (in
 * commands encoded at once, `resp_commands.ts`), and the commit swaps them in
 * with the checkpoint in one script (`COMMIT_SCRIPT`).
 *
 * @module
 */
import { BufferPool } from "../../shared/buffer_pool.ts";
import { queueScript, type RedisConnection } from "../store/mod.ts";
import { checkEntry, encodeCheckpoint } from "./entry_codec.ts";
import { COMMIT_COMMAND, REPLICA_KEYS, STAGING_KEYS, upsertCommands } from "./redis_layout.ts";
import { ReplacementBase } from "./replacement.ts";
import { RespEncoder } from "./resp_commands.ts";
import type { ReplicaCheckpoint, ReplicaEntry } from "./types.ts";

/** Bytes of a replacement's parts that may wait for Redis's answer while the caller goes on. */
export const IN_FLIGHT_BYTES = 4 * 1024 * 1024;
/** About what an entry's fields take, beside its document (for {@link IN_FLIGHT_BYTES}). */
const ENTRY_FIELDS_BYTES = 256;
/** The least size of a part's buffer (1,024 entries of 1 KiB and their fields fit). */
const PART_BUFFER_BYTES = 2 * 1024 * 1024;

/**
 * A replacement filling the staging keys. An `add` sends its entries and resolves at once while
 * less than {@link IN_FLIGHT_BYTES} wait for Redis's answer (so Redis stores one part while the
 * next is encoded), otherwise once enough of them are answered; a failure shows at the next
 * `add` or at `commit`, which waits for every part first.
 */
export class RedisReplacement extends ReplacementBase {
  readonly #connection: RedisConnection;
  /** Parts sent and not yet waited for, oldest first, with their size. */
  readonly #inFlight: { answered: Promise<void>; bytes: number }[] = [];
  #inFlightBytes = 0;
  /** The first failure of a part sent. */
  #failure: unknown;
  /** Buffers of parts answered, to encode the next parts in (`shared/buffer_pool.ts`). */
  readonly #buffers = new BufferPool({ minBytes: PART_BUFFER_BYTES, kept: 4 });

  /**
   * A new, open replacement on `connection`, whose client has `COMMIT_SCRIPT` defined as
   * `COMMIT_COMMAND` (its store deletes leftover staging keys first).
   */
  constructor(connection: RedisConnection) {
    super(`Redis at ${connection.where}`);
    this.#connection = connection;
  }

  protected override async write(entries: readonly ReplicaEntry[]): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure;
    entries.forEach(checkEntry);
    await this.#connection.ensureReady("add entries to a replacement");
    // After the last await: a newer replacement has deleted the staging keys, or will after this.
    this.checkCurrent("add entries to");
    let bytes = 0;
    for (const entry of entries) bytes += ENTRY_FIELDS_BYTES + (entry.document?.byteLength ?? 0);
    // Documents, and room for the rest (ids thrice, fields' JSON, headers) beside them.
    const encoder = new RespEncoder(this.#buffers.take(bytes + entries.length * 512));
    upsertCommands({ keys: STAGING_KEYS, entries }, (name, args) => encoder.command(name, args));
    const { client } = this.#connection;
    const replies = encoder.take().map((command) => {
      client.sendCommand(command);
      return command.promise;
    });
    const answered = Promise.all(replies).then(() => {
      this.#buffers.give(encoder.buffer);
    }, (error: unknown) => {
      this.#failure ??= this.#connection.failure("adding entries to a replacement failed", error);
    });
    this.#inFlight.push({ answered, bytes });
    this.#inFlightBytes += bytes;
    while (this.#inFlightBytes > IN_FLIGHT_BYTES) await this.#waitOldest();
    if (this.#failure !== undefined) throw this.#failure;
  }

  protected override async swap(checkpoint: ReplicaCheckpoint): Promise<void> {
    while (this.#inFlight.length > 0) await this.#waitOldest();
    if (this.#failure !== undefined) throw this.#failure;
    await this.#connection.ensureReady("commit a replacement");
    this.checkCurrent("commit");
    const pipeline = this.#connection.client.pipeline();
    queueScript(pipeline, COMMIT_COMMAND, {
      keys: [
        REPLICA_KEYS.entries,
        REPLICA_KEYS.documents,
        REPLICA_KEYS.versions,
        STAGING_KEYS.entries,
        STAGING_KEYS.documents,
        STAGING_KEYS.versions,
        REPLICA_KEYS.checkpoint,
      ],
      args: [encodeCheckpoint(checkpoint), checkpoint.blueprints],
    });
    await this.#connection.exec(pipeline, "committing a replacement failed");
  }

  protected override async discard(): Promise<void> {
    try {
      await this.#connection.ensureReady("abort a replacement");
      // A newer replacement owns the staging keys now.
      if (this.superseded) return;
      const pipeline = this.#connection.client.pipeline();
      pipeline.del(STAGING_KEYS.entries, STAGING_KEYS.documents, STAGING_KEYS.versions);
      await this.#connection.exec(pipeline, "deleting the staging keys failed");
    } catch {
      // Left for the next replacement, which deletes them first.
    }
  }

  /** Waits for the oldest part in flight to be answered. */
  async #waitOldest(): Promise<void> {
    const oldest = this.#inFlight.shift();
    if (!oldest) return;
    this.#inFlightBytes -= oldest.bytes;
    await oldest.answered;
  }
}
