/**
 * The Redis replica's keys, and how entries are written under them: the
 * entry's JSON (its document aside) in one hash, the document's bytes in
 * another (no field when withheld), the version in a sorted set; the same
 * three for the live replica and for a replacement's staging copy.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { ChainableCommander } from "ioredis";
import { encodeEntryFields } from "./entry_codec.ts";
import type { RespArgument } from "./resp_commands.ts";
import type { ReplicaEntry } from "./types.ts";

/** The replica's entry keys (a live set or a staging set). */
export interface ReplicaEntryKeys {
  /** Hash: blueprint id → the entry's JSON without its document. */
  readonly entries: string;
  /** Hash: blueprint id → the document's bytes (no field when withheld). */
  readonly documents: string;
  /** Sorted set: score the version, member the blueprint id. */
  readonly versions: string;
}

/** The live replica's keys. */
export const REPLICA_KEYS: ReplicaEntryKeys & { readonly checkpoint: string } = {
  checkpoint: "peer:replica:checkpoint",
  entries: "peer:replica:entries",
  documents: "peer:replica:documents",
  versions: "peer:replica:versions",
};

/** Where a replacement builds the new replica until its commit. */
export const STAGING_KEYS: ReplicaEntryKeys = {
  entries: "peer:replica:staging:entries",
  documents: "peer:replica:staging:documents",
  versions: "peer:replica:staging:versions",
};

/** The name a replica store gives {@link COMMIT_SCRIPT} (`defineCommand`). */
export const COMMIT_COMMAND = "peerReplicaCommit";

/**
 * A replacement's commit, atomic. First a check: the staging keys must hold as many blueprints as
 * the checkpoint counts (a Redis that restarted without its data, or lost writes otherwise, during
 * the replacement would hold fewer); otherwise an error, and nothing changes. Then the live keys
 * unlinked (freed by a background thread), each staging key that exists renamed to its live key
 * (one the new replica leaves empty was never written, and stays deleted), the checkpoint set.
 * KEYS: the live entries, documents and versions, the staging ones in that order, and the
 * checkpoint; ARGV: the checkpoint's JSON, and the blueprints it counts.
 */
export const COMMIT_SCRIPT = `
local expected = tonumber(ARGV[2])
local entries = redis.call('HLEN', KEYS[4])
local versions = redis.call('ZCARD', KEYS[6])
if entries ~= expected or versions ~= expected then
  return redis.error_reply('ERR the staging keys hold ' .. entries .. ' entries and ' .. versions ..
    ' versions, not the ' .. expected .. ' blueprints the checkpoint counts: Redis lost writes' ..
    ' during the replacement, which is not committed')
end
redis.call('UNLINK', KEYS[1], KEYS[2], KEYS[3])
for i = 1, 3 do
  if redis.call('EXISTS', KEYS[i + 3]) == 1 then redis.call('RENAME', KEYS[i + 3], KEYS[i]) end
end
redis.call('SET', KEYS[7], ARGV[1])
return 1
`;

/** Most entries (or removals) sent in one command. */
export const WRITE_CHUNK = 1000;

/** Takes one command of {@link upsertCommands}: its name and arguments (the key first). */
export type CommandSink = (name: "HSET" | "HDEL" | "ZADD", args: RespArgument[]) => void;

/**
 * The commands storing entries under `keys` (the last entry of a blueprint wins), handed to
 * `sink`: entries' JSON, documents (or the removal of a withheld one's) and versions, in chunks.
 */
export function upsertCommands(
  write: { keys: ReplicaEntryKeys; entries: readonly ReplicaEntry[] },
  sink: CommandSink,
): void {
  const { keys } = write;
  const last = new Map<string, ReplicaEntry>();
  for (const entry of write.entries) last.set(entry.blueprintId, entry);
  for (const chunk of chunks([...last.values()], WRITE_CHUNK)) {
    const fields: RespArgument[] = [keys.entries];
    const documents: RespArgument[] = [keys.documents];
    const withheld: RespArgument[] = [keys.documents];
    const versions: RespArgument[] = [keys.versions];
    for (const entry of chunk) {
      fields.push(entry.blueprintId, encodeEntryFields(entry));
      versions.push(entry.version, entry.blueprintId);
      const { document } = entry;
      if (document === undefined) withheld.push(entry.blueprintId);
      else documents.push(entry.blueprintId, document);
    }
    sink("HSET", fields);
    if (documents.length > 1) sink("HSET", documents);
    if (withheld.length > 1) sink("HDEL", withheld);
    sink("ZADD", versions);
  }
}

/** Queues {@link upsertCommands}' commands on an ioredis pipeline or MULTI. */
export function queueUpserts(
  target: ChainableCommander,
  write: { keys: ReplicaEntryKeys; entries: readonly ReplicaEntry[] },
): void {
  upsertCommands(write, (name, args) => {
    target.call(
      name,
      ...args.map((arg) =>
        arg instanceof Uint8Array ? Buffer.from(arg.buffer, arg.byteOffset, arg.byteLength) : arg
      ),
    );
  });
}

/** `items` in slices of at most `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
