/**
 * The admin page's snapshot of the node: registers, peers, the hub link,
 * the replica and reconciliation, in one answer (`GET /api/admin/snapshot`,
 * and what the events stream pushes), and its fingerprint: the snapshot
 * without the figures that move on every heartbeat, so that a change worth
 * showing is told apart from the passing of time.
 *
 * @module
 */
import type { Clock } from "../../shared/clock.ts";
import type { AdvertisementRegistry } from "../advertisements/mod.ts";
import type { Gossiper } from "../gossip/mod.ts";
import type { HubLinkRoutesOptions } from "../hub_link/mod.ts";
import { adminHubLink, adminReplica } from "./hub_view.ts";
import { adminRegisters } from "./registers_view.ts";
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
    registers: adminRegisters(sources.registry, { gossiper: sources.gossiper, now }),
    peers,
    hubLink: adminHubLink(sources.hubLink),
    replica: await adminReplica(sources.hubLink),
    reconciliation: sources.registry.syncState(),
  };
}

/**
 * The snapshot's fingerprint: equal for two snapshots that differ only in
 * time passing (when made, heartbeat figures, the last contact with a hub),
 * different when anything an operator would see change has changed.
 */
export function snapshotFingerprint(snapshot: AdminSnapshot): string {
  const { generatedAt: _generatedAt, registers, hubLink, ...rest } = snapshot;
  const { generatedAt: _registersAt, ...stableRegisters } = registers;
  return JSON.stringify({
    ...rest,
    registers: stableRegisters,
    hubLink: {
      ...hubLink,
      heartbeat: hubLink.heartbeat ? { misses: hubLink.heartbeat.consecutiveMisses } : null,
      hubs: hubLink.hubs.map(({ lastContactAt: _lastContactAt, ...hub }) => hub),
    },
  });
}
