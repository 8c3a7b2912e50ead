// The admin page: tabs, live updates (server-sent events, polling as a fallback), the
// replica's blueprints and "trigger sync". Everything comes from this peer.
import { bannerOf, renderNode, renderPeers, renderRegisters } from "./views.js";
import {
  renderBlueprint,
  renderBlueprints,
  renderHub,
  renderReconciliation,
  renderSystemSummary,
} from "./status_views.js";

const TABS = ["registers", "peers", "hub", "system", "reconciliation"];
const POLL_MS = 2000;
const $ = (id) => document.getElementById(id);

const state = {
  snapshot: null,
  tab: "registers",
  filter: "",
  sortKey: "registerId",
  sortDirection: "ascending",
  blueprints: { loaded: false, entries: [], more: false, next: null, error: null, version: null },
  selected: null,
  entry: null,
};

// ---- tabs ----------------------------------------------------------------------------------

function showTab(name, focus = false) {
  if (!TABS.includes(name)) name = "registers";
  state.tab = name;
  for (const tab of TABS) {
    const button = $(`tab-${tab}`);
    const selected = tab === name;
    button.setAttribute("aria-selected", String(selected));
    button.tabIndex = selected ? 0 : -1;
    $(`panel-${tab}`).hidden = !selected;
  }
  if (focus) $(`tab-${name}`).focus();
  if (location.hash !== `#${name}`) history.replaceState(null, "", `#${name}`);
  render();
}

function setUpTabs() {
  for (const tab of TABS) {
    const button = $(`tab-${tab}`);
    button.addEventListener("click", () => showTab(tab));
    button.addEventListener("keydown", (event) => {
      const index = TABS.indexOf(tab);
      const moves = { ArrowRight: 1, ArrowLeft: -1, Home: -index, End: TABS.length - 1 - index };
      if (!(event.key in moves)) return;
      event.preventDefault();
      showTab(TABS[(index + moves[event.key] + TABS.length) % TABS.length], true);
    });
  }
  addEventListener("hashchange", () => showTab(location.hash.slice(1)));
  showTab(location.hash.slice(1));
}

// ---- registers: filter and sort ------------------------------------------------------------

function setUpRegisters() {
  $("filter").addEventListener("input", (event) => {
    state.filter = event.target.value;
    render();
  });
  for (const th of document.querySelectorAll("#registers-table th[data-sort]")) {
    th.querySelector("button").addEventListener("click", () => {
      const key = th.dataset.sort;
      state.sortDirection = state.sortKey === key && state.sortDirection === "ascending"
        ? "descending"
        : "ascending";
      state.sortKey = key;
      render();
    });
  }
}

// ---- rendering -----------------------------------------------------------------------------

function render() {
  const snapshot = state.snapshot;
  if (!snapshot) return;
  renderNode($("node"), snapshot);
  const banner = bannerOf(snapshot);
  $("banner").hidden = banner === null;
  $("banner").replaceChildren(...(banner ?? []).map((line) => {
    const p = document.createElement("p");
    p.textContent = line;
    return p;
  }));
  document.body.dataset.hubState = snapshot.hubLink.state;
  if (state.tab === "registers") {
    renderRegisters(
      {
        body: $("registers-body"),
        summary: $("registers-summary"),
        empty: $("registers-empty"),
        headers: document.querySelectorAll("#registers-table th[data-sort]"),
      },
      snapshot,
      state,
    );
  } else if (state.tab === "peers") renderPeers($("panel-peers"), snapshot);
  else if (state.tab === "hub") renderHub($("panel-hub"), snapshot);
  else if (state.tab === "system") renderSystem(snapshot);
  else renderReconciliation($("panel-reconciliation"), snapshot);
}

function renderSystem(snapshot) {
  renderSystemSummary($("system-summary"), snapshot);
  const form = $("sync-form");
  form.hidden = !snapshot.node.hubLinkEnabled;
  $("token").hidden = !snapshot.node.tokenRequired;
  $("token-label").hidden = !snapshot.node.tokenRequired;
  const version = snapshot.replica.checkpoint
    ? `${snapshot.replica.checkpoint.version}/${snapshot.replica.checkpoint.lastSyncAt}`
    : "empty";
  if (version !== state.blueprints.version) void loadBlueprints(version);
  const view = {
    selected: state.selected,
    select: selectBlueprint,
    loadMore: () => loadBlueprints(version, true),
  };
  renderBlueprints($("blueprints"), state.blueprints, view);
  renderBlueprint($("blueprint"), state.entry);
}

