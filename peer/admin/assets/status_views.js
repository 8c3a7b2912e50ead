// The admin page's hub, System Register and Reconciliation tabs, rendered from a snapshot of
// the node (GET /api/admin/snapshot) and the replica's own endpoints.
import { badge, facts, fill, h, note, relative, shortId, table, when } from "./dom.js";

const HUB_TONES = { connected: "ok", standby: "muted", connecting: "warn", failed: "bad" };
const LINK_TONES = { Connected: "ok", Connecting: "warn", HeartbeatTimeout: "warn" };

/** The Hub tab. */
export function renderHub(panel, snapshot) {
  const link = snapshot.hubLink;
  if (!link.enabled) {
    return fill(
      panel,
      note(
        "No hub link: HUB_NODES is not set on this peer, so it keeps no replica of the system register.",
      ),
    );
  }
  const now = Date.now();
  const beat = link.heartbeat;
  fill(
    panel,
    h("h2", {}, "Hub connection"),
    facts([
      [
        "State",
        h(
          "span",
          {},
          badge(link.state, LINK_TONES[link.state] ?? "bad"),
          link.since ? h("span", { class: "muted" }, " since ", when(link.since, now)) : null,
        ),
      ],
      [
        "Current hub",
        link.session
          ? h(
            "span",
            {},
            h("strong", {}, link.session.centralNodeId),
            ` at ${link.session.address}`,
          )
          : null,
      ],
      [
        "Session",
        link.session
          ? h(
            "span",
            {},
            shortId(link.session.sessionId, 12),
            " opened ",
            when(link.session.connectedAt, now),
          )
          : null,
      ],
      [
        "Heartbeat latency",
        beat?.lastLatencyMs != null
          ? `${beat.lastLatencyMs} ms (average ${beat.averageLatencyMs ?? "—"} ms)`
          : null,
      ],
      ["Last heartbeat", beat ? when(beat.lastAcknowledgedAt, now) : null],
      [
        "Heartbeats",
        beat
          ? `every ${beat.intervalSeconds} s · ${beat.totalSent} sent · ${beat.totalMissed} missed · ${beat.consecutiveMisses} missed in a row`
          : null,
      ],
      [
        "Link process",
        link.linkProcess
          ? `${link.linkProcess.state}, ${link.linkProcess.restarts} restart(s)`
          : undefined,
      ],
    ]),
    h("h2", {}, "Configured hubs"),
    link.hubs.length === 0 ? note("No hub configured.") : table(
      ["#", "Hub", "State", "Id", "Last contact", "Failures", "Last error"],
      link.hubs.map((hub) => [
        h("span", { class: "num" }, hub.priority),
        h("span", {}, h("code", {}, hub.address), hub.current ? badge("current", "ok") : null),
        badge(hub.state, HUB_TONES[hub.state] ?? "warn"),
        hub.centralNodeId ?? "—",
        when(hub.lastContactAt, now),
        h("span", { class: "num" }, hub.consecutiveFailures),
        hub.lastError
          ? h("span", { class: "error-text" }, hub.lastError, " ", when(hub.lastErrorAt, now))
          : "—",
      ]),
      { caption: "Configured hubs" },
    ),
    h("h2", {}, `Recent failovers (${link.failovers} since start)`),
    link.recentFailovers.length === 0 ? note("No failover since the link started.") : table(
      ["When", "From", "To", "Why"],
      [...link.recentFailovers].reverse().map((failover) => [
        when(failover.at, now),
        h("code", {}, failover.from),
        failover.to ? h("code", {}, failover.to) : h("span", { class: "muted" }, "none answered"),
        failover.reason,
      ]),
      { caption: "Recent failovers" },
    ),
  );
}

/** The System Register tab's checkpoint summary. */
export function renderSystemSummary(element, snapshot) {
  const replica = snapshot.replica;
  const checkpoint = replica.checkpoint;
  const now = Date.now();
  fill(
    element,
    h("h2", {}, "Replica of the system register"),
    facts([
      [
        "Status",
        badge(
          replica.status,
          replica.status === "UP_TO_DATE"
            ? "ok"
            : replica.status === "SYNC_FAILED"
            ? "bad"
            : "warn",
        ),
      ],
      [
        "Checkpoint",
        checkpoint ? `version ${checkpoint.version}, ${checkpoint.blueprints} blueprint(s)` : null,
      ],
      ["From hub", checkpoint ? `${checkpoint.hubId} (${checkpoint.hubAddress})` : null],
      [
        "Last sync",
        checkpoint
          ? h("span", {}, badge(checkpoint.lastSyncKind), " ", when(checkpoint.lastSyncAt, now))
          : null,
      ],
      ["Digest", checkpoint ? shortId(checkpoint.digest, 24) : null],
      [
        "Syncs",
        `${replica.fullSyncs} full · ${replica.incrementalSyncs} incremental · ${replica.failedSyncs} failed${
          replica.syncing ? " · syncing now" : ""
        }`,
      ],
      [
        "Last error",
        replica.lastError ? h("span", { class: "error-text" }, replica.lastError) : undefined,
      ],
    ]),
  );
}

