/**
 * What the hub link records where its events happen, for the figures its
 * status does not keep: each acknowledged heartbeat's round trip, each
 * completed sync (its duration and entries) and each failed one (its
 * kind). The link process's metrics (`metrics.ts`) implement it; without
 * one, nothing is recorded. It imports types only, so that the link's
 * modules do not load the metrics library through it.
 *
 * @module
 */
import type { SyncKind } from "../replica/mod.ts";
import type { SyncResult } from "./status.ts";

/** See the module documentation. */
export interface LinkRecorder {
  /** A heartbeat was acknowledged after `latencyMs`. */
  heartbeat(latencyMs: number): void;
  /** A sync completed. */
  synced(result: SyncResult): void;
  /** A sync of `kind` failed (counted where the replica's `failedSyncs` is). */
  syncFailed(kind: SyncKind): void;
}

/** Records nothing. */
export const NO_RECORDER: LinkRecorder = {
  heartbeat() {},
  synced() {},
  syncFailed() {},
};
