/**
 * Which records go in a gossip message: the digest this node sends, the
 * records (own included) newer than the other side's digest shows, with
 * their sets where it lacks them and within the message limits, and the
 * records this node wants back.
 *
 * @module
 */
import {
  type DigestEntry,
  type GossipRecord,
  MAX_MESSAGE_ADVERTISEMENTS,
  MAX_MESSAGE_RECORDS,
  type RecordHeader,
  type WantedEntry,
} from "../../shared/contracts/gossip.ts";
import type { AdvertisementRegistry } from "../advertisements/mod.ts";
import type { OwnRecord } from "./own_record.ts";
import type { RecordBook } from "./records.ts";

/** Where the records of a message come from. */
export interface RecordSources {
  /** This node's record (its advertisements are read when its header goes out). */
  ownRecord: OwnRecord;
  /** The records held of other peers. */
  book: RecordBook;
  /** The advertisements of other peers. */
  registry: AdvertisementRegistry;
}

/** Options of {@link selectRecords}. */
export interface SelectRecordsOptions extends RecordSources {
  /** Only the records `digest` lists (a push of wanted records). */
  listedOnly: boolean;
}

/** The digest of the records held (own first). */
export function digestOf(own: RecordHeader, book: RecordBook): DigestEntry[] {
  return [own, ...book.headers()].map((header) => ({
    peerId: header.peerId,
    issuedAt: header.issuedAt,
    adsDigest: header.adsDigest,
  }));
}

/** The records (own included) newer than `digest` shows, with their sets where it lacks them. */
export function selectRecords(
  own: RecordHeader,
  digest: ReadonlyMap<string, Pick<DigestEntry, "issuedAt" | "adsDigest">>,
  options: SelectRecordsOptions,
): GossipRecord[] {
  const { book, registry } = options;
  const out: GossipRecord[] = [];
  let adsBudget = MAX_MESSAGE_ADVERTISEMENTS;
  for (const header of [own, ...book.headers()]) {
    if (out.length >= MAX_MESSAGE_RECORDS) break;
    const known = digest.get(header.peerId);
    if (options.listedOnly && !known) continue;
    if (known && known.issuedAt >= header.issuedAt) continue;
    if (known?.adsDigest === header.adsDigest) {
      out.push({ header });
      continue;
    }
    // A set still being written may not match the held header yet: it goes in a later message.
    if (header !== own && book.applying(header.peerId)) continue;
    const advertisements = header === own
      ? options.ownRecord.items
      : registry.remoteItems(header.peerId);
    // The entries of a header issued ahead of this clock expire before it (their lease
    // starts no later than now): what is left no longer matches the header.
    if (advertisements.length !== header.adsCount) continue;
    // What does not fit in this message goes in a later one.
    if (advertisements.length > adsBudget) continue;
    adsBudget -= advertisements.length;
    out.push({ header, advertisements });
  }
  return out;
}

/** The records of `digest` newer than the ones `book` holds (never this node's own). */
export function wantedRecords(
  digest: ReadonlyMap<string, DigestEntry>,
  options: { book: RecordBook; selfId: string },
): WantedEntry[] {
  const wanted: WantedEntry[] = [];
  for (const entry of digest.values()) {
    if (entry.peerId === options.selfId || wanted.length >= MAX_MESSAGE_RECORDS) continue;
    const held = options.book.get(entry.peerId);
    if (held && held.issuedAt >= entry.issuedAt) continue;
    wanted.push({ peerId: entry.peerId, adsDigest: held?.adsDigest ?? null });
  }
  return wanted;
}

/** The wanted entries of an answer as a digest to push against (any issue time is older). */
export function wantedDigest(
  wanted: readonly WantedEntry[],
): Map<string, Pick<DigestEntry, "issuedAt" | "adsDigest">> {
  return new Map(
    wanted.map((entry) => [entry.peerId, {
      issuedAt: 0,
      adsDigest: entry.adsDigest ?? "",
    }]),
  );
}
