/**
 * The SQLite replica's writer: a Web Worker that writes a replacement's
 * entries (a full sync) into the entry table that is not live, and commits
 * it with its checkpoint, on a connection of its own to the replica's file.
 *
 * Why a worker: `node:sqlite` only works synchronously, and a full sync of
 * 10,000 entries of 1 KiB spends some 70 ms of its thread in SQLite (binding
 * the rows, B-tree inserts, writing the WAL at each commit), plus the WAL
 * checkpoint after it. On the hub link's thread that time adds to the sync's,
 * which is otherwise bound by receiving and checking the entries; here it
 * runs beside them, on another core. WAL mode lets the link's own connection
 * read (and `apply` write, between this worker's short transactions)
 * meanwhile; readers in any process see the old replica until the commit,
 * which is one transaction as before, so a crash at any instant still leaves
 * the old replica or the new one.
 *
 * Requests (`sqlite_writer.ts`) are handled one at a time, in order: a newer
 * replacement's `begin` empties the table after whatever an older one still
 * had in the queue, and that older one's later requests are refused. Each
 * answer is `{ id, ok }` or `{ id, ok: false, failure }`; a failed step rolls
 * its transaction back. The WAL is not checkpointed at this connection's
 * commits (SQLite would, at the commit crossing its threshold, and wait for
 * the disk): a passive checkpoint follows each commit or abort, after its
 * answer.
 *
 * The worker's thread runs at a lower priority (`shared/thread_priority.ts`):
 * it yields to the link's thread while the cores are busy, and a commit still
 * waits for every part.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import type { DatabaseSync } from "node:sqlite";
import { AppError, errorMessage } from "../../shared/errors.ts";
import { openSqliteDatabase } from "../../shared/sqlite.ts";
import { lowerThreadPriority } from "../../shared/thread_priority.ts";
import { upsertBatch } from "./sqlite_row_batch.ts";
import {
  liveSlot,
  otherSlot,
  prepareReplicaStatements,
  putCheckpoint,
  REPLICA_PAGE_SIZE,
  REPLICA_SCHEMA,
  type ReplicaStatements,
  type Slot,
} from "./sqlite_schema.ts";
import type { WriterFailure, WriterReply, WriterRequest } from "./sqlite_writer.ts";

/** The connection and the replacement being written. */
interface Writer {
  db: DatabaseSync;
  statements: ReplicaStatements;
  /** The replacement being written and its table. */
  current: { replacement: number; slot: Slot } | undefined;
}

lowerThreadPriority();

let writer: Writer | undefined;
/** Why the connection could not be opened, if it could not. */
let openFailure: string | undefined;

self.onmessage = (event: MessageEvent<WriterRequest>) => {
  const request = event.data;
  let after: (() => void) | undefined;
  let reply: WriterReply;
  try {
    after = handle(request);
    reply = { id: request.id, ok: true };
  } catch (error) {
    reply = { id: request.id, ok: false, failure: failureOf(error) };
  }
  if (request.kind === "add") {
    // The part's buffer goes back for the next part (see `SqliteWriter.buffer`).
    const returned = request.batch.documents;
    self.postMessage(reply.ok ? { ...reply, returned } : reply, [returned]);
  } else {
    self.postMessage(reply);
  }
  try {
    after?.();
  } catch (error) {
    // Only clean-up: the next replacement empties its table first; SQLite checkpoints later.
    const warning: WriterReply = {
      warning: `could not clean up after a replacement: ${failureOf(error).message}`,
    };
    self.postMessage(warning);
  }
};

/** Does what `request` asks; returns clean-up to do once it is answered. */
function handle(request: WriterRequest): (() => void) | undefined {
  if (request.kind === "open") {
    try {
      writer = open(request.path);
    } catch (error) {
      openFailure = errorMessage(error);
      throw error;
    }
    return undefined;
  }
  if (!writer) {
    throw new AppError(
      "unavailable",
      openFailure === undefined
        ? "the writer's connection is closed"
        : `the writer could not open the database: ${openFailure}`,
    );
  }
  const w = writer;
  switch (request.kind) {
    case "begin": {
      // What an older replacement, or a crash, left in the other table goes first.
      const slot = transaction(w, () => {
        const standby = otherSlot(liveSlot(w.statements));
        w.statements.tables[standby].clear.run();
        return standby;
      });
      w.current = { replacement: request.replacement, slot };
      return undefined;
    }
    case "add": {
      const { slot } = ofCurrent(w, request.replacement, "add entries to");
      const { upsert } = w.statements.tables[slot];
      transaction(w, () => {
        upsertBatch(request.batch, upsert);
      });
      return undefined;
    }
    case "commit": {
      const { slot } = ofCurrent(w, request.replacement, "commit");
      w.current = undefined;
      transaction(w, () => {
        if (liveSlot(w.statements) === slot) {
          throw new AppError("failed_precondition", "another replacement was committed meanwhile");
        }
        putCheckpoint(w.statements, request.checkpoint, slot);
      });
      // The replaced replica is no longer read: emptied now (or by the next replacement).
      return () => {
        w.statements.tables[otherSlot(slot)].clear.run();
        checkpointWal(w);
      };
    }
    case "abort": {
      if (w.current?.replacement !== request.replacement) return undefined; // a newer one's table
      const { slot } = w.current;
      w.current = undefined;
      return () => {
        transaction(w, () => {
          if (liveSlot(w.statements) !== slot) w.statements.tables[slot].clear.run();
        });
        checkpointWal(w);
      };
    }
    case "close":
      w.db.close();
      writer = undefined;
      return undefined;
  }
}

function open(path: string): Writer {
  const db = openSqliteDatabase(path, REPLICA_SCHEMA, { pageSize: REPLICA_PAGE_SIZE });
  try {
    db.exec("PRAGMA wal_autocheckpoint = 0");
    return { db, statements: prepareReplicaStatements(db), current: undefined };
  } catch (error) {
    db.close();
    throw error;
  }
}

/** The replacement being written, when it is `replacement`; throws otherwise. */
function ofCurrent(
  w: Writer,
  replacement: number,
  what: string,
): { replacement: number; slot: Slot } {
  if (w.current?.replacement !== replacement) {
    throw new AppError(
      "failed_precondition",
      `cannot ${what} the replica replacement: a newer replacement dropped it`,
    );
  }
  return w.current;
}

/** The live table's slot (0 before the first checkpoint). */
/** Runs `work` in one write transaction, rolled back when it throws. */
function transaction<T>(w: Writer, work: () => T): T {
  w.db.exec("BEGIN IMMEDIATE");
  try {
    const result = work();
    w.db.exec("COMMIT");
    return result;
  } catch (error) {
    if (w.db.isTransaction) w.db.exec("ROLLBACK");
    throw error;
  }
}

/** Checkpoints the WAL passively (never waiting for readers). */
function checkpointWal(w: Writer): void {
  w.db.exec("PRAGMA wal_checkpoint(PASSIVE)");
}

function failureOf(error: unknown): WriterFailure {
  const message = errorMessage(error);
  if (error instanceof AppError) return { message, code: error.code };
  const errcode: unknown = error instanceof Error ? Reflect.get(error, "errcode") : undefined;
  return typeof errcode === "number" ? { message, errcode } : { message };
}
