/**
 * The peer's advertisements in memory, local and remote, each with its lease.
 *
 * Leases: every advertisement written or refreshed gets a lease of
 * `ttl + grace`. An advertisement not refreshed within that time leaves
 * `available` (and its store entry expires at the same instant). The grace
 * makes a refresh that arrives a little after the TTL (a reconciliation that
 * runs late, a retry) find the advertisement still there, so a register that
 * is refreshed on schedule never blinks out.
 *
 * Every change to the table moves its {@link LeaseTable.version}: the read
 * views cache their answers by it. Expired entries stay until a write prunes
 * them ({@link LeaseTable.prune}); reads skip them and change nothing.
 *
 * @module
 */
import type { AdvertisementKey, StoredAdvertisement } from "../store/mod.ts";

/** Options of {@link LeaseTable}. */
export interface LeaseTableOptions {
  /** How long an advertisement is promised to stay without a refresh, in ms. */
  ttlMs: number;
  /** Extra time a late refresh is still in time for, in ms. */
  graceMs: number;
  /** Told when a prune drops a peer's whole set, its `count` advertisements all expired. */
  onPeerExpired?: ((peerId: string, count: number) => void) | undefined;
}

/** Local advertisements by register id, and each peer's by peer id and register id. */
export class LeaseTable {
  /** The TTL promised, in ms. */
  readonly ttlMs: number;
  /** The lease every write or refresh gives: TTL plus grace, in ms. */
  readonly leaseMs: number;
  readonly #onPeerExpired: LeaseTableOptions["onPeerExpired"];
  readonly #local = new Map<string, StoredAdvertisement>();
  readonly #remote = new Map<string, Map<string, StoredAdvertisement>>();
  #version = 0;
  /** No entry's lease ends before this instant (a lower bound, exact after a prune). */
  #firstExpiry = Number.POSITIVE_INFINITY;

  /** An empty table. */
  constructor(options: LeaseTableOptions) {
    this.ttlMs = options.ttlMs;
    this.leaseMs = options.ttlMs + options.graceMs;
    this.#onPeerExpired = options.onPeerExpired;
  }

  /** Moves on every change: a cached answer of an older version is stale. */
  get version(): number {
    return this.#version;
  }

  /** When a lease given at `now` ends. */
  leaseEnd(now: number): number {
    return now + this.leaseMs;
  }

  /**
   * When a remote advertisement's lease ends: a lease from the owner's issue
   * time (so a header relayed late gives no extra time), never later than a
   * full lease from now (an owner's clock ahead of this one).
   */
  remoteLeaseEnd(now: number, issuedAt: number | undefined): number {
    return Math.min(issuedAt ?? now, now) + this.leaseMs;
  }

  /** Local advertisements by register id, expired ones included. */
  get local(): ReadonlyMap<string, StoredAdvertisement> {
    return this.#local;
  }

  /** Remote advertisements by peer id, then register id, expired ones included. */
  get remote(): ReadonlyMap<string, ReadonlyMap<string, StoredAdvertisement>> {
    return this.#remote;
  }

  /** The local advertisement of a register, unless absent or expired at `now`. */
  liveLocal(registerId: string, now: number): StoredAdvertisement | undefined {
    const entry = this.#local.get(registerId);
    return entry && entry.expiresAt > now ? entry : undefined;
  }

  /** Whether an entry (live or not) is held under `key`. */
  has(key: AdvertisementKey): boolean {
    return key.peerId === undefined
      ? this.#local.has(key.registerId)
      : this.#remote.get(key.peerId)?.has(key.registerId) === true;
  }

  /** Every entry, local then remote, expired ones included. */
  *entries(): Iterable<StoredAdvertisement> {
    yield* this.#local.values();
    for (const peer of this.#remote.values()) yield* peer.values();
  }

  /** Adds or replaces an entry, local or remote by its `peerId`. */
  put(entry: StoredAdvertisement): void {
    const { registerId, peerId } = entry.advertisement;
    if (peerId === undefined) this.#local.set(registerId, entry);
    else {
      let peer = this.#remote.get(peerId);
      if (!peer) this.#remote.set(peerId, peer = new Map());
      peer.set(registerId, entry);
    }
    this.#changed(entry.expiresAt);
  }

  /** Removes a local advertisement; returns it, if there was one. */
  deleteLocal(registerId: string): StoredAdvertisement | undefined {
    const entry = this.#local.get(registerId);
    this.#local.delete(registerId);
    this.#changed();
    return entry;
  }

  /** Replaces everything a peer advertises (an empty set forgets the peer). */
  replacePeer(peerId: string, entries: Map<string, StoredAdvertisement>): void {
    if (entries.size === 0) this.#remote.delete(peerId);
    else this.#remote.set(peerId, entries);
    let first = Number.POSITIVE_INFINITY;
    for (const entry of entries.values()) first = Math.min(first, entry.expiresAt);
    this.#changed(first);
  }

  /** Moves an entry's lease end, keeping the entry itself (the same object). */
  renew(entry: StoredAdvertisement, expiresAt: number): void {
    entry.expiresAt = expiresAt;
    this.#changed(expiresAt);
  }

  /** Drops the entries expired at `now`; costs nothing until the first lease has ended. */
  prune(now: number): void {
    if (now < this.#firstExpiry) return;
    let first = Number.POSITIVE_INFINITY;
    const sweep = (entries: Map<string, StoredAdvertisement>) => {
      for (const [registerId, entry] of entries) {
        if (entry.expiresAt <= now) entries.delete(registerId);
        else first = Math.min(first, entry.expiresAt);
      }
    };
    sweep(this.#local);
    for (const [peerId, peer] of this.#remote) {
      const held = peer.size;
      sweep(peer);
      if (peer.size > 0) continue;
      this.#remote.delete(peerId);
      this.#onPeerExpired?.(peerId, held);
    }
    this.#firstExpiry = first;
    this.#version++;
  }

  #changed(expiresAt = Number.POSITIVE_INFINITY): void {
    this.#version++;
    if (expiresAt < this.#firstExpiry) this.#firstExpiry = expiresAt;
  }
}
