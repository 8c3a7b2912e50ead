/**
 * Telling a request the peer refused (sending it again unchanged would be
 * refused again) from a failure worth retrying.
 *
 * @module
 */
import { AppError } from "../../shared/errors.ts";

/**
 * 4xx answers that do not say the request itself is wrong: a token missing or wrong (the
 * peer's `API_TOKEN` may be fixed meanwhile), a timeout, the peer busy, and 412, the peer
 * without the earlier parts of a full sync sent in parts (it restarted, or they expired): a new
 * sync starts from part 0.
 */
const RETRIABLE_CLIENT_ERRORS: ReadonlySet<number> = new Set([401, 403, 408, 412, 429]);

/** The HTTP status of a peer's error answer, when the error is one. */
function statusOf(error: AppError): number | undefined {
  const status = error.details?.status;
  return typeof status === "number" ? status : undefined;
}

/**
 * Whether the peer refused the request as invalid: a 4xx answer other than
 * 401, 403, 408, 412 and 429.
 */
export function isRejection(error: AppError): boolean {
  const status = statusOf(error);
  return status !== undefined && status >= 400 && status < 500 &&
    !RETRIABLE_CLIENT_ERRORS.has(status);
}

/** A rejection's error, saying it is not retried and when it is sent again. */
export function asRejection(error: AppError): AppError {
  return new AppError(
    error.code,
    `${error.message} (the peer refused the request: it is not retried, but sent again at the next reconciliation or when a register changes)`,
    { cause: error, ...(error.details ? { details: error.details } : {}) },
  );
}
