/**
 * Error details in the standard `grpc-status-details-bin` trailer: a
 * serialized `google.rpc.Status` holding an `ErrorInfo` (and a `Struct` of
 * typed details), read here as a client in another language reads it, with
 * the generated google.rpc schemas only; and our client falling back to the
 * status's own code when the trailer is missing or not ours.
 */
import assert from "node:assert/strict";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { anyPack, anyUnpack, StructSchema } from "@bufbuild/protobuf/wkt";
import { Metadata, type ServiceError } from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.ts";
import { StatusSchema } from "../../gen/google/rpc/status_pb.ts";
import { Heartbeat, HeartbeatMessageSchema } from "../../gen/sorcha/peer/v1/heartbeat_pb.ts";
import { AppError, GRPC_STATUS } from "../../shared/errors.ts";
import {
  createClient,
  ERROR_DOMAIN,
  errorFromStatus,
  GrpcChannel,
  GrpcServer,
  methodPath,
  STATUS_DETAILS_TRAILER,
} from "../../shared/grpc/mod.ts";

const PATH = methodPath(Heartbeat.method.sendHeartbeat);

/** A failing SendHeartbeat through grpc-js's bare client: the error as any client sees it. */
async function rawFailure(port: number): Promise<ServiceError> {
  using channel = new GrpcChannel(`127.0.0.1:${port}`);
  return await new Promise((resolve, reject) => {
    channel.client.makeUnaryRequest(
      PATH,
      (request: Uint8Array) => Buffer.from(request),
      (bytes: Buffer) => bytes,
      toBinary(HeartbeatMessageSchema, create(HeartbeatMessageSchema, { peerId: "p" })),
      new Metadata(),
      {},
      (error) => error ? resolve(error) : reject(new Error("the call succeeded")),
    );
  });
}

function failingServer(error: AppError): GrpcServer {
  return new GrpcServer().add(Heartbeat, {
    sendHeartbeat() {
      throw error;
    },
  });
}

Deno.test("a client reading grpc-status-details-bin from a failing call gets the code, reason and metadata", async () => {
  await using server = failingServer(
    new AppError("resource_exhausted", "too many requests from peer-1: retry in 1.0 s", {
      details: { retryAfterMs: 1000, peerId: "peer-1", exact: true },
    }),
  );
  const failure = await rawFailure(await server.listen());
  assert.equal(failure.code, GRPC_STATUS.resource_exhausted);
  const trailer = failure.metadata.get(STATUS_DETAILS_TRAILER)[0];
  assert.ok(trailer instanceof Uint8Array, "the standard trailer is there, binary");
  assert.deepEqual(failure.metadata.get("sorcha-error-code"), [], "no custom trailer");

  const status = fromBinary(StatusSchema, trailer);
  assert.equal(status.code, GRPC_STATUS.resource_exhausted);
  assert.equal(status.message, "too many requests from peer-1: retry in 1.0 s");
  const info = status.details.map((any) => anyUnpack(any, ErrorInfoSchema)).find(Boolean);
  assert.ok(info, "an ErrorInfo among the details");
  assert.equal(info.reason, "resource_exhausted");
  assert.equal(info.domain, ERROR_DOMAIN);
  assert.deepEqual(info.metadata, { retryAfterMs: "1000", peerId: "peer-1", exact: "true" });
  assert.equal(status.details[0]?.typeUrl, "type.googleapis.com/google.rpc.ErrorInfo");
  const struct = status.details.map((any) => anyUnpack(any, StructSchema)).find(Boolean);
  assert.equal(struct?.fields.retryAfterMs?.kind.value, 1000, "and a Struct with the typed values");
});

Deno.test("our client rebuilds the AppError from the standard trailer, details with their JSON types", async () => {
  const details = { lastVersionSent: 5, blueprintId: "bp-a", nested: { ok: true }, list: [1, "x"] };
  await using server = failingServer(
    new AppError("payload_too_large", "the blueprint is too large", { details }),
  );
  using channel = new GrpcChannel(`127.0.0.1:${await server.listen()}`);
  await assert.rejects(createClient(Heartbeat, channel).sendHeartbeat({ peerId: "p" }), (error) => {
    assert.ok(error instanceof AppError);
    // payload_too_large shares RESOURCE_EXHAUSTED with resource_exhausted: the reason tells them apart.
    assert.equal(error.code, "payload_too_large");
    assert.equal(error.message, "the blueprint is too large");
    assert.deepEqual(error.details, details);
    return true;
  });
});

Deno.test("an error without details sends an ErrorInfo alone, and arrives without details", async () => {
  await using server = failingServer(new AppError("not_found", "no such session"));
  const failure = await rawFailure(await server.listen());
  const status = fromBinary(
    StatusSchema,
    failure.metadata.get(STATUS_DETAILS_TRAILER)[0] as Buffer,
  );
  assert.equal(status.details.length, 1);
  assert.deepEqual(anyUnpack(status.details[0]!, ErrorInfoSchema)?.metadata, {});
  const error = errorFromStatus(failure, PATH);
  assert.equal(error.code, "not_found");
  assert.equal(error.details, undefined);
});

/** A failed call's status as grpc-js reports it, with `info` in a Status trailer when given. */
function failure(
  code: number,
  info?: { reason: string; domain: string; metadata?: Record<string, string> },
) {
  const metadata = new Metadata();
  if (info) {
    const trailer = toBinary(
      StatusSchema,
      create(StatusSchema, {
        code,
        message: "it failed",
        details: [anyPack(ErrorInfoSchema, create(ErrorInfoSchema, info))],
      }),
    );
    metadata.set(STATUS_DETAILS_TRAILER, Buffer.from(trailer));
  }
  return { code, details: "it failed", metadata };
}

Deno.test("an ErrorInfo of another domain, or a trailer that is not a Status, leaves the status's own code", () => {
  const notAStatus = failure(8);
  notAStatus.metadata.set(STATUS_DETAILS_TRAILER, Buffer.of(0xff, 0xff, 0xff));
  const failures = [
    failure(8, { reason: "payload_too_large", domain: "example.com" }),
    notAStatus,
    failure(8),
  ];
  for (const failed of failures) {
    const error = errorFromStatus(failed, PATH);
    assert.equal(error.code, "resource_exhausted");
    assert.equal(error.message, `${PATH}: it failed (RESOURCE_EXHAUSTED)`);
  }
});

Deno.test("string details sent by another implementation arrive as strings when no Struct comes with them", () => {
  const failed = failure(9, {
    reason: "failed_precondition",
    domain: ERROR_DOMAIN,
    metadata: { currentVersion: "2" },
  });
  const error = errorFromStatus(failed, PATH);
  assert.equal(error.code, "failed_precondition");
  assert.equal(error.message, "it failed");
  assert.deepEqual(error.details, { currentVersion: "2" });
});
