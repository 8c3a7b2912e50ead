/**
 * The reconciliation endpoints: its state, and running one now.
 *
 * @module
 */
import { createRoute } from "@hono/zod-openapi";
import { ErrorResponseSchema } from "../../shared/contracts/advertisements.ts";
import { ResyncStatusSchema } from "../../shared/contracts/registers.ts";
import { AppError, toAppError } from "../../shared/errors.ts";
import { changeErrors, type HttpApp, json } from "../../shared/http/mod.ts";
import type { PeerSync } from "./peer_sync.ts";

const status = createRoute({
  method: "get",
  path: "/api/resync/status",
  tags: ["Reconciliation"],
  summary: "The last full sync with the peer (when, outcome, counts, error) and the next one",
  responses: { 200: json(ResyncStatusSchema, "Reconciliation state.") },
});

const run = createRoute({
  method: "post",
  path: "/api/resync",
  tags: ["Reconciliation"],
  summary: "Run a full sync with the peer now and answer once it is done",
  security: [{ bearer: [] }],
  responses: {
    200: json(ResyncStatusSchema, "The sync succeeded; `lastResult` holds the peer's counts."),
    401: changeErrors[401],
    403: changeErrors[403],
    503: json(
      ErrorResponseSchema,
      "The peer could not be reached or refused the sync; retries with backoff follow.",
    ),
    504: json(ErrorResponseSchema, "The peer did not answer in time; retries follow."),
  },
});

/** Adds the reconciliation endpoints to an app. */
export function addResyncRoutes(app: HttpApp, sync: PeerSync): void {
  app.openapi(status, (c) => c.json(sync.status(), 200));
  app.openapi(run, async (c) => {
    try {
      await sync.syncNow();
    } catch (error) {
      throw asPeerFailure(error);
    }
    return c.json(sync.status(), 200);
  });
}

/**
 * A failed sync as this endpoint answers it: 504 when the peer did not answer
 * in time, 503 otherwise. The peer's own error code (such as its 401 or 403
 * for a wrong PEER_API_TOKEN) goes in the details, never in the status, which
 * would tell the caller that the register refused them.
 */
function asPeerFailure(error: unknown): AppError {
  const appError = toAppError(error, "unavailable");
  if (appError.code === "unavailable" || appError.code === "deadline_exceeded") return appError;
  return new AppError("unavailable", appError.message, {
    cause: appError,
    details: { ...appError.details, peerCode: appError.code },
  });
}
