/**
 * How errors cross a gRPC call. A server ends a failed call with the gRPC
 * status of its {@link AppError}'s code (`GRPC_STATUS`) and the error's
 * message, and with the standard rich error model in the
 * `grpc-status-details-bin` trailer: a serialized `google.rpc.Status`
 * (`code`, `message`) whose `details` hold a `google.rpc.ErrorInfo` (domain
 * {@link ERROR_DOMAIN}, `reason` the error's code, `metadata` its details as
 * strings) and, when the error has details, a `google.protobuf.Struct` of
 * them with their JSON types. Clients in any language read it with their
 * status-details helpers (grpcio's `rpc_status.from_call`, grpc-go's
 * `status.FromError(err).Details()`); ours rebuilds the same
 * {@link AppError}, even where several codes share a status. A status
 * without that trailer (from grpc-js itself, such as a deadline, or from
 * another implementation) becomes the code that fits it.
 *
 * @module
 */
import {
  create,
  fromBinary,
  fromJson,
  type JsonObject,
  toBinary,
  toJson,
} from "@bufbuild/protobuf";
import { anyPack, anyUnpack, StructSchema } from "@bufbuild/protobuf/wkt";
import { Metadata, status as Status, type StatusObject } from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.ts";
import { StatusSchema } from "../../gen/google/rpc/status_pb.ts";
import { AppError, codeForGrpcStatus, type ErrorCode, isErrorCode, toAppError } from "../errors.ts";

/** The standard binary trailer carrying a serialized `google.rpc.Status`. */
export const STATUS_DETAILS_TRAILER = "grpc-status-details-bin";
/** The `ErrorInfo.domain` of this project's errors, whose `reason` is an {@link ErrorCode}. */
export const ERROR_DOMAIN = "sorcha";

/** The name of a gRPC status code (`DEADLINE_EXCEEDED`), or its number. */
export function statusName(code: number): string {
  return Status[code] ?? String(code);
}

/** `details` as a JSON object, or undefined when they are not JSON (a bigint, a cycle). */
function jsonDetails(details: Record<string, unknown>): JsonObject | undefined {
  try {
    return JSON.parse(JSON.stringify(details)) as JsonObject;
  } catch {
    return undefined; // sent without details
  }
}

/** Each detail as a string, as `ErrorInfo.metadata` holds them: strings as they are, the rest as JSON. */
function detailStrings(details: JsonObject): Record<string, string> {
  return Object.fromEntries(
    Object.entries(details).map((
      [key, value],
    ) => [key, typeof value === "string" ? value : JSON.stringify(value)]),
  );
}

/** The serialized `google.rpc.Status` of `error` (see the module). */
export function statusDetails(error: AppError): Uint8Array {
  const details = error.details ? jsonDetails(error.details) : undefined;
  const info = create(ErrorInfoSchema, {
    reason: error.code,
    domain: ERROR_DOMAIN,
    metadata: details ? detailStrings(details) : {},
  });
  return toBinary(
    StatusSchema,
    create(StatusSchema, {
      code: error.grpcStatus,
      message: error.message,
      details: [
        anyPack(ErrorInfoSchema, info),
        ...(details ? [anyPack(StructSchema, fromJson(StructSchema, details))] : []),
      ],
    }),
  );
}

/** The status a server ends a call with for `error` (any thrown value becomes `internal`). */
export function statusForError(error: unknown): StatusObject {
  const appError = toAppError(error);
  const metadata = new Metadata();
  const bytes = statusDetails(appError);
  metadata.set(STATUS_DETAILS_TRAILER, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
  return { code: appError.grpcStatus, details: appError.message, metadata };
}

/** What a server of this project said of an error: its code and details. */
interface SentError {
  code: ErrorCode;
  details: Record<string, unknown> | undefined;
}

/** The error in `metadata`'s `grpc-status-details-bin`, when it holds one of this project's. */
function sentError(metadata: Metadata): SentError | undefined {
  const value = metadata.get(STATUS_DETAILS_TRAILER)[0];
  if (!(value instanceof Uint8Array)) return undefined;
  let status;
  try {
    status = fromBinary(StatusSchema, value);
  } catch {
    return undefined; // not a google.rpc.Status: as if the trailer were not there
  }
  let code: ErrorCode | undefined;
  let strings: Record<string, string> = {};
  let typed: Record<string, unknown> | undefined;
  for (const detail of status.details) {
    const info = anyUnpack(detail, ErrorInfoSchema);
    if (info?.domain === ERROR_DOMAIN && isErrorCode(info.reason)) {
      code = info.reason;
      strings = info.metadata;
    }
    const struct = anyUnpack(detail, StructSchema);
    if (struct) typed = toJson(StructSchema, struct) as Record<string, unknown>;
  }
  if (code === undefined) return undefined;
  return { code, details: typed ?? (Object.keys(strings).length ? { ...strings } : undefined) };
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
 * of this project keeps its code, message and details; any other names the
 * method: `/pkg.Service/Method: Deadline exceeded after 0.05s (DEADLINE_EXCEEDED)`.
 */
export function errorFromStatus(failure: unknown, path: string): AppError {
  if (failure instanceof AppError) return failure;
  if (!isCallFailure(failure)) {
    return toAppError(failure, "unavailable");
  }
  const sent = sentError(failure.metadata);
  if (sent) {
    return new AppError(sent.code, failure.details, {
      cause: failure,
      ...(sent.details ? { details: sent.details } : {}),
    });
  }
  const message = failure.details || "no message";
  return new AppError(
    codeForGrpcStatus(failure.code),
    `${path}: ${message} (${statusName(failure.code)})`,
    { cause: failure },
  );
}
