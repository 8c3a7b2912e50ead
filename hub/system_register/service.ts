/**
 * The hub's system register: the store, checked at start (genesis, then
 * integrity) and followed as it grows (see `watcher.ts`), publications, and
 * the notifications they cause. One per hub; hubs sharing a store each have
 * one, and each notifies its own subscribers of every publication. Once the
 * register is found corrupt, nothing more is announced and the subscriptions
 * end with failed_precondition naming the bad entry.
 *
 * Telemetry: a `hub.publish` span around each publication, and the
 * `hub.push.deliver` span of `push_delivery.ts` around handing each new
 * entry to the subscribers. With
 * `metrics`, the figures of `./metrics.ts` and `../notifications/metrics.ts`.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import type { Clock } from "../../shared/clock.ts";
import { AppError, errorMessage } from "../../shared/errors.ts";
import { quoteInput } from "../../shared/quote.ts";
import type { Scheduler } from "../../shared/schedule.ts";
import { inSpan, type ServiceMetrics } from "../../shared/telemetry/mod.ts";
import { NotificationBroadcaster } from "../notifications/broadcaster.ts";
import type { BlueprintEvent } from "../notifications/events.ts";
import { defineNotificationMetrics } from "../notifications/metrics.ts";
import type { ActiveSetState } from "./active_digest.ts";
import { ensureGenesis, GENESIS_BLUEPRINT_ID } from "./genesis.ts";
import type { IntegrityReport } from "./integrity.ts";
import { defineSystemRegisterMetrics, type SystemRegisterRecorder } from "./metrics.ts";
import { deliverInSpan, PublicationTraces } from "./push_delivery.ts";
import type { BlueprintEntry, EntriesOptions, SystemRegisterStore } from "./types.ts";
import { RegisterWatcher, scanRegister } from "./watcher.ts";

/**
 * Longest wait for subscribers to take a run of a burst of publications
 * before handing on the next (a client that stopped reading holds a burst
 * back this long per run, until it is dropped).
 */
const BURST_PACE_TIMEOUT_MS = 1000;

/** Options of {@link openSystemRegister}. */
export interface SystemRegisterOptions {
  /** This hub's id (genesis publisher). */
  hubId: string;
  /** Time source. */
  clock: Clock;
  /** Polling, keep-alives and integrity checks. */
  scheduler: Scheduler;
  /** How often to look for publications by other hubs sharing the store, in ms. */
  pollMs: number;
  /** Idle time before a keep-alive on a subscription, in ms. */
  keepAliveMs: number;
  /** How often the whole register is validated again, in ms. */
  integrityCheckMs: number;
  /** Notifications a subscriber may fall behind before it is dropped. */
  subscriberQueueLimit?: number;
  /** Where it logs. */
  logger?: Logger;
  /** Told when the register turns corrupt or intact again (gRPC health follows it). */
  onIntegrityChange?: (ok: boolean) => void;
  /** Where its metrics are defined and recorded (none without). */
  metrics?: ServiceMetrics;
}

/** A publication as the hub receives it (validated by the caller). */
export interface Publication {
  /** The blueprint. */
  blueprintId: string;
  /** The document, as UTF-8 JSON bytes. */
  document: Uint8Array;
  /** Who publishes it. */
  publishedBy: string;
  /** Labels. */
  metadata: Record<string, string>;
}

/**
 * What {@link SystemRegister.publish} did: stored a new entry and notified
 * subscribers of it (`created: true`, with the notification's kind), or found
 * the same publication active already and stored nothing (`created: false`).
 */
export type PublishOutcome =
  | (BlueprintEvent & { created: true })
  | { entry: BlueprintEntry; created: false };

/** What a sync stream sends, fixed in one turn: see {@link SystemRegister.activeSnapshot}. */
export interface ActiveSnapshot {
  /** The versions of the active entries to send, in order. */
  versions: number[];
  /** The active set (its digest and size) at the last version seen: the snapshot's version. */
  state: ActiveSetState;
}

/** The integrity state, as `/readyz` and the sync calls see it. */
export type IntegrityState = IntegrityReport & { checkedAt: number };

/** Opens the system register on `store`: genesis, a full validation, then following it. */
export async function openSystemRegister(
  store: SystemRegisterStore,
  options: SystemRegisterOptions,
): Promise<SystemRegister> {
  const genesis = await ensureGenesis(store, { clock: options.clock, hubId: options.hubId });
  if (genesis.created) {
    options.logger?.info("Created the system register with {blueprint} (version {version})", {
      blueprint: genesis.entry.blueprintId,
      version: genesis.entry.version,
    });
  }
  const { start, report } = await scanRegister(store);
  const register = new SystemRegister(store, {
    options,
    start,
    integrity: { ...report, checkedAt: options.clock.now() },
  });
  register.logIntegrity();
  return register;
}

