/**
 * A full sync's changes on Redis, all or nothing whatever their number, with
 * no command that holds Redis for long:
 *
 * 1. the value writes and deletions go to a journal (a list beside the
 *    advertisements, one element per chunk of entries), without touching any
 *    advertisement;
 * 2. one SET of the commit marker, which holds the full sync's record, commits
 *    them;
 * 3. they are applied to the advertisement keys, in chunks;
 * 4. one MULTI/EXEC writes the record and deletes the marker and the journal.
 *
 * A crash before step 2 leaves the advertisements and the record as they were
 * (the journal left behind is dropped); after it, the store's next use applies
 * the journal again, to the end, and finishes (steps 3 and 4 do the same
 * whatever was applied before). So the store never shows part of a full sync:
 * {@link settleJournal} runs before it is read or written.
 *
 * A journal entry is one line: `<key> <lease end in ms> <value>` to write a
 * key, `<key> -` to delete it (keys hold neither spaces nor newlines, values
 * no newline).
 *
 * @module
 */
import { chunks, type SetPlan } from "./redis_batch_plan.ts";
import type { RedisConnection } from "./redis_connection.ts";
import { sendPuts } from "./redis_scripts.ts";
import { BoundedSender } from "./redis_sender.ts";
import {
  type Advertisement,
  decodeAdvertisement,
  encodeAdvertisement,
  FULL_SYNC_KEY,
  type FullSyncRecord,
} from "./types.ts";

/** The journal of the full sync being written (a list, one element per chunk of entries). */
export const JOURNAL_KEY = "peer:advert:journal";
/** The commit marker: the full sync's record, set once its journal is whole. */
export const JOURNAL_COMMIT_KEY = "peer:advert:journal-commit";
/** Entries of one journal element, and keys of one command applying them. */
const CHUNK = 5_000;

/** A full sync's changes, reduced to one operation per key. */
export interface JournalWrite {
  /** Keys to write, with their values and lease ends. */
  sets: readonly SetPlan[];
  /** Keys to delete. */
  deletes: readonly string[];
  /** The full sync's record. */
  record: FullSyncRecord;
}

/** Writes a full sync's changes and record through the journal (see the module documentation). */
export async function writeThroughJournal(
  connection: RedisConnection,
  write: JournalWrite,
): Promise<void> {
  const { client } = connection;
  const stage = new BoundedSender(connection, "writing a full sync's journal failed");
  // Left by a write that failed before its commit (a committed one is settled before).
  await stage.send(0, () => client.unlink(JOURNAL_KEY));
  for (const chunk of chunks(write.sets, CHUNK)) {
    const lines = chunk.map((set) =>
      `${set.key} ${set.expiresAt} ${encodeAdvertisement(set.advertisement)}`
    ).join("\n");
    await stage.send(lines.length, () => client.rpush(JOURNAL_KEY, lines));
  }
  for (const chunk of chunks(write.deletes, CHUNK)) {
    const lines = chunk.map((key) => `${key} -`).join("\n");
    await stage.send(lines.length, () => client.rpush(JOURNAL_KEY, lines));
  }
  await stage.drain();
  const record = JSON.stringify(write.record);
  try {
    await client.set(JOURNAL_COMMIT_KEY, record); // The commit.
  } catch (error) {
    throw connection.failure("committing a full sync's journal failed", error);
  }
  await apply(connection, write);
  await finish(connection, record);
}

/**
 * Finishes a committed journal a crash left (applies it to the end, writes its record) or
 * drops an uncommitted one. Resolves with the record of the full sync it finished, if any.
 */
export async function settleJournal(
  connection: RedisConnection,
): Promise<FullSyncRecord | undefined> {
  const { client } = connection;
  let record: string | null;
  let length: number;
  try {
    record = await client.get(JOURNAL_COMMIT_KEY);
    if (record === null) {
      await client.unlink(JOURNAL_KEY);
      return undefined;
    }
    length = await client.llen(JOURNAL_KEY);
  } catch (error) {
    throw connection.failure("reading a full sync's journal failed", error);
  }
  for (let index = 0; index < length; index++) {
    let element: string | null;
    try {
      element = await client.lindex(JOURNAL_KEY, index);
    } catch (error) {
      throw connection.failure("reading a full sync's journal failed", error);
    }
    const { sets, deletes } = parseElement(element ?? "");
    await apply(connection, { sets, deletes });
  }
  await finish(connection, record);
  return JSON.parse(record) as FullSyncRecord;
}

/** Writes `sets` (those whose lease has not ended) and deletes `deletes`, in chunks. */
async function apply(
  connection: RedisConnection,
  { sets, deletes }: { sets: readonly SetPlan[]; deletes: readonly string[] },
): Promise<void> {
  const { client } = connection;
  const sender = new BoundedSender(connection, "applying a full sync failed");
  const now = Date.now();
  const live: SetPlan[] = [];
  const ended: string[] = [];
  for (const set of sets) {
    if (set.expiresAt > now) live.push(set);
    else ended.push(set.key); // Its lease ended meanwhile (a journal finished late).
  }
  for (const chunk of chunks(live, CHUNK)) await sendPuts(sender, { client, chunk, mode: "" });
  for (const chunk of chunks([...deletes, ...ended], CHUNK)) {
    await sender.send(chunk.length * 64, () => client.del(...chunk));
  }
  await sender.drain();
}

/** The entries of one journal element (lines that do not parse are skipped). */
function parseElement(element: string): { sets: SetPlan[]; deletes: string[] } {
  const sets: SetPlan[] = [];
  const deletes: string[] = [];
  for (const line of element.split("\n")) {
    const space = line.indexOf(" ");
    if (space <= 0) continue;
    const key = line.slice(0, space);
    if (line.slice(space + 1) === "-") {
      deletes.push(key);
      continue;
    }
    const second = line.indexOf(" ", space + 1);
    const expiresAt = Number(line.slice(space + 1, second));
    const advertisement: Advertisement | undefined = second > 0
      ? decodeAdvertisement(line.slice(second + 1))
      : undefined;
    if (advertisement && Number.isFinite(expiresAt)) sets.push({ key, advertisement, expiresAt });
  }
  return { sets, deletes };
}

/** Writes the record and deletes the marker and the journal, as one. */
async function finish(connection: RedisConnection, record: string): Promise<void> {
  const multi = connection.client.multi();
  multi.set(FULL_SYNC_KEY, record);
  multi.del(JOURNAL_COMMIT_KEY);
  // Freed by a background thread, not while Redis waits.
  multi.unlink(JOURNAL_KEY);
  await connection.exec(multi, "finishing a full sync's journal failed");
}
