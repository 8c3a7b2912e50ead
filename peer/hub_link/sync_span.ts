/**
 * The span of one sync run (`sync_runs.ts`): `peer.sync.full` or
 * `peer.sync.incremental`, with the hub, why it ran, the versions from and
 * to, the entries received and how the digests compared. The run's gRPC
 * calls are made inside it, so the hub's side of the sync joins its trace;
 * and it is a child of whatever asked for the sync (a push notification's
 * span, see `sync_queue.ts`).
 *
 * @module
 */
import { inSpan } from "../../shared/telemetry/mod.ts";
import type { SyncKind } from "../replica/mod.ts";
import type { RunOutcome, SyncSource } from "./sync_runs.ts";

/** What a sync span tells about its run. */
export interface SyncSpanInfo {
  /** The hub synced from. */
  source: SyncSource;
  /** Why it runs. */
  reason: string;
  /** The cursor before. */
  fromVersion: number;
  /** Reads the cursor (once the run ended, whichever way). */
  toVersion: () => number;
}

/** Runs `run`, a sync of `kind`, in its span; see the module documentation. */
export function inSyncSpan(
  kind: SyncKind,
  info: SyncSpanInfo,
  run: () => Promise<RunOutcome>,
): Promise<RunOutcome> {
  return inSpan(`peer.sync.${kind}`, async (span) => {
    try {
      const outcome = await run();
      span.setAttributes(
        outcome === "mismatch"
          ? { "sorcha.sync.digest": "mismatch" }
          : { "sorcha.sync.entries": outcome.entries, "sorcha.sync.digest": outcome.digest },
      );
      return outcome;
    } finally {
      span.setAttribute("sorcha.sync.to_version", info.toVersion());
    }
  }, {
    attributes: {
      "sorcha.hub.address": info.source.address,
      "sorcha.hub.id": info.source.hubId,
      "sorcha.sync.kind": kind,
      "sorcha.sync.reason": info.reason,
      "sorcha.sync.from_version": info.fromVersion,
    },
  });
}
