/**
 * Reading every advertisement back from Redis: `SCAN` (never `KEYS`) over
 * the advertisement keys, each page's values (`MGET`) and TTLs (one script
 * call) fetched in one round trip while the next page is scanned (ioredis
 * pipelines them), and all pages decoded only at the end, so that Redis never
 * waits for the decoding. The key, not the value, says which register and
 * peer an entry is about; keys without a TTL and undecodable values are
 * skipped (and counted in a warning).
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import { queueScript, type RedisConnection } from "./redis_connection.ts";
import { PTTL_COMMAND } from "./redis_scripts.ts";
import { decodeAdvertisement, parseAdvertisementKey, type StoredAdvertisement } from "./types.ts";

/** The SCAN page size hint. */
export const SCAN_COUNT = 1000;
/** The SCAN pattern matching every advertisement key (and the full-sync key, which is skipped). */
export const ADVERTISEMENT_PATTERN = "peer:advert:*";

/** Values and TTLs of one SCAN page's keys, as Redis sent them. */
interface FetchedPage {
  keys: string[];
  values: unknown[];
  pttls: unknown[];
  /** When the reply arrived (PTTLs count from then). */
  at: number;
}

/**
 * Every live advertisement in Redis; an `unavailable` AppError when Redis fails meanwhile.
 * The caller makes sure the connection is ready and no full sync is half written.
 */
export async function loadAdvertisements(
  connection: RedisConnection,
  logger: Logger,
): Promise<StoredAdvertisement[]> {
  const pages: Promise<FetchedPage>[] = [];
  // SCAN may return a key more than once.
  const seen = new Set<string>();
  let cursor = "0";
  try {
    do {
      const [next, keys] = await connection.client.scan(
        cursor,
        "MATCH",
        ADVERTISEMENT_PATTERN,
        "COUNT",
        SCAN_COUNT,
      );
      cursor = next;
      const wanted: string[] = [];
      for (const key of keys) {
        if (seen.has(key) || parseAdvertisementKey(key) === undefined) continue;
        seen.add(key);
        wanted.push(key);
      }
      if (wanted.length > 0) pages.push(fetchPage(connection, wanted));
    } while (cursor !== "0");
    const fetched = await Promise.all(pages);
    return decodePages(fetched, { logger, where: connection.where });
  } catch (error) {
    await Promise.allSettled(pages);
    throw connection.failure("loading advertisements failed", error);
  }
}

/** Values (MGET) and TTLs (one script call) of some keys, in one round trip. */
async function fetchPage(connection: RedisConnection, keys: string[]): Promise<FetchedPage> {
  const pipeline = connection.client.pipeline();
  pipeline.mget(keys);
  queueScript(pipeline, PTTL_COMMAND, { keys, args: [] });
  const [values, pttls] = await connection.exec(pipeline, "loading advertisements failed");
  return {
    keys,
    values: Array.isArray(values) ? values : [],
    pttls: Array.isArray(pttls) ? pttls : [],
    at: Date.now(),
  };
}

/** The live advertisements of fetched pages; keys not holding one are skipped. */
function decodePages(
  pages: FetchedPage[],
  report: { logger: Logger; where: string },
): StoredAdvertisement[] {
  const out: StoredAdvertisement[] = [];
  let withoutTtl = 0;
  let undecodable = 0;
  for (const { keys, values, pttls, at } of pages) {
    for (let i = 0; i < keys.length; i++) {
      const value: unknown = values[i];
      const pttl = Number(pttls[i]);
      // Gone since the SCAN (nil, -2), or not a string (MGET gives nil for other types).
      if (typeof value !== "string" || pttl === -2) continue;
      if (pttl < 0) {
        // No TTL (-1): not written by a peer, whose every advertisement has a lease. Left
        // alone rather than loaded with an invented lease that could keep it alive forever.
        withoutTtl++;
        continue;
      }
      const id = parseAdvertisementKey(keys[i] ?? "");
      const advertisement = decodeAdvertisement(value);
      if (!id || !advertisement) {
        undecodable++;
        continue;
      }
      // The key is the contract: it decides which register and peer the entry is about.
      advertisement.registerId = id.registerId;
      if (id.peerId !== undefined) advertisement.peerId = id.peerId;
      else if (advertisement.peerId !== undefined) delete advertisement.peerId;
      out.push({ advertisement, expiresAt: at + pttl });
    }
  }
  if (withoutTtl > 0 || undecodable > 0) {
    report.logger.warn(
      "Skipped {withoutTtl} advertisement keys without a TTL and {undecodable} undecodable values in Redis at {where}",
      { withoutTtl, undecodable, where: report.where },
    );
  }
  return out;
}
