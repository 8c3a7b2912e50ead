/**
 * SystemRegisterSync: full and incremental streams of active entries in
 * version order (those active when the stream began), sent at the pace the
 * client reads, from the encoded-entry cache or else read from the store page
 * by page (`entry_cache.ts`), each document larger than the peer takes
 * withheld; the last entry of a stream that sent its whole snapshot carries
 * the active set's digest; push subscriptions; checkpoints with the active
 * set's digest at a version the peer names. A corrupt register answers
 * FAILED_PRECONDITION naming the entry; a store failure mid-stream ends the
 * stream with UNAVAILABLE saying how far it got, never a silent short stream.
 *
 * @module
 */
import type { MessageShape } from "@bufbuild/protobuf";
import {
  type BlueprintNotificationSchema,
  CheckpointStatus,
  type SyncRequestSchema,
  type SystemRegisterSync,
} from "../../gen/sorcha/peer/v1/system_register_sync_pb.ts";
import { AppError, errorMessage } from "../../shared/errors.ts";
import { type CallContext, pushed, type ServiceImplementation } from "../../shared/grpc/mod.ts";
import { NO_FILTERS } from "../notifications/filters.ts";
import type { EntriesOptions } from "../system_register/mod.ts";
import type { HubContext } from "./context.ts";
import { notificationBytes, withActiveSetDigest } from "./encoding.ts";
import { startSyncStream } from "./metrics.ts";
import {
  actionFor,
  checkpointRequest,
  MAX_BLUEPRINT_SIZE,
  parseRequest,
  subscriptionRequest,
  syncRequest,
} from "./requests.ts";

async function* syncStream(
  hub: HubContext,
  request: MessageShape<typeof SyncRequestSchema>,
  options: { kind: "full" | "incremental"; context: CallContext },
) {
  const action = actionFor(options.kind === "full" ? "full-sync" : "incrementally sync", request);
  const input = parseRequest(syncRequest, request, action);
  hub.rateLimiter.take(input.peerId, action);
  hub.register.requireIntact(action);
  const full = options.kind === "full" || input.fullSync;
  const after = full ? 0 : input.lastKnownVersion;
  // Catches up with publications of hubs sharing the store (one cheap query when there are none).
  await hub.register.refresh();
  if (!full) {
    const head = hub.register.version;
    if (after > head) {
      throw new AppError(
        "failed_precondition",
        `${action}: it claims version ${after} but the system register is at version ${head}; reset and run a full sync`,
        { details: { currentVersion: head, lastKnownVersion: after } },
      );
    }
  }
  using _slot = hub.syncSlots.acquire(input.peerId, action);
  const record = hub.syncLog.started(input.peerId, full ? "full" : "incremental", after);
  const telemetry = startSyncStream(full ? "full" : "incremental", {
    peerId: input.peerId,
    fromVersion: after,
    recorder: hub.syncMetrics,
  });
  let outcome: "completed" | "failed" = "failed";
  let failure: unknown;
  try {
    // The entries to send, fixed now: the active ones above `after` (the stream's snapshot), and
    // the active set they lead to.
    const { versions, state } = hub.register.activeSnapshot(
      after,
      input.maxBlueprints > 0 ? input.maxBlueprints : undefined,
    );
    // The register's highest version is always active: a stream not cut by max_blueprints ends there.
    const complete = versions.at(-1) === state.version;
    const maxDocumentBytes = hub.sessions.session(input.peerId)?.capabilities.maxBlueprintSize ??
      MAX_BLUEPRINT_SIZE;
    const read = (o: EntriesOptions) => hub.register.entries(o);
    try {
      for await (const entry of hub.entryCache.entries(versions, read, { maxDocumentBytes })) {
        // The digest goes on a copy: the cache keeps the entry's own bytes.
        yield complete && entry.version === state.version
          ? withActiveSetDigest(entry.bytes, state.digest)
          : entry.bytes;
        record.version = entry.version;
        record.entries++;
      }
    } catch (error) {
      if (options.context.signal.aborted) throw error;
      const reason = errorMessage(error);
      throw new AppError(
        "unavailable",
        `${action}: the stream stopped after version ${record.version} (${record.entries} entries sent) because the store failed: ${reason}; sync again from the last version received`,
        { cause: error, details: { lastVersionSent: record.version } },
      );
    }
    outcome = "completed";
    if (record.entries > 0 || full) hub.sessions.markSyncVersion(input.peerId, record.version);
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    hub.syncLog.ended(record, outcome);
    telemetry.end({
      entries: record.entries,
      version: record.version,
      // A stream the client left (it stopped reading) did not fail on the hub's side.
      ...(failure !== undefined && !options.context.signal.aborted ? { error: failure } : {}),
    });
  }
}

