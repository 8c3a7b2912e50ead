/**
 * Every register this node knows, for the admin page: the public ones,
 * local and remote (`available`), each with the peers advertising it, when
 * each last refreshed it and when its lease ends; and the counts, with the
 * local registers that are not public (counted only: the registry lists
 * none of them).
 *
 * A local advertisement's lease is the registry's (`localLeases()`): it
 * was refreshed one lease before it ends. A remote advertisement's lease runs from the issue time of the record
 * that brought or renewed it (`gossip/records.ts`), so the record's issue
 * time is its last refresh and the lease ends one lease later at the
 * latest.
 *
 * @module
 */
import type { AdvertisementRegistry } from "../advertisements/mod.ts";
import type { Gossiper } from "../gossip/mod.ts";
import type { AdminRegister, AdminRegisters, RegisterAdvertiser } from "./schemas.ts";

/** Options of {@link adminRegisters}. */
export interface AdminRegistersOptions {
  /** Gossip: the peers whose advertisements are held; without it no advertiser is listed. */
  gossiper?: Gossiper | undefined;
  /** Now, in ms since the epoch. */
  now: number;
}

/** The registers as `GET /api/admin/registers` shows them, sorted by id. */
export function adminRegisters(
  registry: AdvertisementRegistry,
  options: AdminRegistersOptions,
): AdminRegisters {
  const state = registry.syncState();
  const leaseMs = state.leaseSeconds * 1000;
  const advertisers = advertisersByRegister(registry, { ...options, leaseMs });
  const local = new Map(registry.localLeases().map((lease) => [lease.registerId, lease]));
  const registers: AdminRegister[] = registry.available().map((register) => {
    const advertisedBy = advertisers.get(register.registerId) ?? [];
    const own = local.get(register.registerId);
    return {
      ...register,
      lastRefreshAt: latest([
        ...advertisedBy.map((advertiser) => advertiser.refreshedAt),
        own ? new Date(own.refreshedAt).toISOString() : null,
      ]),
      leaseExpiresAt: latest([
        ...advertisedBy.map((advertiser) => advertiser.leaseExpiresAt),
        own ? new Date(own.expiresAt).toISOString() : null,
      ]),
      advertisedBy,
    };
  });
  return {
    generatedAt: new Date(options.now).toISOString(),
    ttlSeconds: state.ttlSeconds,
    leaseSeconds: state.leaseSeconds,
    localCount: state.localCount,
    publicLocalCount: state.publicLocalCount,
    privateLocalCount: state.localCount - state.publicLocalCount,
    remoteCount: state.remoteCount,
    registers,
  };
}

/** The peers advertising each register, by register id, each list sorted by peer id. */
function advertisersByRegister(
  registry: AdvertisementRegistry,
  options: AdminRegistersOptions & { leaseMs: number },
): Map<string, RegisterAdvertiser[]> {
  const byRegister = new Map<string, RegisterAdvertiser[]>();
  const gossiper = options.gossiper;
  if (!gossiper) return byRegister;
  const issued = new Map<string, number>();
  for (const header of gossiper.records.headers()) issued.set(header.peerId, header.issuedAt);
  const peerIds = new Set(issued.keys());
  for (const peer of gossiper.peers().peers) if (peer.peerId !== null) peerIds.add(peer.peerId);
  for (const peerId of [...peerIds].sort()) {
    const issuedAt = issued.get(peerId);
    const refreshedAt = issuedAt === undefined ? null : new Date(issuedAt).toISOString();
    const leaseExpiresAt = issuedAt === undefined
      ? null
      : new Date(Math.min(issuedAt, options.now) + options.leaseMs).toISOString();
    for (const item of registry.remoteItems(peerId)) {
      let list = byRegister.get(item.registerId);
      if (!list) byRegister.set(item.registerId, list = []);
      list.push({ peerId, ...item, refreshedAt, leaseExpiresAt });
    }
  }
  return byRegister;
}

/** The latest of some ISO times (they sort as text), null when there is none. */
function latest(times: readonly (string | null)[]): string | null {
  let found: string | null = null;
  for (const time of times) if (time !== null && (found === null || time > found)) found = time;
  return found;
}