/** See the module documentation; made by {@link openSystemRegister}. */
export class SystemRegister {
  /** The store. */
  readonly store: SystemRegisterStore;
  /** Subscribers to publications. */
  readonly notifications: NotificationBroadcaster;
  readonly #options: SystemRegisterOptions;
  readonly #watcher: RegisterWatcher;
  readonly #stop = new AbortController();
  readonly #recorder: SystemRegisterRecorder | undefined;
  readonly #publicationTraces = new PublicationTraces();
  #integrity: IntegrityState;

  /** Use {@link openSystemRegister}. */
  constructor(
    store: SystemRegisterStore,
    init: {
      options: SystemRegisterOptions;
      start: ConstructorParameters<typeof RegisterWatcher>[1];
      integrity: IntegrityState;
    },
  ) {
    this.store = store;
    this.#options = init.options;
    this.#integrity = init.integrity;
    this.#watcher = new RegisterWatcher(store, init.start, {
      onEvent: (event) => this.#announce(event),
      onCorrupt: (report) => this.#corrupt(report),
      // A burst of another hub's publications goes out in runs of a quarter of a subscriber's
      // queue, each once subscribers took the last.
      pace: () => this.notifications.settled({ timeoutMs: BURST_PACE_TIMEOUT_MS }),
      paceEvery: Math.max(1, Math.floor((init.options.subscriberQueueLimit ?? 1024) / 4)),
      now: () => init.options.clock.now(),
      ...(init.options.logger ? { logger: init.options.logger } : {}),
    });
    this.notifications = new NotificationBroadcaster({
      scheduler: init.options.scheduler,
      clock: init.options.clock,
      keepAliveMs: init.options.keepAliveMs,
      currentVersion: () => this.version,
      ...(init.options.subscriberQueueLimit
        ? { queueLimit: init.options.subscriberQueueLimit }
        : {}),
    });
    const { metrics } = init.options;
    if (metrics) {
      defineNotificationMetrics(metrics, this.notifications);
      this.#recorder = defineSystemRegisterMetrics(metrics, this);
    }
    const { scheduler, pollMs, integrityCheckMs } = init.options;
    const signal = this.#stop.signal;
    scheduler.every("system register watch", pollMs, () => this.#watcher.check(), { signal });
    scheduler.every("system register integrity", integrityCheckMs, async () => {
      await this.checkIntegrity();
    }, { signal });
  }

  /** The highest version this hub has seen (its own publications and those of hubs sharing the store). */
  get version(): number {
    return this.#watcher.version;
  }

  /**
   * The chain hash of the register's first entry (version 1, the genesis):
   * the network's identity, the same on every hub sharing the store; ""
   * while the register is empty.
   */
  get genesisChecksum(): string {
    return this.#watcher.genesisChecksum;
  }

  /**
   * The active set (digest, size) at `version`, as this hub saw it after
   * the highest entry at or below it; undefined when it cannot tell: above
   * the last version it has seen, or older than the last 4096 versions it
   * remembers.
   */
  activeSetAt(version: number): ActiveSetState | undefined {
    return this.#watcher.digest.at(version);
  }

  /** The latest integrity check. */
  get integrity(): IntegrityState {
    return this.#integrity;
  }

  /**
   * Seconds since this hub last read the store to its end: its poll for
   * other hubs' publications (or its own publication's read), which runs
   * every `pollMs` while the store answers.
   */
  storeReadAgeSeconds(): number {
    return Math.max(0, this.#options.clock.now() - this.#watcher.lastReadAt) / 1000;
  }

  /** Throws failed_precondition naming the first bad entry when the register is corrupt. */
  requireIntact(action: string): void {
    const error = this.#corruption(action);
    if (error) throw error;
  }

  /**
   * Stores a new version of a blueprint and notifies subscribers before
   * resolving. A publication identical to the blueprint's active entry
   * (document, publisher, metadata) stores nothing and notifies no one: it
   * resolves with that entry, `created: false`. The genesis blueprint is the
   * hub's alone: publishing it is refused (permission_denied).
   */
  publish(publication: Publication): Promise<PublishOutcome> {
    return inSpan("hub.publish", async (span) => {
      const outcome = await this.#publish(publication);
      span.setAttributes({
        "sorcha.blueprint.version": outcome.entry.version,
        "sorcha.publication.created": outcome.created,
      });
      return outcome;
    }, { attributes: { "sorcha.blueprint.id": publication.blueprintId } });
  }

  async #publish(publication: Publication): Promise<PublishOutcome> {
    const action = `Cannot publish blueprint ${quoteInput(publication.blueprintId)}`;
    if (publication.blueprintId === GENESIS_BLUEPRINT_ID) {
      throw new AppError(
        "permission_denied",
        `${action}: it is the system register's genesis, the network's root, seeded by the hub at creation; it cannot be published or replaced`,
      );
    }
    this.requireIntact(action);
    const { entry, created, replaced } = await this.store.publish({
      ...publication,
      publishedAt: this.#options.clock.now(),
      publicationTransactionId: crypto.randomUUID(),
    }, { ifChanged: true });
    if (!created) return { entry, created };
    this.#recorder?.published.add();
    // Its notifications join this publication's trace, whichever check reads the entry.
    await this.#publicationTraces.during(entry.version, () => this.#watcher.check());
    return { entry, created, kind: replaced ? "updated" : "published" };
  }

  /** Entries in version order from the store, page by page. */
  entries(options: EntriesOptions = {}): AsyncIterable<BlueprintEntry> {
    return this.store.entries(options);
  }

  /**
   * What a sync stream sends, taken in one turn (nothing is appended
   * meanwhile), as of the last entry this hub has seen (see
   * {@link SystemRegister.refresh}): the versions of the active entries
   * above `afterVersion` (each blueprint's highest version), in order, at
   * most `limit`; and the active set they lead to. A stream that sends all
   * the active versions ends at `state.version` with `state.digest`.
   */
  activeSnapshot(afterVersion: number, limit?: number): ActiveSnapshot {
    return {
      versions: this.#watcher.active.after(afterVersion, limit),
      state: this.#watcher.digest.current,
    };
  }

  /** Reads what other hubs sharing the store appended since the last look (store errors are logged). */
  refresh(): Promise<void> {
    return this.#watcher.check();
  }

  /** Validates the whole register again (periodically, and on demand). */
  async checkIntegrity(): Promise<IntegrityState> {
    try {
      const { report } = await scanRegister(this.store);
      const wasOk = this.#integrity.ok;
      this.#integrity = { ...report, checkedAt: this.#options.clock.now() };
      if (wasOk !== report.ok) {
        this.logIntegrity();
        this.#options.onIntegrityChange?.(report.ok);
      }
      if (wasOk && !report.ok) this.#endSubscriptions();
    } catch (error) {
      this.#options.logger?.warning("Cannot check the system register's integrity: {error}", {
        error: errorMessage(error),
      });
    }
    return this.#integrity;
  }

  /** Logs the integrity state. */
  logIntegrity(): void {
    const state = this.#integrity;
    if (state.ok) {
      this.#options.logger?.info(
        "System register intact: {entries} entries up to version {version}, checked in {ms} ms",
        { entries: state.entries, version: state.version, ms: Math.round(state.ms) },
      );
    } else {
      this.#options.logger?.error(
        "System register corrupt at version {version} (blueprint {blueprint}): {problem}",
        { version: state.version, blueprint: state.blueprintId, problem: state.problem },
      );
    }
  }

  /** Stops following the store and ends every subscription (the store stays open). */
  close(): void {
    this.#stop.abort();
    this.notifications.closeAll("The hub is shutting down");
  }

  /**
   * Notifies subscribers of a new entry, unless the register is corrupt
   * (nothing is served then), in a `hub.push.deliver` span: a child of the
   * entry's publication when this hub published it, and whose trace context
   * the notifications carry.
   */
  #announce(event: BlueprintEvent): void {
    if (!this.#integrity.ok) return;
    deliverInSpan(event, {
      publication: this.#publicationTraces.of(event.entry.version),
      publish: (traced) => this.notifications.publish(traced),
      logger: this.#options.logger,
    });
  }

  #corrupt(report: IntegrityReport & { ok: false }): void {
    if (!this.#integrity.ok) return;
    this.#integrity = { ...report, checkedAt: this.#options.clock.now() };
    this.logIntegrity();
    this.#options.onIntegrityChange?.(false);
    this.#endSubscriptions();
  }

  /** The register just turned out corrupt: subscriptions end, naming the entry. */
  #endSubscriptions(): void {
    const error = this.#corruption("Subscription ended");
    if (error) this.notifications.closeAll(error);
  }

  /** failed_precondition `<action>: the system register is corrupt at …`, when it is. */
  #corruption(action: string): AppError | undefined {
    const state = this.#integrity;
    if (state.ok) return undefined;
    return new AppError(
      "failed_precondition",
      `${action}: the system register is corrupt at version ${state.version} (blueprint "${state.blueprintId}"): ${state.problem}`,
      { details: { version: state.version, blueprintId: state.blueprintId } },
    );
  }
}
