/**
 * Checking the options of `ReplicaStore.list`, the same way in every store.
 *
 * @module
 */
import { AppError } from "../../shared/errors.ts";
import type { ReplicaListOptions } from "./types.ts";

/**
 * The options as given, or an `invalid_argument` {@link AppError} unless `afterVersion` is a
 * finite number from 0 and `limit` a whole number from 0 (0: an empty page).
 */
export function checkListOptions(options: ReplicaListOptions): ReplicaListOptions {
  const { afterVersion, limit } = options;
  if (typeof afterVersion !== "number" || !Number.isFinite(afterVersion) || afterVersion < 0) {
    throw new AppError(
      "invalid_argument",
      `listing the replica: afterVersion ${afterVersion} is not a number from 0`,
    );
  }
  if (typeof limit !== "number" || !Number.isSafeInteger(limit) || limit < 0) {
    throw new AppError(
      "invalid_argument",
      `listing the replica: limit ${limit} is not a whole number from 0`,
    );
  }
  return { afterVersion, limit };
}
