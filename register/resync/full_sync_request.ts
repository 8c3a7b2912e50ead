/**
 * What a full sync sends the peer: one `fullSync` bulk request when the set
 * fits in one (at most 100,000 registers, the peer's limit), otherwise parts
 * of {@link PART_SIZE} registers sharing a new `syncId`, numbered from 0, the
 * last with `lastPart: true`, sent one after the other. The peer applies
 * nothing before the last part, and then the union as one full sync.
 *
 * Bodies are built the same way every time (sorted by id, fields in a fixed
 * order), so an unchanged set of one request is the same bytes, which the
 * peer recognises without parsing them.
 *
 * @module
 */
import type { CallOptions, PeerClient } from "../../shared/client/mod.ts";
import {
  type BulkAdvertiseResponse,
  MAX_BULK_ITEMS,
} from "../../shared/contracts/advertisements.ts";
import type { AdvertisedRegister } from "../store/mod.ts";

/**
 * Registers per part of a sync in parts: half the peer's limit of 100,000 items, about 6.5 MB
 * of JSON, well under its 16 MiB body limit.
 */
export const PART_SIZE = 50_000;

/**
 * Extra time the last part of a sync in parts may take, per register of the whole sync, in ms:
 * the peer applies the whole sync then (about 10 s for a million registers on Redis).
 */
export const LAST_PART_MS_PER_REGISTER = 0.05;

/** What a full sync sends of a register. */
export type SyncedRegister = Pick<
  AdvertisedRegister,
  "id" | "isPublic" | "latestVersion" | "latestDocketVersion"
>;

/** Options of {@link sendFullSync}. */
export interface SendFullSyncOptions extends CallOptions {
  /**
   * Most registers of any request, for tests: a larger set goes in parts of this size
   * (default: one request up to {@link MAX_BULK_ITEMS}, parts of {@link PART_SIZE} beyond).
   */
  partSize?: number | undefined;
}

/** The items of some registers, as JSON text: `"advertisements":[…]`. */
function itemsJson(registers: readonly SyncedRegister[]): string {
  return `"advertisements":${
    JSON.stringify(registers.map((r) => ({
      registerId: r.id,
      isPublic: r.isPublic,
      latestVersion: r.latestVersion,
      latestDocketVersion: r.latestDocketVersion,
    })))
  }`;
}

/**
 * The JSON body of a full sync in one request. Registers come sorted by id and the fields in
 * a fixed order, so an unchanged set gives the same bytes every time.
 */
export function fullSyncBody(registers: readonly SyncedRegister[]): string {
  return `{${itemsJson(registers)},"fullSync":true}`;
}

/**
 * The JSON body of part `part` of the full sync `syncId`. It leaves `fullSync` out: a peer that
 * knows parts does not look at it on a part, and one older than parts (which ignored fields it
 * did not know) only adds the items, never removing what the other parts hold.
 */
export function fullSyncPartBody(
  registers: readonly SyncedRegister[],
  part: { syncId: string; part: number; lastPart: boolean },
): string {
  return `{${itemsJson(registers)},"syncId":${
    JSON.stringify(part.syncId)
  },"part":${part.part},"lastPart":${part.lastPart}}`;
}

/**
 * Sends a full sync of `registers` (sorted by id) to the peer: one request, or parts of
 * `partSize` under a new sync id, one after the other (the first failure ends it; the last
 * part's timeout grows by {@link LAST_PART_MS_PER_REGISTER} per register). Returns the peer's
 * counts of the whole sync: the answer to the only request, or to the last part.
 */
export async function sendFullSync(
  peer: PeerClient,
  registers: readonly SyncedRegister[],
  options: SendFullSyncOptions = {},
): Promise<BulkAdvertiseResponse> {
  const { partSize, ...call } = options;
  // Up to the peer's limit, one request: an unchanged set is then the same bytes (see above).
  if (registers.length <= (partSize ?? MAX_BULK_ITEMS)) {
    return await peer.bulkAdvertise(fullSyncBody(registers), call);
  }
  const size = partSize ?? PART_SIZE;
  const syncId = crypto.randomUUID().replaceAll("-", "");
  const parts = Math.ceil(registers.length / size);
  let answer: BulkAdvertiseResponse | undefined;
  for (let part = 0; part < parts; part++) {
    const slice = registers.slice(part * size, (part + 1) * size);
    const lastPart = part === parts - 1;
    const timeoutMs = lastPart && call.timeoutMs !== undefined
      ? call.timeoutMs + Math.ceil(registers.length * LAST_PART_MS_PER_REGISTER)
      : call.timeoutMs;
    answer = await peer.bulkAdvertise(
      fullSyncPartBody(slice, { syncId, part, lastPart }),
      { ...call, ...(timeoutMs !== undefined ? { timeoutMs } : {}) },
    );
  }
  return answer!;
}