/** The replica's blueprints, each a button that shows its document. */
export function renderBlueprints(element, list, view) {
  if (list.error) return fill(element, note(`Cannot list the replica: ${list.error}`, "bad"));
  if (!list.loaded) return fill(element, note("Loading the replica…"));
  if (list.entries.length === 0) return fill(element, note("The replica holds no blueprint yet."));
  fill(
    element,
    table(
      ["Blueprint", "Version", "Publisher", "Published"],
      list.entries.map((entry) => [
        h("button", {
          type: "button",
          class: "link",
          "data-blueprint": entry.blueprintId,
          "aria-pressed": String(view.selected === entry.blueprintId),
          onclick: () => view.select(entry.blueprintId),
        }, entry.blueprintId),
        h("span", { class: "num" }, entry.version),
        entry.publishedBy || "—",
        when(entry.publishedAt),
      ]),
      { caption: "Blueprints in the replica" },
    ),
    list.more
      ? h(
        "button",
        { type: "button", class: "action", onclick: () => view.loadMore() },
        "Load more",
      )
      : null,
  );
}

/** One blueprint's entry and document. */
export function renderBlueprint(element, entry) {
  if (!entry) return fill(element, note("Choose a blueprint to see its document."));
  if (entry.error) return fill(element, note(entry.error, "bad"));
  fill(
    element,
    h("h2", {}, entry.blueprintId),
    facts([
      ["Version", entry.version],
      ["Published", h("span", {}, entry.publishedBy || "—", " · ", when(entry.publishedAt))],
      ["Checksum", shortId(entry.checksum, 24)],
      ["Size", `${entry.documentSize} bytes`],
    ]),
    entry.documentWithheld
      ? note("The hub withheld this document: it is larger than this peer takes.")
      : h(
        "pre",
        { class: "json", tabindex: "0", "aria-label": "Document" },
        JSON.stringify(entry.document, null, 2),
      ),
  );
}

/** The Reconciliation tab. */
export function renderReconciliation(panel, snapshot) {
  const state = snapshot.reconciliation;
  const sync = state.lastFullSync;
  const store = state.store;
  const now = Date.now();
  const pending = state.pendingSyncs ?? [];
  fill(
    panel,
    h("h2", {}, "Last full sync from the register service"),
    sync
      ? facts([
        ["Received", when(sync.at, now)],
        ["Outcome", badge(sync.outcome, sync.outcome === "persisted" ? "ok" : "warn")],
        [
          "Counts",
          `${sync.counts.processed} processed · ${sync.counts.added} added · ${sync.counts.updated} updated · ${sync.counts.removed} removed`,
        ],
        [
          "Store error",
          sync.storeError ? h("span", { class: "error-text" }, sync.storeError) : undefined,
        ],
      ])
      : note(
        "No full sync received yet: the register service pushes one at its start and every reconciliation.",
      ),
    h("h2", {}, "Advertisement store"),
    facts([
      [
        "State",
        badge(
          store.state,
          store.state === "ok" ? "ok" : store.state === "degraded" ? "bad" : "warn",
        ),
      ],
      ["Kind", store.kind],
      ["Loaded", store.loaded ? "yes" : "no: serving what it was told since start"],
      [
        "Pending writes",
        store.state === "degraded"
          ? `${
            store.pendingWrites ?? 0
          } in flight; every change is held in memory until the store answers`
          : String(store.pendingWrites ?? 0),
      ],
      [
        "Last error",
        store.lastError ? h("span", { class: "error-text" }, store.lastError) : undefined,
      ],
      [
        "Live advertisements",
        `${state.localCount} local (${state.publicLocalCount} public) · ${state.remoteCount} from other peers`,
      ],
      ["Lease", `TTL ${state.ttlSeconds} s, ${state.leaseSeconds} s with grace`],
    ]),
    h("h2", {}, "Full syncs in parts, waiting for their last part"),
    pending.length === 0 ? note("None.") : table(
      ["Sync", "Parts", "Items", "Dropped"],
      pending.map((p) => [
        h("code", {}, p.syncId),
        p.parts,
        p.items,
        relative(Date.parse(p.expiresAt) - now),
      ]),
      { caption: "Pending full syncs" },
    ),
  );
}
