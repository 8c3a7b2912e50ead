/**
 * Running work against an embedded SQLite database (`node:sqlite`, whose
 * calls are synchronous) the way every SQLite store does: writes in one
 * `BEGIN IMMEDIATE` transaction, a store's operation as a promise whose
 * failure the store turns into its own error, and that error when SQLite
 * is unavailable.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { AppError, errorMessage } from "./errors.ts";

/**
 * Runs `work` in one `BEGIN IMMEDIATE` transaction of `db`: committed when
 * it returns, rolled back (and the error thrown again) when it throws.
 */
export function inWriteTransaction<T>(db: DatabaseSync, work: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = work();
    db.exec("COMMIT");
    return result;
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
}

/** What failed, with its cause's message when there is one: `what` or `what: message`. */
export function failureReason(what: string, cause?: unknown): string {
  return cause === undefined ? what : `${what}: ${errorMessage(cause)}`;
}

/**
 * The `unavailable` error of the SQLite database at `path` when `what`
 * failed with `cause`; an {@link AppError} cause is returned as it is.
 */
export function sqliteUnavailable(path: string, what: string, cause?: unknown): AppError {
  if (cause instanceof AppError) return cause;
  return new AppError("unavailable", `SQLite at ${path}: ${failureReason(what, cause)}`, { cause });
}

/**
 * Runs the synchronous `work` as a promise of its result. When it throws, the
 * promise is rejected with `fail(error)`. When `closedError` is given (the
 * store is closed), `work` does not run and the promise is rejected with
 * `fail(closedError)`.
 */
export function runSqliteWork<T>(
  work: () => T,
  fail: (cause: unknown) => Error,
  closedError?: unknown,
): Promise<T> {
  try {
    if (closedError !== undefined) throw closedError;
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(fail(error));
  }
}
