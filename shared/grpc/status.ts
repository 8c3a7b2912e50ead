/**
 * How errors cross a gRPC call. A server ends a failed call with the gRPC
 * status of its {@link AppError}'s code (`GRPC_STATUS`) and the error's
 * message; the code itself and any details travel in trailers, so the client
 * rebuilds the same {@link AppError} even where several codes share a status.
 * A status without those trailers (from grpc-js itself, such as a deadline,
 * or from another implementation) becomes the code that fits it.
 *
 * @module
 */
import { Metadata, status as Status, type StatusObject } from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import { AppError, codeForGrpcStatus, isErrorCode, toAppError } from "../errors.ts";

/** Trailer carrying the {@link AppError}'s code. */
export const ERROR_CODE_TRAILER = "sorcha-error-code";
/** Binary trailer carrying the {@link AppError}'s details as UTF-8 JSON. */
export const ERROR_DETAILS_TRAILER = "sorcha-error-details-bin";

/** The name of a gRPC status code (`DEADLINE_EXCEEDED`), or its number. */
export function statusName(code: number): string {
  return Status[code] ?? String(code);
}

function encodeDetails(details: Record<string, unknown>): Buffer | undefined {
  try {
    return Buffer.from(JSON.stringify(details), "utf8");
  } catch {
    return undefined; // not JSON-serializable (a bigint, a cycle): sent without details
  }
}

function decodeDetails(metadata: Metadata): Record<string, unknown> | undefined {
  const value = metadata.get(ERROR_DETAILS_TRAILER)[0];
  if (!(value instanceof Uint8Array)) return undefined;
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(value));
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? parsed as Record<string, unknown>
      : undefined;
  } catch {
    return undefined;
  }
}

/** The status a server ends a call with for `error` (any thrown value becomes `internal`). */
export function statusForError(error: unknown): StatusObject {
  const appError = toAppError(error);
  const metadata = new Metadata();
  metadata.set(ERROR_CODE_TRAILER, appError.code);
  const details = appError.details ? encodeDetails(appError.details) : undefined;
  if (details) metadata.set(ERROR_DETAILS_TRAILER, details);
  return { code: appError.grpcStatus, details: appError.message, metadata };
}

/** The failure of a call as grpc-js reports it to a client. */
export interface CallFailure {
  /** gRPC status code. */
  code: number;
  /** The status message. */
  details: string;
  /** Trailers. */
  metadata: Metadata;
}

function isCallFailure(value: unknown): value is CallFailure {
  return typeof value === "object" && value !== null &&
    typeof (value as { code?: unknown }).code === "number" &&
    (value as { metadata?: unknown }).metadata instanceof Metadata;
}

/**
 * The {@link AppError} for a failed call of `path`. A status sent by a server
 * of this project keeps its code and message; any other names the method:
 * `/pkg.Service/Method: Deadline exceeded after 0.05s (DEADLINE_EXCEEDED)`.
 */
export function errorFromStatus(failure: unknown, path: string): AppError {
  if (failure instanceof AppError) return failure;
  if (!isCallFailure(failure)) {
    return toAppError(failure, "unavailable");
  }
  const sent = metadataCode(failure.metadata);
  if (sent) {
    const details = decodeDetails(failure.metadata);
    return new AppError(sent, failure.details, {
      cause: failure,
      ...(details ? { details } : {}),
    });
  }
  const message = failure.details || "no message";
  return new AppError(
    codeForGrpcStatus(failure.code),
    `${path}: ${message} (${statusName(failure.code)})`,
    { cause: failure },
  );
}

function metadataCode(metadata: Metadata): AppError["code"] | undefined {
  const value = metadata.get(ERROR_CODE_TRAILER)[0];
  return isErrorCode(value) ? value : undefined;
}
