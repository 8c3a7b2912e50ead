/**
 * This node's own gossip record: the header it signs over its public
 * advertisements, re-issued when the set or the URL changes, when the last
 * one is older than the refresh period, or when a newer record of this node
 * turned up elsewhere (its clock may have gone back).
 *
 * @module
 */
import type { Clock } from "../../shared/clock.ts";
import type { RecordHeader } from "../../shared/contracts/gossip.ts";
import type { AdvertisementRegistry, RemoteItem } from "../advertisements/mod.ts";
import { advertisementsDigest, type PeerSigner } from "./signing.ts";

/** Options of {@link OwnRecord}. */
export interface OwnRecordOptions {
  /** This node's id. */
  peerId: string;
  /** How other peers reach this node. */
  publicUrl: string;
  /** Signs this node's header. */
  signer: PeerSigner;
  /** The advertisements (this node's public set goes out). */
  registry: AdvertisementRegistry;
  /** Time source. */
  clock: Clock;
  /** How often an unchanged header is re-issued, in ms. */
  refreshMs: number;
  /** Random numbers in [0, 1) that spread the refreshes (default `Math.random`). */
  random?: () => number;
}

/** Issues and holds this node's current record header; see the module documentation. */
export class OwnRecord {
  readonly #options: OwnRecordOptions;
  /** The age at which the current header is re-issued. */
  #refreshAfterMs: number;
  #own: RecordHeader | undefined;
  /** The newest issue time seen on a record of this node held elsewhere. */
  #selfSeenAt = 0;
  #items: RemoteItem[] = [];
  #queue: Promise<unknown> = Promise.resolve();

  /** Creates the holder; no header is issued before {@link header} is called. */
  constructor(options: OwnRecordOptions) {
    this.#options = options;
    this.#refreshAfterMs = options.refreshMs;
  }

  /** The public advertisements the current header was issued over. */
  get items(): RemoteItem[] {
    return this.#items;
  }

  /** Notes a record of this node seen elsewhere, issued at `issuedAt`. */
  seen(issuedAt: number): void {
    this.#selfSeenAt = Math.max(this.#selfSeenAt, issuedAt);
  }

  /**
   * This node's current header: re-issued (and signed) when its public set
   * or URL changed, or when the last one is older than the refresh period.
   */
  header(): Promise<RecordHeader> {
    const run = this.#queue.then(() => this.#refresh());
    this.#queue = run.catch(() => {});
    return run;
  }

  async #refresh(): Promise<RecordHeader> {
    const now = this.#options.clock.now();
    const items = this.#options.registry.publicLocal();
    const own = this.#own;
    // The registry hands back the same array while the set is unchanged.
    const adsDigest = own && items === this.#items
      ? own.adsDigest
      : await advertisementsDigest(items);
    if (
      own && own.adsDigest === adsDigest && own.adsCount === items.length &&
      own.url === this.#options.publicUrl && now - own.issuedAt < this.#refreshAfterMs &&
      own.issuedAt > this.#selfSeenAt
    ) {
      this.#items = items;
      return own;
    }
    this.#items = items;
    this.#refreshAfterMs = this.#options.refreshMs *
      (1 - (this.#options.random ?? Math.random)() / 4);
    this.#own = await this.#options.signer.sign({
      peerId: this.#options.peerId,
      url: this.#options.publicUrl,
      publicKey: this.#options.signer.publicKey,
      issuedAt: Math.max(Math.floor(now), (own?.issuedAt ?? 0) + 1, this.#selfSeenAt + 1),
      adsDigest,
      adsCount: items.length,
    });
    return this.#own;
  }
}
