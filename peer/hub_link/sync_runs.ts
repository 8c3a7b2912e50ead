/**
 * One sync of the replica from a connected hub, of either kind, as the
 * replicator (`replicator.ts`) runs it: the stream read, every entry checked
 * (`entry_check.ts`), the replica written, and its digest compared with the
 * hub's at the version reached (sent on the stream's last entry, or asked
 * for when the stream was empty).
 *
 * - {@link fullRun}: the hub's whole active set into a replacement, committed
 *   with its checkpoint only when the digests agree (otherwise the old
 *   replica stays).
 * - {@link incrementalRun}: the entries after the cursor, applied in batches,
 *   each with the checkpoint it leads to; what arrived before a failure is
 *   kept, so a retry continues from there.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import { ActiveSetDigest } from "../../shared/contracts/active_set_digest.ts";
import type { Clock } from "../../shared/clock.ts";
import { deadline } from "../../shared/deadline.ts";
import type { Scheduler } from "../../shared/schedule.ts";
import type { ReplicaCheckpoint, ReplicaEntry, ReplicaStore, SyncKind } from "../replica/mod.ts";
import { type CheckedEntry, checkEntry, RejectedEntryError } from "./entry_check.ts";
import type { HubClient } from "./hub_client.ts";
import type { ReplicaView, SyncResult } from "./status.ts";

/**
 * Entries applied to the store at once during an incremental sync, or added
 * to a replacement (a part the store writes, or hands to its writer, at once).
 */
export const SYNC_BATCH_SIZE = 1024;

/**
 * Entries of a full sync's stream taken ahead of being handled (see `GrpcCallOptions.readAhead`):
 * the stream is paused and resumed some ten times for 10,000 entries, not three hundred.
 */
export const FULL_SYNC_READ_AHEAD = 1024;

/** The connected hub, as a sync sees it. */
export interface SyncSource {
  /** The hub's clients. */
  client: HubClient;
  /** The hub's address. */
  address: string;
  /** The hub's id. */
  hubId: string;
  /** The session. */
  sessionId: string;
  /** The network identity the hub announced ("" when it does not say). */
  genesisChecksum: string;
  /** The hub's version, as it last said. */
  hubVersion: number;
  /** Aborts when the session ends. */
  signal: AbortSignal;
}

/** The replica as a run starts from it, and as it leaves it. */
export interface ReplicaState {
  /** The checkpoint (undefined: never synced). */
  checkpoint: ReplicaCheckpoint | undefined;
  /** The digest of the entries it holds. */
  digest: ActiveSetDigest;
}

/** The counters a run moves. */
export type RunCounters = Pick<
  ReplicaView,
  "fullSyncs" | "incrementalSyncs" | "rejectedEntries" | "withheldEntries"
>;

/** What a run needs. */
export interface RunContext {
  /** This peer's id. */
  peerId: string;
  /** The replica's store. */
  store: ReplicaStore;
  /** Time. */
  clock: Clock;
  /** Deadlines. */
  scheduler: Scheduler;
  /** Deadline of a digest question, in ms. */
  callTimeoutMs: number;
  /** Where it logs (withheld documents). */
  logger: Logger;
  /** Moved as entries arrive and runs complete. */
  counters: RunCounters;
  /** Told each time the store holds a new state (with its checkpoint). */
  onStored: (state: ReplicaState & { checkpoint: ReplicaCheckpoint }) => void;
}

/** How a run went: entries received and the digest comparison, or "mismatch" (digests differ). */
export type RunOutcome = { entries: number; digest: SyncResult["digest"] } | "mismatch";

/** The checkpoint after a run from `source` leading to `version` with `digest`. */
function checkpointFor(
  source: SyncSource,
  state: {
    version: number;
    digest: ActiveSetDigest;
    kind: SyncKind;
    previous: ReplicaCheckpoint | undefined;
  },
  clock: Clock,
): ReplicaCheckpoint {
  return {
    version: state.version,
    blueprints: state.digest.size,
    digest: state.digest.digest,
    hubId: source.hubId,
    hubAddress: source.address,
    genesisChecksum: source.genesisChecksum || (state.previous?.genesisChecksum ?? ""),
    lastSyncAt: clock.now(),
    lastSyncKind: state.kind,
  };
}

function request(source: SyncSource, context: RunContext, lastKnownVersion: number) {
  return {
    peerId: context.peerId,
    sessionId: source.sessionId,
    lastKnownVersion: BigInt(lastKnownVersion),
    fullSync: lastKnownVersion === 0,
    requestTime: BigInt(context.clock.now()),
  };
}

