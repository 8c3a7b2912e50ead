import assert from "node:assert/strict";
import {
  AppError,
  ERROR_CODES,
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
