/**
 * The second step of a MongoDB publication: making a stored version its
 * blueprint's active entry, retrying against other hubs doing the same
 * (the partial unique index on active `blueprintId`s serializes them), and
 * the duplicate-key test and random pause that the retries of both steps
 * share. See `mongo_store.ts` for the whole publication.
 *
 * @module
 */
import { type Collection, MongoServerError } from "mongodb";
import { AppError } from "../../shared/errors.ts";
import { type BlueprintDocument, toEntry } from "./mongo_documents.ts";
import type { BlueprintEntry } from "./types.ts";

/** MongoDB's error code of a duplicate key. */
const DUPLICATE_KEY = 11000;

/** What activation works on. */
export interface ActivationOptions {
  /** The entries' collection. */
  collection: Collection<BlueprintDocument>;
  /** Tries before giving up (at least 1). */
  attempts: number;
}

/**
 * Makes `version` the blueprint's active entry: retires its active versions below
 * `version`, then activates `version`. When the partial unique index refuses (another
 * version got active in between), a higher active version wins (`active: false`), a lower
 * one is retired and activation retried. Idempotent: any hub may run it for any entry, so
 * the highest version of a blueprint always ends active. `replaced`: this call retired one.
 */
export async function activateVersion(
  blueprintId: string,
  version: number,
  options: ActivationOptions,
): Promise<{ active: boolean; replaced: boolean }> {
  const { collection, attempts } = options;
  let replaced = false;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const retired = await collection.updateMany(
      { blueprintId, isActive: true, version: { $lt: version } },
      { $set: { isActive: false } },
    );
    if (retired.modifiedCount > 0) replaced = true;
    try {
      // Matching nothing means it is active already (another hub finished it).
      await collection.updateOne(
        { version, blueprintId, isActive: false },
        { $set: { isActive: true } },
      );
      return { active: true, replaced };
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
    const active = await collection.findOne<{ version: number }>(
      { blueprintId, isActive: true },
      { projection: { _id: 0, version: 1 } },
    );
    if (active && active.version > version) return { active: false, replaced };
    await pause(attempt);
  }
  throw new AppError(
    "unavailable",
    `System register store (MongoDB) failed: version ${version} of ${blueprintId} could not be ` +
      `activated after ${attempts} attempts; the next open activates it`,
  );
}

/** `document` as an entry, activated first when it is a blueprint's inactive highest version. */
export async function settleEntry(
  document: BlueprintDocument,
  options: ActivationOptions,
): Promise<BlueprintEntry> {
  const entry = toEntry(document);
  if (entry.isActive) return entry;
  const { active } = await activateVersion(entry.blueprintId, entry.version, options);
  return { ...entry, isActive: active };
}

/** Whether `error` is MongoDB's duplicate-key error. */
export function isDuplicateKey(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === DUPLICATE_KEY;
}

/** A short random wait before retry `attempt`, so competing hubs spread out. */
export function pause(attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(50, 2 * attempt);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
