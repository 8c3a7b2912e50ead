/**
 * The replica of the hub's system register, kept by one code path: a sync
 * from the cursor (the checkpoint's version). It runs on connect, on each
 * notification newer than the cursor, on the periodic timer, when the hub
 * says so, and on demand; calls made while one runs coalesce into one
 * follow-up, and a failed sync is retried with backoff while a hub is
 * connected (`sync_queue.ts`).
 *
 * Full (the replica replaced) when the replica is empty, when asked, or when
 * the cursor cannot be trusted: the hub is behind it (its register was reset
 * or restored), belongs to another network (its genesis differs), refused an
 * incremental sync, or the digests differed (each mismatch is counted and
 * followed at once by a full resync); incremental otherwise, also after a
 * restart and after a failover within one network. The runs themselves are
 * in `sync_runs.ts`, what may be trusted of the stored replica in
 * `cursor_sanity.ts`.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import { ActiveSetDigest, digestOf } from "../../shared/contracts/active_set_digest.ts";
import { documentChecksum } from "../../shared/contracts/checksum.ts";
import { createBackoff } from "../../shared/backoff.ts";
import type { Clock } from "../../shared/clock.ts";
import { AppError, errorMessage } from "../../shared/errors.ts";
import type { Scheduler } from "../../shared/schedule.ts";
import type { ReplicaCheckpoint, ReplicaStore, SyncKind } from "../replica/mod.ts";
import { fullSyncReason, readStoredReplica } from "./cursor_sanity.ts";
import { RejectedEntryError } from "./entry_check.ts";
import type { LinkRecorder } from "./recorder.ts";
import { replicaStatus, type ReplicaView, type SyncResult } from "./status.ts";
import { SyncQueue, type SyncRequestOptions } from "./sync_queue.ts";
import { fullRun, incrementalRun, type RunContext, type SyncSource } from "./sync_runs.ts";
import { inSyncSpan } from "./sync_span.ts";

export { FULL_SYNC_READ_AHEAD, SYNC_BATCH_SIZE, type SyncSource } from "./sync_runs.ts";
export type { SyncRequestOptions } from "./sync_queue.ts";

/** Options of {@link Replicator}. */
export interface ReplicatorOptions {
  /** This peer's id. */
  peerId: string;
  /** The connected hub, if any. */
  source: () => SyncSource | undefined;
  /** Time. */
  clock: Clock;
  /** Waits (retries, periodic syncs, deadlines). */
  scheduler: Scheduler;
  /** Ceiling of the retry backoff, in ms. */
  retryMaxMs: number;
  /** Deadline of a digest question, in ms. */
  callTimeoutMs: number;
  /** Where it logs. */
  logger: Logger;
  /** Random numbers in [0, 1), for jitter. */
  random?: () => number;
  /** Told whenever what {@link Replicator.view} shows changes. */
  onChange?: () => void;
  /** Records completed and failed syncs (the link process's metrics). */
  recorder?: LinkRecorder | undefined;
}

/** See the module documentation. */
export class Replicator {
  readonly #store: ReplicaStore;
  readonly #options: ReplicatorOptions;
  readonly #queue: SyncQueue;
  #checkpoint: ReplicaCheckpoint | undefined;
  #digest = new ActiveSetDigest();
  /** Why the next sync must be full, when the cursor cannot be trusted. */
  #resetReason: string | undefined;
  #failing = false;
  /** The kind of the last sync run (of a failure, the kind that failed). */
  #kind: SyncKind = "full";
  #view: Omit<ReplicaView, "checkpoint" | "status" | "syncing" | "nextSyncDueAt">;
  #nextSyncDueAt: () => number | undefined = () => undefined;
  /** The store was unreachable since the state was read: read it again before the next sync. */
  #reloadWanted = false;

