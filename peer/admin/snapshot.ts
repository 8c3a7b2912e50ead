/**
 * The admin page's snapshot of the node: registers, peers, the hub link,
 * the replica and reconciliation, in one answer (`GET /api/admin/snapshot`,
 * and what the events stream pushes), and its fingerprint: the snapshot
 * without the figures that move on every heartbeat, so that a change worth
 * showing is told apart from the passing of time. The registers come from an
 * {@link AdminRegistersView} when one is given: the same list while nothing
 * changed, which the fingerprint then counts by identity rather than by
 * content.
 *
 * @module
 */
import type { Clock } from "../../shared/clock.ts";
import type { AdvertisementRegistry } from "../advertisements/mod.ts";
import type { Gossiper } from "../gossip/mod.ts";
import type { HubLinkRoutesOptions } from "../hub_link/mod.ts";
import { adminHubLink, adminReplica } from "./hub_view.ts";
import { adminRegisters, type AdminRegistersView } from "./registers_view.ts";
import type { AdminSnapshot } from "./schemas.ts";

/** What a snapshot is made of. */
export interface SnapshotSources {
  /** The advertisements. */
  registry: AdvertisementRegistry;
  /** Gossip, when the peer gossips. */
  gossiper?: Gossiper | undefined;
  /** The hub link and the replica, when configured. */
  hubLink?: HubLinkRoutesOptions | undefined;
  /** Whether API_TOKEN is set. */
  tokenRequired: boolean;
  /** The service's version. */
  version: string;
  /** Time. */
  clock: Clock;
  /** The registers made only when they may have changed (default: made each time). */
  registersView?: AdminRegistersView | undefined;
}

/** The node as the admin page shows it, now. */
export async function adminSnapshot(sources: SnapshotSources): Promise<AdminSnapshot> {
  const now = sources.clock.now();
  const peers = sources.gossiper?.peers() ?? null;
  const node = sources.hubLink?.node;
  return {
    generatedAt: new Date(now).toISOString(),
    node: {
      peerId: peers?.self.peerId ?? node?.peerId ?? null,
      publicUrl: peers?.self.url ?? node?.publicUrl ?? null,
      version: sources.version,
      tokenRequired: sources.tokenRequired,
      hubLinkEnabled: sources.hubLink?.link !== undefined,
      gossipEnabled: sources.gossiper !== undefined,
    },
    registers: sources.registersView
      ? { ...sources.registersView.at(now), generatedAt: new Date(now).toISOString() }
      : adminRegisters(sources.registry, { gossiper: sources.gossiper, now }),
    peers,
    hubLink: adminHubLink(sources.hubLink),
    replica: await adminReplica(sources.hubLink),
    reconciliation: sources.registry.syncState(),
  };
}

/** A number for each registers list seen (by identity), for fingerprints. */
const listTokens = new WeakMap<object, number>();
let nextListToken = 1;

function listToken(list: object): number {
  let token = listTokens.get(list);
  if (token === undefined) listTokens.set(list, token = nextListToken++);
  return token;
}

/**
 * The snapshot's fingerprint: equal for two snapshots that differ only in
 * time passing (when made, heartbeat figures, the last contact with a hub),
 * different when anything an operator would see change has changed. The
 * registers list counts by identity (an {@link AdminRegistersView} hands the
 * same one while it is unchanged, and another once anything in it changed):
 * a fingerprint costs the same for ten registers as for a million.
 */
export function snapshotFingerprint(snapshot: AdminSnapshot): string {
  const { generatedAt: _generatedAt, registers, hubLink, ...rest } = snapshot;
  const { generatedAt: _registersAt, registers: list, ...counts } = registers;
  return JSON.stringify({
    ...rest,
    registers: { ...counts, list: listToken(list) },
    hubLink: {
      ...hubLink,
      heartbeat: hubLink.heartbeat ? { misses: hubLink.heartbeat.consecutiveMisses } : null,
      hubs: hubLink.hubs.map(({ lastContactAt: _lastContactAt, ...hub }) => hub),
    },
  });
}
