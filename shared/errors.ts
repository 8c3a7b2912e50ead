/**
 * The project's one error type. Every failure that crosses a boundary (HTTP,
 * gRPC, a client call) is an {@link AppError} with a code from a closed set;
 * each code maps once to an HTTP status and a gRPC status.
 *
 * @module
 */

/** The closed set of error codes, named after the gRPC status they map to. */
export const ERROR_CODES = [
  "invalid_argument",
  "unauthenticated",
  "permission_denied",
  "not_found",
  "already_exists",
  "failed_precondition",
  "resource_exhausted",
  "payload_too_large",
  "unsupported_media_type",
  "unavailable",
  "deadline_exceeded",
  "internal",
  "unimplemented",
  "method_not_allowed",
] as const;

/** One of {@link ERROR_CODES}. */
export type ErrorCode = typeof ERROR_CODES[number];

/** HTTP status for each error code. */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  invalid_argument: 400,
  unauthenticated: 401,
  permission_denied: 403,
  not_found: 404,
  method_not_allowed: 405,
  already_exists: 409,
  failed_precondition: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  resource_exhausted: 429,
  internal: 500,
  unimplemented: 501,
  unavailable: 503,
  deadline_exceeded: 504,
};

/** gRPC status code (numeric, as in `@grpc/grpc-js` `status`) for each error code. */
export const GRPC_STATUS: Readonly<Record<ErrorCode, number>> = {
  invalid_argument: 3,
  deadline_exceeded: 4,
  not_found: 5,
  already_exists: 6,
  permission_denied: 7,
  resource_exhausted: 8,
  failed_precondition: 9,
  payload_too_large: 8,
  unsupported_media_type: 3,
  unimplemented: 12,
  method_not_allowed: 12,
  internal: 13,
  unavailable: 14,
  unauthenticated: 16,
};

/** Options of {@link AppError}. */
export interface AppErrorOptions {
  /** The underlying error, kept for logs. */
  cause?: unknown;
  /** Extra machine-readable facts, sent to clients as `error.details`. */
  details?: Record<string, unknown>;
}

/** An error with a code from {@link ERROR_CODES} and a message saying what failed and why. */
export class AppError extends Error {
  /** The error's code. */
  readonly code: ErrorCode;
  /** Extra machine-readable facts. */
  readonly details: Record<string, unknown> | undefined;

  /** Creates an error with a code and a message that says what failed and why. */
  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AppError";
    this.code = code;
    this.details = options.details;
  }

  /** The HTTP status this error maps to. */
  get httpStatus(): number {
    return HTTP_STATUS[this.code];
  }

  /** The gRPC status this error maps to. */
  get grpcStatus(): number {
    return GRPC_STATUS[this.code];
  }

  /** The JSON body sent to HTTP clients: `{"error": {"code", "message"}}`. */
  toJSON(): { error: { code: ErrorCode; message: string; details?: Record<string, unknown> } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details ? { details: this.details } : {}),
      },
    };
  }
}

/** Whether a value is one of {@link ERROR_CODES}. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && (ERROR_CODES as readonly string[]).includes(value);
}

/** The error code that fits an HTTP status (for clients reading an answer without a JSON error). */
export function codeForHttpStatus(status: number): ErrorCode {
  const exact = (Object.entries(HTTP_STATUS) as [ErrorCode, number][]).find(([, s]) =>
    s === status
  );
  if (exact) return exact[0];
  if (status >= 500) return "unavailable";
  return "invalid_argument";
}

/**
 * gRPC status codes with no error code of their own, and the code that fits
 * each: CANCELLED (1) and ABORTED (10) mean the call did not complete and may
 * be retried; UNKNOWN (2) and DATA_LOSS (15) are server failures;
 * OUT_OF_RANGE (11) is a request the server cannot serve.
 */
const GRPC_STATUS_FALLBACK: Readonly<Record<number, ErrorCode>> = {
  1: "unavailable",
  2: "internal",
  10: "unavailable",
  11: "invalid_argument",
  15: "internal",
};

/**
 * The error code for a non-OK gRPC status (numeric, as in `@grpc/grpc-js`
 * `status`). Where several codes share a status, the first of
 * {@link ERROR_CODES} wins (3 is `invalid_argument`, 8 is
 * `resource_exhausted`); a status without a code of its own gets the nearest
 * one (see the source), and an unknown number is `internal`.
 */
export function codeForGrpcStatus(status: number): ErrorCode {
  const exact = ERROR_CODES.find((code) => GRPC_STATUS[code] === status);
  return exact ?? GRPC_STATUS_FALLBACK[status] ?? "internal";
}

/**
 * What a thrown value says, for a message or a log line: an `Error`'s
 * `message` (without its name or stack), anything else as `String()` does.
 */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Wraps any thrown value as an {@link AppError}, keeping one that already is. */
export function toAppError(error: unknown, fallback: ErrorCode = "internal"): AppError {
  if (error instanceof AppError) return error;
  return new AppError(fallback, errorMessage(error), { cause: error });
}
