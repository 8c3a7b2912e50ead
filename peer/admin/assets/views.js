// The admin page's register and peer views, rendered from a snapshot of the node
// (GET /api/admin/snapshot); the hub, replica and reconciliation views are in status_views.js.
import { badge, facts, fill, h, note, shortId, table, when } from "./dom.js";

/** Where a register is advertised, in words. */
export function whereOf(register) {
  if (register.isLocal && register.peerCount > 0) return "local + remote";
  return register.isLocal ? "local" : "remote";
}

/** The banner over every tab: isolated or degraded hub link, degraded store; null when all is well. */
export function bannerOf(snapshot) {
  const link = snapshot.hubLink;
  const store = snapshot.reconciliation.store;
  const lines = [];
  if (link.enabled && link.state === "Isolated") {
    lines.push(
      `Isolated: no hub answers${
        link.isolatedSince ? ` since ${new Date(link.isolatedSince).toLocaleTimeString()}` : ""
      }. The replica is still served; the peer keeps retrying every hub.`,
    );
  } else if (link.enabled && link.state !== "Connected") {
    lines.push(`Hub link degraded: ${link.state}. The replica is served as last synced.`);
  }
  if (store.state === "degraded") {
    lines.push(
      `Store degraded (${store.kind}): changes are kept in memory and written once it answers` +
        (store.lastError ? ` (${store.lastError})` : "."),
    );
  }
  return lines.length === 0 ? null : lines;
}

/** The header line: which node this is. */
export function renderNode(element, snapshot) {
  const node = snapshot.node;
  fill(
    element,
    h("strong", {}, node.peerId ?? "this peer"),
    node.publicUrl ? ` · ${node.publicUrl}` : "",
    ` · v${node.version}`,
  );
}

/** Compares two registers by `key` (`where` is derived), then by id. */
export function compareRegisters(key, direction) {
  const value = (register) => key === "where" ? whereOf(register) : register[key] ?? "";
  return (a, b) => {
    const x = value(a);
    const y = value(b);
    const order = x < y ? -1 : x > y ? 1 : a.registerId < b.registerId ? -1 : 1;
    return direction === "descending" ? -order : order;
  };
}

/** The Available Registers tab's rows and summary. */
export function renderRegisters(elements, snapshot, view) {
  const all = snapshot.registers.registers;
  const filter = view.filter.trim().toLowerCase();
  const shown = all.filter((register) => register.registerId.includes(filter))
    .sort(compareRegisters(view.sortKey, view.sortDirection));
  const now = Date.now();
  fill(
    elements.body,
    shown.map((register) =>
      h(
        "tr",
        { "data-register": register.registerId },
        h("td", {}, shortId(register.registerId, 32)),
        h("td", {}, badge(whereOf(register), register.isLocal ? "ok" : "muted")),
        h(
          "td",
          { class: "num", title: register.advertisedBy.map((peer) => peer.peerId).join(", ") },
          register.peerCount,
        ),
        h("td", { class: "num" }, register.fullReplicaPeerCount),
        h("td", { class: "num" }, register.latestVersion),
        h("td", { class: "num" }, register.latestDocketVersion),
        h("td", {}, when(register.lastRefreshAt, now)),
        h("td", {}, when(register.leaseExpiresAt, now)),
      )
    ),
  );
  const counts = snapshot.registers;
  const hidden = counts.privateLocalCount > 0
    ? ` ${counts.privateLocalCount} private local register(s) are not listed.`
    : "";
  elements.summary.textContent = `${shown.length} of ${all.length} register(s): ` +
    `${counts.publicLocalCount} public local, ${counts.remoteCount} advertisement(s) from other peers.` +
    hidden;
  elements.empty.hidden = shown.length > 0;
  elements.empty.textContent = all.length === 0
    ? "No public register is advertised yet, by this node or by any peer it knows."
    : `No register id contains "${view.filter}".`;
  for (const th of elements.headers) {
    th.setAttribute("aria-sort", th.dataset.sort === view.sortKey ? view.sortDirection : "none");
  }
}

/** The Peers tab. */
export function renderPeers(panel, snapshot) {
  const peers = snapshot.peers;
  if (!peers) return fill(panel, note("This peer does not gossip: it knows no other peer."));
  const byPeer = new Map();
  for (const register of snapshot.registers.registers) {
    for (const advertiser of register.advertisedBy) {
      if (!byPeer.has(advertiser.peerId)) byPeer.set(advertiser.peerId, []);
      byPeer.get(advertiser.peerId).push(register.registerId);
    }
  }
  const now = Date.now();
  const round = peers.lastRound;
  fill(
    panel,
    h("h2", {}, "Known peers"),
    facts([
      ["This peer", h("span", {}, h("strong", {}, peers.self.peerId), ` at ${peers.self.url}`)],
      ["Gossip", `every ${peers.intervalSeconds} s, ${peers.fanout} peer(s) a round`],
      [
        "Last round",
        round
          ? h(
            "span",
            {},
            when(round.at, now),
            ` · ${round.succeeded} of ${round.contacted} answered`,
          )
          : null,
      ],
    ]),
    peers.peers.length === 0
      ? note(
        "No other peer is known yet. Set GOSSIP_SEEDS, or wait for a peer to contact this one.",
      )
      : table(
        ["Peer", "URL", "Status", "Last contact", "Failures", "Last error", "Registers"],
        peers.peers.map((peer) => {
          const registers = peer.peerId ? byPeer.get(peer.peerId) ?? [] : [];
          return [
            peer.peerId
              ? h("strong", {}, peer.peerId)
              : h("span", { class: "muted" }, "not reached yet"),
            h("span", {}, h("code", {}, peer.url), peer.seed ? badge("seed") : null),
            badge(
              peer.status,
              peer.status === "ok" ? "ok" : peer.status === "failing" ? "bad" : "muted",
            ),
            when(peer.lastContactAt, now),
            h("span", { class: "num" }, peer.failures),
            peer.lastError ? h("span", { class: "error-text" }, peer.lastError) : "—",
            registers.length === 0 ? h("span", { class: "muted" }, "none") : h(
              "ul",
              { class: "ids" },
              registers.map((id) => h("li", {}, shortId(id, 12))),
            ),
          ];
        }),
        { caption: "Known peers" },
      ),
  );
}