/** The SystemRegisterSync implementation over `hub`. */
export function syncService(hub: HubContext): ServiceImplementation<typeof SystemRegisterSync> {
  return {
    fullSync(request, context) {
      return syncStream(hub, request, { kind: "full", context });
    },

    incrementalSync(request, context) {
      return syncStream(hub, request, { kind: "incremental", context });
    },

    subscribeToPushNotifications(request, context) {
      const action = actionFor("subscribe", request);
      const input = parseRequest(subscriptionRequest, request, action);
      hub.rateLimiter.take(input.peerId, action);
      hub.register.requireIntact(action);
      const { notifications } = hub.register;
      const limit = hub.settings.maxSubscriptionsPerPeer;
      if (notifications.countFor(input.peerId) >= limit) {
        throw new AppError(
          "resource_exhausted",
          `${action}: it already has ${limit} subscriptions open (at most ${limit} at once)`,
        );
      }
      const filters = input.filters
        ? {
          blueprintIds: input.filters.blueprintIds,
          publisherIds: input.filters.publisherIds,
          kinds: input.filters.notificationTypes,
          metadata: input.filters.metadataFilters,
        }
        : NO_FILTERS;
      // Frames are written as they are published (no task per subscriber); the first frame is
      // a keep-alive: once it arrives, the subscription is in place.
      return pushed<typeof BlueprintNotificationSchema>((responses) =>
        notifications.attach(input.peerId, {
          filters,
          signal: context.signal,
          sink: {
            send: (frame) => responses.send(notificationBytes(frame, hub.clock.now())),
            whenReady: (resume) => responses.whenReady(resume),
          },
        })
      );
    },

    async getSyncCheckpoint(request) {
      const action = actionFor("report the sync checkpoint of", request);
      const input = parseRequest(checkpointRequest, request, action);
      hub.rateLimiter.take(input.peerId, action);
      // Catches up with publications of hubs sharing the store, so the digest describes them too.
      await hub.register.refresh();
      const digestVersion = input.digestVersion || hub.register.version;
      const digest = hub.register.activeSetAt(digestVersion);
      const head = await hub.register.store.head();
      const record = hub.syncLog.get(input.peerId);
      const session = hub.sessions.session(input.peerId);
      const peerVersion = session?.lastSyncVersion ?? record?.version ?? 0;
      const intervalMs = hub.settings.periodicSyncIntervalMinutes * 60_000;
      const lastSync = record?.endedAt ?? record?.startedAt ?? 0;
      let status = peerVersion >= head.version
        ? CheckpointStatus.UP_TO_DATE
        : CheckpointStatus.BEHIND;
      if (record?.running) status = CheckpointStatus.SYNCING;
      else if (record?.outcome === "failed") status = CheckpointStatus.SYNC_FAILED;
      return {
        peerId: input.peerId,
        currentVersion: BigInt(head.version),
        lastSyncTime: BigInt(lastSync),
        totalBlueprints: head.activeCount,
        centralNodeId: hub.hubId,
        nextSyncDue: BigInt(lastSync ? lastSync + intervalMs : hub.clock.now()),
        status,
        genesisChecksum: hub.register.genesisChecksum,
        activeSetDigest: digest?.digest ?? "",
        digestVersion: BigInt(digestVersion),
        digestBlueprints: digest?.blueprints ?? 0,
      };
    },
  };
}