  /** A replicator over `store`; call {@link Replicator.load} before anything else. */
  constructor(store: ReplicaStore, options: ReplicatorOptions) {
    this.#store = store;
    this.#options = options;
    this.#queue = new SyncQueue({
      run: (reason, full) => this.#syncOnce(reason, full),
      cursor: () => this.cursor,
      lastResult: () => this.#view.lastResult,
      retryWanted: () => this.#failing && this.#options.source() !== undefined,
      scheduler: options.scheduler,
      retryMaxMs: options.retryMaxMs,
      ...(options.random ? { random: options.random } : {}),
      ...(options.onChange ? { onChange: options.onChange } : {}),
    });
    // A Redis back after being unreachable may have restarted without its data: the next sync
    // starts from what the store holds now (nothing: a full sync), not from what it held.
    store.onReconnect?.(() => {
      this.#reloadWanted = true;
      void this.sync("the replica's store is reachable again").catch(() => {});
    });
    this.#view = {
      lastResult: null,
      lastError: null,
      lastErrorAt: null,
      fullSyncs: 0,
      incrementalSyncs: 0,
      failedSyncs: 0,
      rejectedEntries: 0,
      digestMismatches: 0,
      withheldEntries: 0,
    };
  }

  /** The cursor: the version the replica holds the hub's active set at (0: empty). */
  get cursor(): number {
    return this.#checkpoint?.version ?? 0;
  }

  /** The checkpoint, as last written. */
  get checkpoint(): ReplicaCheckpoint | undefined {
    return this.#checkpoint;
  }

  /** Whether a sync runs. */
  get syncing(): boolean {
    return this.#queue.running;
  }

  /**
   * Reads the checkpoint and the replica's index, and checks that they agree
   * (a replica altered behind the peer's back is replaced at the next sync).
   * Throws when the store cannot be read.
   */
  async load(): Promise<void> {
    // The hashing modules load on first use (tens of ms): here, rather than in the first sync.
    digestOf([{
      blueprintId: "warm-up",
      version: 1,
      checksum: documentChecksum(new Uint8Array()),
    }]);
    const stored = await readStoredReplica(this.#store);
    this.#checkpoint = stored.checkpoint;
    this.#digest = stored.digest;
    if (stored.problem) {
      this.#resetReason = stored.problem;
      this.#options.logger.warning(
        "The system register replica does not match its checkpoint; it will be replaced by a full sync",
      );
    }
    this.#options.onChange?.();
  }

  /** {@link Replicator.load}, retried with backoff while the store cannot be read, until `signal` aborts. */
  async loadPatiently(signal: AbortSignal): Promise<void> {
    let backoff = createBackoff({
      initialMs: 1000,
      maxMs: this.#options.retryMaxMs,
      ...(this.#options.random ? { random: this.#options.random } : {}),
    });
    let logged = false;
    while (!signal.aborted) {
      try {
        await this.load();
        return;
      } catch (error) {
        if (!logged) {
          this.#options.logger.warning("Cannot read the system register replica yet: {error}", {
            error: errorMessage(error),
          });
          logged = true;
        }
        await this.#options.scheduler.sleep(backoff.delayMs, signal);
        backoff = backoff.next();
      }
    }
  }

  /** Tells the replicator how the periodic timer stands, for the view. */
  set nextSyncDue(read: () => number | undefined) {
    this.#nextSyncDueAt = read;
  }

  /**
   * Runs a sync (or joins the follow-up of the one running); resolves with
   * how it went, rejects with why it failed (then a retry is scheduled while
   * a hub is connected).
   */
  sync(reason: string, options: SyncRequestOptions = {}): Promise<SyncResult> {
    return this.#queue.request(reason, options);
  }

  /** Learns the hub's version (heartbeats, keep-alives): syncs when it moved. */
  noteHubVersion(version: number): void {
    if (version > this.cursor) {
      void this.sync(`the hub is at version ${version}`, { untilVersion: version });
    } else if (version < this.cursor) {
      void this.sync(`the hub is at version ${version}, behind the replica's ${this.cursor}`);
    }
  }

  /** What the replica looks like now. */
  view(): ReplicaView {
    const checkpoint = this.#checkpoint ?? null;
    return {
      ...this.#view,
      checkpoint,
      status: replicaStatus({
        syncing: this.#queue.running,
        failing: this.#failing,
        checkpoint,
        hubVersion: this.#options.source()?.hubVersion,
      }),
      syncing: this.#queue.running,
      nextSyncDueAt: this.#nextSyncDueAt() ?? null,
    };
  }

  /** Stops retries; a sync running goes on until its hub's session ends. */
  close(): void {
    this.#queue.close();
  }

  /** One sync, with the digest check (and the full resync a mismatch calls for). */
  async #syncOnce(reason: string, forceFull: boolean): Promise<SyncResult> {
    const source = this.#options.source();
    if (!source) {
      throw new AppError("unavailable", "Cannot sync the system register: no hub is connected");
    }
    try {
      if (this.#reloadWanted) {
        const held = this.cursor;
        await this.load(); // a failure leaves the reload wanted
        this.#reloadWanted = false;
        if (this.cursor !== held) {
          this.#options.logger.warning(
            "The system register replica's store is back at version {version}, not {held} (restarted without its data?): the replica is synced from there",
            { version: this.cursor, held },
          );
        }
      }
      let result = await this.#run(source, reason, forceFull);
      if (result === "mismatch") {
        this.#view.digestMismatches++;
        this.#options.logger.warning(
          "The system register replica differs from hub {hub}'s at version {version}: replacing it with a full sync",
          { hub: source.hubId, version: this.cursor },
        );
        result = await this.#run(source, "the replica's digest differed from the hub's", true);
        if (result === "mismatch") {
          throw new AppError(
            "internal",
            `Cannot sync the system register from hub ${source.hubId}: even after a full sync the replica's digest differs from the hub's at version ${this.cursor}`,
          );
        }
      }
      this.#succeeded(result);
      this.#options.recorder?.synced(result);
      return result;
    } catch (error) {
      this.#failed(error, source);
      throw error;
    }
  }

  /** A sync of the kind the cursor calls for; "mismatch" when the digests differ afterwards. */
  async #run(
    source: SyncSource,
    reason: string,
    forceFull: boolean,
  ): Promise<SyncResult | "mismatch"> {
    const fullReason = forceFull
      ? reason
      : fullSyncReason(source, { checkpoint: this.#checkpoint, reset: this.#resetReason });
    const kind: SyncKind = fullReason === undefined ? "incremental" : "full";
    this.#kind = kind;
    const began = performance.now();
    const fromVersion = this.cursor;
    const outcome = await inSyncSpan(
      kind,
      {
        source,
        reason: fullReason ?? reason,
        fromVersion,
        toVersion: () => this.cursor,
      },
      () =>
        kind === "incremental"
          ? this.#incremental(source)
          : fullRun(source, this.#runContext(), this.#checkpoint),
    );
    if (outcome === "mismatch") return outcome;
    if (kind === "full") {
      this.#resetReason = undefined;
      this.#options.logger.info(
        "Replaced the system register replica with a full sync from hub {hub} ({reason}): {entries} blueprints up to version {version}",
        { hub: source.hubId, reason: fullReason, entries: outcome.entries, version: this.cursor },
      );
    }
    return {
      kind,
      reason: fullReason ?? reason,
      fromVersion,
      toVersion: this.cursor,
      entries: outcome.entries,
      digest: outcome.digest,
      durationMs: Math.round((performance.now() - began) * 10) / 10,
      at: this.#options.clock.now(),
    };
  }

  /** What a run of `sync_runs.ts` needs; it hands back each state the store holds. */
  #runContext(): RunContext {
    const { peerId, clock, scheduler, callTimeoutMs, logger } = this.#options;
    return {
      peerId,
      store: this.#store,
      clock,
      scheduler,
      callTimeoutMs,
      logger,
      counters: this.#view,
      onStored: (state) => {
        this.#checkpoint = state.checkpoint;
        this.#digest = state.digest;
      },
    };
  }

  /** An incremental run; a hub refusing one (FAILED_PRECONDITION) makes the next sync full. */
  async #incremental(source: SyncSource) {
    const checkpoint = this.#checkpoint!; // a replica without one always gets a full sync
    try {
      return await incrementalRun(source, this.#runContext(), { checkpoint, digest: this.#digest });
    } catch (error) {
      if (error instanceof AppError && error.code === "failed_precondition") {
        this.#resetReason =
          `hub ${source.hubId} cannot sync incrementally from version ${this.cursor}: ${error.message}`;
      }
      throw error;
    }
  }

  #succeeded(result: SyncResult): void {
    this.#view.lastResult = result;
    if (this.#failing) {
      this.#options.logger.info(
        "System register sync works again: {kind} sync to version {version}",
        {
          kind: result.kind,
          version: result.toVersion,
        },
      );
    } else {
      this.#options.logger.debug(
        "{kind} sync ({reason}): {entries} entries, version {from} to {to} in {ms} ms",
        {
          kind: result.kind,
          reason: result.reason,
          entries: result.entries,
          from: result.fromVersion,
          to: result.toVersion,
          ms: result.durationMs,
        },
      );
    }
    this.#failing = false;
    this.#view.lastError = null;
    this.#view.lastErrorAt = null;
    this.#queue.resetBackoff();
  }

  #failed(error: unknown, source: SyncSource): void {
    const message = errorMessage(error);
    const cancelled = source.signal.aborted;
    if (!cancelled) {
      this.#view.failedSyncs++;
      this.#options.recorder?.syncFailed(this.#kind);
      this.#view.lastError = message;
      this.#view.lastErrorAt = this.#options.clock.now();
      const rejected = error instanceof RejectedEntryError ? error : undefined;
      if (!this.#failing) {
        this.#options.logger[rejected ? "error" : "warning"](
          "System register sync from hub {hub} failed: {error}",
          {
            hub: source.hubId,
            error: message,
            ...(rejected ? { blueprint: rejected.blueprintId, version: rejected.version } : {}),
          },
        );
      } else {
        this.#options.logger.debug("System register sync failed again: {error}", {
          error: message,
        });
      }
      this.#failing = true;
    }
    this.#queue.retryLater();
  }
}
