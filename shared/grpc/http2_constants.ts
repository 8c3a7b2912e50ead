/**
 * HTTP/2 constants grpc-js reads from `node:http2` that Deno 2.9.6 lacks.
 *
 * grpc-js's server answers a request whose content type is not
 * `application/grpc…` with `:status` `http2.constants.HTTP_STATUS_UNSUPPORTED_MEDIA_TYPE`
 * and no `grpc-status`, as the gRPC over HTTP/2 specification says (415, so
 * that no HTTP client takes the answer for a success). Deno's
 * `http2.constants` has ten `HTTP_STATUS_*` names, not that one: the status
 * is undefined and the answer goes out as 200, without a `grpc-status`, which
 * a client in another language (C-core `grpcio`) reads as a broken call.
 * Completing the shared constants object (read at each request) restores
 * the 415; a runtime that has the constant keeps its own.
 *
 * @module
 */
import { constants } from "node:http2";

/** The constants grpc-js's server reads that Deno 2.9.6's `node:http2` lacks, with Node's values. */
const MISSING: Readonly<Record<string, number>> = {
  HTTP_STATUS_UNSUPPORTED_MEDIA_TYPE: 415,
};

/** Adds {@link MISSING} to `node:http2`'s `constants` where absent (idempotent). */
export function completeHttp2Constants(): void {
  const table = constants as unknown as Record<string, number | undefined>;
  for (const [name, value] of Object.entries(MISSING)) {
    if (table[name] === undefined) table[name] = value;
  }
}
