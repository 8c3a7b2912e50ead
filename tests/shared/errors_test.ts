import assert from "node:assert/strict";
import {
  AppError,
  codeForGrpcStatus,
  codeForHttpStatus,
  ERROR_CODES,
  errorMessage,
  GRPC_STATUS,
  HTTP_STATUS,
  toAppError,
} from "../../shared/errors.ts";

Deno.test("every error code maps to one HTTP status and one gRPC status", () => {
  for (const code of ERROR_CODES) {
    assert.ok(HTTP_STATUS[code] >= 400, code);
    assert.ok(GRPC_STATUS[code] > 0 && GRPC_STATUS[code] <= 16, code);
  }
  assert.equal(new AppError("invalid_argument", "x").httpStatus, 400);
  assert.equal(new AppError("invalid_argument", "x").grpcStatus, 3);
  assert.equal(new AppError("unavailable", "x").grpcStatus, 14);
  assert.equal(new AppError("method_not_allowed", "x").httpStatus, 405);
  assert.equal(new AppError("method_not_allowed", "x").grpcStatus, 12);
  assert.equal(codeForHttpStatus(405), "method_not_allowed");
});

Deno.test("an error's JSON body is {error: {code, message}}", () => {
  assert.deepEqual(new AppError("not_found", 'No register "x"').toJSON(), {
    error: { code: "not_found", message: 'No register "x"' },
  });
});

Deno.test("any thrown value becomes an internal AppError keeping its message", () => {
  const error = toAppError(new TypeError("boom"));
  assert.equal(error.code, "internal");
  assert.equal(error.message, "boom");
});

Deno.test("an error's message is its message alone, and any other thrown value its string", () => {
  assert.equal(errorMessage(new TypeError("boom")), "boom");
  assert.equal(errorMessage(new AppError("not_found", 'No register "x"')), 'No register "x"');
  assert.equal(errorMessage("plain text"), "plain text");
  assert.equal(errorMessage(42), "42");
  assert.equal(errorMessage(undefined), "undefined");
  assert.equal(errorMessage(Symbol("odd")), "Symbol(odd)");
});

Deno.test("a gRPC status maps back to the error code that sent it", () => {
  for (const code of ERROR_CODES) {
    const back = codeForGrpcStatus(GRPC_STATUS[code]);
    assert.equal(GRPC_STATUS[back], GRPC_STATUS[code], code);
  }
  assert.equal(codeForGrpcStatus(3), "invalid_argument");
  assert.equal(codeForGrpcStatus(8), "resource_exhausted");
  assert.equal(codeForGrpcStatus(4), "deadline_exceeded");
  assert.equal(codeForGrpcStatus(12), "unimplemented");
  assert.equal(codeForGrpcStatus(16), "unauthenticated");
  assert.equal(codeForGrpcStatus(1), "unavailable");
  assert.equal(codeForGrpcStatus(2), "internal");
  assert.equal(codeForGrpcStatus(11), "invalid_argument");
  assert.equal(codeForGrpcStatus(99), "internal");
});
