/**
 * Planning a write of the Redis advertisement store, without Redis: a batch
 * reduced to at most one operation per key (set, refresh the expiry only,
 * delete), with the same outcome as applying its puts in order and then its
 * removals, the argument lists and groupings the store's scripts take, and
 * what their replies say is missing.
 *
 * @module
 */
import {
  type Advertisement,
  advertisementKey,
  encodeAdvertisement,
  type StoreBatch,
} from "./types.ts";

/** One key to refresh, with what to write if it turns out to be missing. */
export interface RefreshPlan {
  key: string;
  advertisement: Advertisement;
  expiresAt: number;
}

/** One key to write (its value is encoded when sent, not held encoded for the whole batch). */
export interface SetPlan {
  key: string;
  advertisement: Advertisement;
  expiresAt: number;
}

/** A batch reduced to at most one operation per key. */
export interface BatchPlan {
  sets: SetPlan[];
  refreshes: RefreshPlan[];
  deletes: string[];
  /** Refreshes known to restore an entry the same batch deleted. */
  restored: number;
}

/**
 * Reduces a batch to at most one operation per key, with the same outcome as applying its
 * puts in order and then its removals (the in-memory store's semantics).
 */
export function planBatch(batch: StoreBatch, now: number): BatchPlan {
  type Op =
    | { kind: "set"; advertisement: Advertisement; expiresAt: number }
    | { kind: "refresh"; advertisement: Advertisement; expiresAt: number }
    | { kind: "delete" };
  const ops = new Map<string, Op>();
  let restored = 0;
  for (const item of batch.put) {
    const key = advertisementKey(item.advertisement);
    const previous = ops.get(key);
    if (item.expiresAt <= now) {
      ops.set(key, { kind: "delete" });
    } else if (item.valueChanged) {
      ops.set(key, { kind: "set", advertisement: item.advertisement, expiresAt: item.expiresAt });
    } else if (previous === undefined) {
      ops.set(key, {
        kind: "refresh",
        advertisement: item.advertisement,
        expiresAt: item.expiresAt,
      });
    } else if (previous.kind === "delete") {
      // Deleted earlier in this batch: written again, as a restore.
      restored++;
      ops.set(key, { kind: "set", advertisement: item.advertisement, expiresAt: item.expiresAt });
    } else {
      ops.set(key, { ...previous, expiresAt: item.expiresAt });
    }
  }
  for (const key of batch.remove) ops.set(advertisementKey(key), { kind: "delete" });
  const plan: BatchPlan = { sets: [], refreshes: [], deletes: [], restored };
  for (const [key, op] of ops) {
    if (op.kind === "delete") plan.deletes.push(key);
    else if (op.kind === "set") {
      plan.sets.push({ key, advertisement: op.advertisement, expiresAt: op.expiresAt });
    } else plan.refreshes.push({ key, advertisement: op.advertisement, expiresAt: op.expiresAt });
  }
  return plan;
}

/** The TTL (ms, at least 1) of a lease ending at `expiresAt`. */
export function ttlOf(expiresAt: number, now: number): number {
  return Math.max(1, Math.ceil(expiresAt - now));
}

/** The arguments of the put script for `entries`: the mode, then each value and its TTL. */
export function putArgs(
  entries: readonly SetPlan[],
  mode: "" | "NX",
  now: number,
): (string | number)[] {
  const args: (string | number)[] = [mode];
  for (const entry of entries) {
    args.push(encodeAdvertisement(entry.advertisement), ttlOf(entry.expiresAt, now));
  }
  return args;
}

/** Refreshes grouped by lease end, in order of first appearance. */
export function groupByExpiry(refreshes: RefreshPlan[]): RefreshPlan[][] {
  const groups = new Map<number, RefreshPlan[]>();
  for (const refresh of refreshes) {
    const group = groups.get(refresh.expiresAt);
    if (group) group.push(refresh);
    else groups.set(refresh.expiresAt, [refresh]);
  }
  return [...groups.values()];
}

/**
 * The refreshes the refresh script found missing, from its replies: one per chunk, the 1-based
 * positions in that chunk of the keys that did not exist.
 */
export function missingRefreshes(
  chunks: readonly (readonly RefreshPlan[])[],
  replies: readonly unknown[],
): RefreshPlan[] {
  const missing: RefreshPlan[] = [];
  chunks.forEach((chunk, i) => {
    const positions = replies[i];
    if (!Array.isArray(positions)) return;
    for (const position of positions) {
      const entry = chunk[Number(position) - 1];
      if (entry) missing.push(entry);
    }
  });
  return missing;
}

/** `items` in slices of `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
