/**
 * Whether a sync may continue from the replica the store holds: reading it
 * back (its checkpoint, and the digest of its entries, which must agree), and
 * the cursor-sanity rules that call for a full resync instead (etcd's
 * "compacted" and "revision ahead of a wiped server", Kubernetes' relist).
 *
 * @module
 */
import { ActiveSetDigest } from "../../shared/contracts/active_set_digest.ts";
import type { ReplicaCheckpoint, ReplicaStore } from "../replica/mod.ts";
import type { SyncSource } from "./sync_runs.ts";

/** The replica as read back from its store. */
export interface StoredReplica {
  /** Its checkpoint (undefined: never synced). */
  checkpoint: ReplicaCheckpoint | undefined;
  /** The digest of the entries it holds. */
  digest: ActiveSetDigest;
  /** Why the entries and the checkpoint disagree (altered behind the peer's back), if they do. */
  problem: string | undefined;
}

/** Reads the checkpoint and every entry's identity from `store`; throws when it cannot be read. */
export async function readStoredReplica(store: ReplicaStore): Promise<StoredReplica> {
  const [checkpoint, index] = await Promise.all([store.checkpoint(), store.index()]);
  const digest = new ActiveSetDigest();
  for (const entry of index) digest.add(entry.blueprintId, entry.version, entry.checksum);
  const agrees = !checkpoint ||
    (checkpoint.digest === digest.digest && checkpoint.blueprints === digest.size);
  return {
    checkpoint,
    digest,
    problem: agrees
      ? undefined
      : `the stored replica (${digest.size} entries) does not match its checkpoint (${checkpoint.blueprints} entries, digest ${checkpoint.digest})`,
  };
}

/**
 * Why the next sync from `source` must be full, if it must: a reason already known (`reset`),
 * an empty replica, a hub of another network (its genesis differs), or a hub behind the
 * checkpoint (its register was reset or restored).
 */
export function fullSyncReason(
  source: SyncSource,
  replica: { checkpoint: ReplicaCheckpoint | undefined; reset: string | undefined },
): string | undefined {
  const { checkpoint, reset } = replica;
  if (reset) return reset;
  if (!checkpoint || checkpoint.version === 0) return "the replica is empty";
  if (
    source.genesisChecksum && checkpoint.genesisChecksum &&
    source.genesisChecksum !== checkpoint.genesisChecksum
  ) {
    return `hub ${source.hubId} belongs to another network (its genesis is ${source.genesisChecksum}, the replica's ${checkpoint.genesisChecksum})`;
  }
  if (source.hubVersion < checkpoint.version) {
    return `hub ${source.hubId} is at version ${source.hubVersion}, behind the replica's ${checkpoint.version} (its register was reset or restored)`;
  }
  return undefined;
}
