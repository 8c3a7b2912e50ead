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
 * {@link AdminRegistersView} keeps the last answer while nothing it depends
 * on has moved (the registry's revision, the gossip records' issue times, the
 * peers) and no lease in it has ended: the admin page's events check for
 * changes four times a second, and a list of many registers costs far more
 * than that check.
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
  return buildRegisters(registry, options).registers;
}

/** The admin registers of one registry, made again only when they may have changed. */
export class AdminRegistersView {
  readonly #registry: AdvertisementRegistry;
  readonly #gossiper: Gossiper | undefined;
  #cached: { key: string; validUntil: number; registers: AdminRegisters } | undefined;
  #builds = 0;

  /** A view of `registry`'s registers, with the advertisers `gossiper` knows of. */
  constructor(registry: AdvertisementRegistry, gossiper?: Gossiper) {
    this.#registry = registry;
    this.#gossiper = gossiper;
  }

  /** How many times the registers were made (for tests). */
  get builds(): number {
    return this.#builds;
  }

  /**
   * The registers at `now`: the same object as last time while nothing they depend on moved
   * (only `generatedAt` is then stale; {@link adminSnapshot} sets its own).
   */
  at(now: number): AdminRegisters {
    const key = this.#key();
    const cached = this.#cached;
    if (cached && cached.key === key && now < cached.validUntil) return cached.registers;
    const { registers, validUntil } = buildRegisters(this.#registry, {
      gossiper: this.#gossiper,
      now,
    });
    this.#builds++;
    this.#cached = { key, validUntil, registers };
    return registers;
  }

  /** What the registers depend on beside time: the registry's revision, records and peers. */
  #key(): string {
    let key = String(this.#registry.readStamp().revision);
    const gossiper = this.#gossiper;
    if (!gossiper) return key;
    for (const header of gossiper.records.headers()) key += `|${header.peerId}@${header.issuedAt}`;
    for (const peer of gossiper.peers().peers) key += `|${peer.peerId}`;
    return key;
  }
}

/** The registers, and until when they hold unless something changes (a lease's end). */
function buildRegisters(
  registry: AdvertisementRegistry,
  options: AdminRegistersOptions,
): { registers: AdminRegisters; validUntil: number } {
  const state = registry.syncState();
  const leaseMs = state.leaseSeconds * 1000;
  const { byRegister: advertisers, validUntil: advertisersUntil } = advertisersByRegister(
    registry,
    { ...options, leaseMs },
  );
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
  const made: AdminRegisters = {
    generatedAt: new Date(options.now).toISOString(),
    ttlSeconds: state.ttlSeconds,
    leaseSeconds: state.leaseSeconds,
    localCount: state.localCount,
    publicLocalCount: state.publicLocalCount,
    privateLocalCount: state.localCount - state.publicLocalCount,
    remoteCount: state.remoteCount,
    registers,
  };
  // A lease's end changes the lists, and so does the clock passing a record's issue time.
  return {
    registers: made,
    validUntil: Math.min(registry.readStamp().validUntil, advertisersUntil),
  };
}

/**
 * The peers advertising each register, by register id, each list sorted by peer id; and until
 * when that holds without a change: an advertiser's lease runs from its record's issue time, or
 * from now for a record issued ahead of this clock (until that time).
 */
function advertisersByRegister(
  registry: AdvertisementRegistry,
  options: AdminRegistersOptions & { leaseMs: number },
): { byRegister: Map<string, RegisterAdvertiser[]>; validUntil: number } {
  const byRegister = new Map<string, RegisterAdvertiser[]>();
  let validUntil = Number.POSITIVE_INFINITY;
  const gossiper = options.gossiper;
  if (!gossiper) return { byRegister, validUntil };
  const issued = new Map<string, number>();
  for (const header of gossiper.records.headers()) issued.set(header.peerId, header.issuedAt);
  const peerIds = new Set(issued.keys());
  for (const peer of gossiper.peers().peers) if (peer.peerId !== null) peerIds.add(peer.peerId);
  for (const peerId of [...peerIds].sort()) {
    const issuedAt = issued.get(peerId);
    if (issuedAt !== undefined && issuedAt > options.now) {
      validUntil = Math.min(validUntil, issuedAt);
    }
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
  return { byRegister, validUntil };
}

/** The latest of some ISO times (they sort as text), null when there is none. */
function latest(times: readonly (string | null)[]): string | null {
  let found: string | null = null;
  for (const time of times) if (time !== null && (found === null || time > found)) found = time;
  return found;
}
