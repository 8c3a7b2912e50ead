/**
 * grpc-js's own log lines, sent to the service's logger instead of bare
 * standard-error lines (`E No address added out of total 1 resolved`): they
 * take the service's format (`LOG_FORMAT=json` too) and level. grpc-js writes
 * errors only, unless `GRPC_VERBOSITY` or `GRPC_TRACE` (read by grpc-js)
 * asks for more; those lines are logged at info, as the operator asked for
 * them. A failed bind is reported by `GrpcServer.listen` itself, naming the
 * address and why, so grpc-js's summary of it goes to debug.
 *
 * @module
 */
import { setLogger } from "@grpc/grpc-js";
import type { Logger } from "@logtape/logtape";
import { errorMessage } from "../errors.ts";

/** grpc-js's line for a bind that failed, which `GrpcServer.listen` reports better. */
const BIND_FAILURE = /^No address added out of total \d+ resolved/;

function line(parts: unknown[]): string {
  return parts.map((part) => errorMessage(part)).join(" ");
}

/** Sends grpc-js's log lines to `logger` (for the whole process: call it once, from `main.ts`). */
export function routeGrpcLogs(logger: Logger): void {
  setLogger({
    error: (...parts: unknown[]) => {
      const message = line(parts);
      if (BIND_FAILURE.test(message)) logger.debug("{message}", { message });
      else logger.error("{message}", { message });
    },
    info: (...parts: unknown[]) => logger.info("{message}", { message: line(parts) }),
    debug: (...parts: unknown[]) => logger.info("{message}", { message: line(parts) }),
  });
}