/** Checks a streamed entry, counting a rejection, and counting and logging a withheld document. */
function check(
  message: Parameters<typeof checkEntry>[0],
  context: RunContext,
  where: { afterVersion: number; source: SyncSource },
): CheckedEntry {
  try {
    const checked = checkEntry(message, {
      afterVersion: where.afterVersion,
      hub: where.source.hubId,
    });
    if (checked.entry.document === undefined) {
      context.counters.withheldEntries++;
      context.logger.warning(
        "Hub {hub} withheld the document of blueprint {blueprint} (version {version}, {size} bytes): it is larger than this peer takes; the entry is replicated without it",
        {
          hub: where.source.hubId,
          blueprint: checked.entry.blueprintId,
          version: checked.entry.version,
          size: checked.entry.documentSize,
        },
      );
    }
    return checked;
  } catch (error) {
    if (error instanceof RejectedEntryError) context.counters.rejectedEntries++;
    throw error;
  }
}

/** Compares the replica's digest at `version` with the hub's. */
async function compare(
  source: SyncSource,
  context: RunContext,
  state: { version: number; digest: ActiveSetDigest; hubDigest: string | undefined },
): Promise<"equal" | "unchecked" | "mismatch"> {
  let hubDigest = state.hubDigest;
  if (hubDigest === undefined) {
    using time = deadline(context.scheduler, context.callTimeoutMs, {
      what: `Asking hub ${source.hubId} for its digest`,
      signal: source.signal,
    });
    const answer = await source.client.sync.getSyncCheckpoint({
      peerId: context.peerId,
      sessionId: source.sessionId,
      digestVersion: BigInt(state.version),
    }, { signal: time.signal });
    if (!answer.activeSetDigest || Number(answer.digestVersion) !== state.version) {
      return "unchecked";
    }
    hubDigest = answer.activeSetDigest;
  }
  return hubDigest === state.digest.digest ? "equal" : "mismatch";
}

/** Replaces the replica with the hub's whole active set, atomically. */
export async function fullRun(
  source: SyncSource,
  context: RunContext,
  previous: ReplicaCheckpoint | undefined,
): Promise<RunOutcome> {
  await using replacement = await context.store.replace();
  const digest = new ActiveSetDigest();
  let version = 0;
  let entries = 0;
  let hubDigest: string | undefined;
  let batch: ReplicaEntry[] = [];
  const stream = source.client.sync.fullSync(request(source, context, 0), {
    signal: source.signal,
    readAhead: FULL_SYNC_READ_AHEAD,
  });
  for await (const message of stream) {
    const checked = check(message, context, { afterVersion: version, source });
    version = checked.entry.version;
    entries++;
    hubDigest = checked.activeSetDigest ?? hubDigest;
    if (!checked.isActive) continue; // not part of the active set
    digest.add(checked.entry.blueprintId, version, checked.entry.checksum);
    batch.push(checked.entry);
    if (batch.length >= SYNC_BATCH_SIZE) {
      await replacement.add(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await replacement.add(batch);
  const outcome = await compare(source, context, { version, digest, hubDigest });
  if (outcome === "mismatch") return outcome; // the replacement is dropped: the old replica stays
  const checkpoint = checkpointFor(
    source,
    { version, digest, kind: "full", previous },
    context.clock,
  );
  await replacement.commit(checkpoint);
  context.onStored({ checkpoint, digest });
  context.counters.fullSyncs++;
  return { entries, digest: outcome };
}

/** Applies the entries after the cursor, batch by batch, each with its checkpoint. */
export async function incrementalRun(
  source: SyncSource,
  context: RunContext,
  from: ReplicaState & { checkpoint: ReplicaCheckpoint },
): Promise<RunOutcome> {
  let version = from.checkpoint.version;
  let previous = from.checkpoint;
  let entries = 0;
  let hubDigest: string | undefined;
  const digest = from.digest.clone();
  let upsert: ReplicaEntry[] = [];
  let remove: string[] = [];
  const flush = async () => {
    const checkpoint = checkpointFor(
      source,
      { version, digest, kind: "incremental", previous },
      context.clock,
    );
    await context.store.apply({ upsert, remove, checkpoint });
    previous = checkpoint;
    context.onStored({ checkpoint, digest: digest.clone() });
    upsert = [];
    remove = [];
  };
  const stream = source.client.sync.incrementalSync(request(source, context, version), {
    signal: source.signal,
  });
  try {
    for await (const message of stream) {
      const checked = check(message, context, { afterVersion: version, source });
      version = checked.entry.version;
      entries++;
      hubDigest = checked.activeSetDigest ?? hubDigest;
      const id = checked.entry.blueprintId;
      if (!checked.isActive) {
        if ((digest.versionOf(id) ?? 0) < version && digest.remove(id)) remove.push(id);
      } else if (digest.add(id, version, checked.entry.checksum)) {
        upsert.push(checked.entry);
      }
      if (upsert.length + remove.length >= SYNC_BATCH_SIZE) await flush();
    }
  } catch (error) {
    // What arrived before the failure is kept: the retry continues from there.
    if (upsert.length + remove.length > 0) await flush().catch(() => {});
    throw error;
  }
  await flush();
  context.counters.incrementalSyncs++;
  const outcome = await compare(source, context, { version, digest, hubDigest });
  return outcome === "mismatch" ? outcome : { entries, digest: outcome };
}