// ---- the replica's blueprints --------------------------------------------------------------

async function getJson(path) {
  const response = await fetch(path, {
    headers: { accept: "application/json" },
    cache: "no-store",
  });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new Error(body?.error?.message ?? `${path} answered ${response.status}`);
  return body;
}

async function loadBlueprints(version, more = false) {
  const list = state.blueprints;
  list.version = version;
  const since = more ? list.next : 0;
  try {
    const page = await getJson(`/api/system-register/blueprints?sinceVersion=${since}&limit=500`);
    if (list.version !== version) return;
    list.entries = more ? [...list.entries, ...page.blueprints] : page.blueprints;
    list.more = page.nextSinceVersion !== null;
    list.next = page.nextSinceVersion;
    list.error = null;
  } catch (error) {
    list.error = error.message;
  }
  list.loaded = true;
  if (state.selected) void selectBlueprint(state.selected, false);
  render();
}

async function selectBlueprint(blueprintId, rerender = true) {
  state.selected = blueprintId;
  if (rerender) render();
  try {
    const entry = await getJson(
      `/api/system-register/blueprints/${encodeURIComponent(blueprintId)}`,
    );
    if (state.selected === blueprintId) state.entry = entry;
  } catch (error) {
    if (state.selected === blueprintId) state.entry = { error: error.message };
  }
  render();
}

// ---- trigger sync --------------------------------------------------------------------------

function setUpSync() {
  $("sync-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const result = $("sync-result");
    const token = $("token").value.trim();
    const headers = token ? { authorization: `Bearer ${token}` } : {};
    $("sync-button").disabled = true;
    result.textContent = "Syncing…";
    try {
      const response = await fetch("/api/sync/trigger", { method: "POST", headers });
      const body = await response.json().catch(() => null);
      result.textContent = response.ok
        ? `Synced: ${body.result.kind}, version ${body.result.fromVersion} → ${body.result.toVersion}, ${body.result.entries} entr${
          body.result.entries === 1 ? "y" : "ies"
        }.`
        : `Not synced: ${body?.error?.message ?? response.status}`;
    } catch (error) {
      result.textContent = `Not synced: ${error.message}`;
    } finally {
      $("sync-button").disabled = false;
    }
  });
}

// ---- live updates --------------------------------------------------------------------------

let pollTimer = null;

function live(text, tone) {
  const element = $("live");
  element.textContent = text;
  element.className = `live ${tone}`;
}

function take(snapshot) {
  state.snapshot = snapshot;
  document.body.dataset.updatedAt = snapshot.generatedAt;
  render();
}

async function poll() {
  try {
    take(await getJson("/api/admin/snapshot"));
    live(`Polling every ${POLL_MS / 1000} s (live updates reconnecting)`, "warn");
  } catch (error) {
    live(`Cannot reach this peer: ${error.message}`, "bad");
  }
}

function startPolling() {
  if (pollTimer !== null) return;
  void poll();
  pollTimer = setInterval(poll, POLL_MS);
}

function stopPolling() {
  clearInterval(pollTimer);
  pollTimer = null;
}

function connect() {
  if (typeof EventSource !== "function") return startPolling();
  const source = new EventSource("/api/admin/events");
  source.addEventListener("open", () => {
    stopPolling();
    live("Live", "ok");
  });
  source.addEventListener("snapshot", (event) => {
    stopPolling();
    live("Live", "ok");
    take(JSON.parse(event.data));
  });
  source.addEventListener("problem", (event) => live(event.data, "bad"));
  // EventSource reconnects by itself; meanwhile the page polls.
  source.addEventListener("error", () => {
    startPolling();
    if (source.readyState === EventSource.CLOSED) setTimeout(connect, POLL_MS);
  });
}

setUpTabs();
setUpRegisters();
setUpSync();
connect();
