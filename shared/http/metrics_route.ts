/**
 * `GET /metrics`: the service's metrics in the Prometheus text format,
 * readable by anyone unless `METRICS_TOKEN` is set, then only with
 * `Authorization: Bearer <METRICS_TOKEN>`.
 *
 * @module
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { PROMETHEUS_CONTENT_TYPE } from "../telemetry/mod.ts";
import { requireToken } from "./auth.ts";

/** What `/metrics` serves. */
export interface MetricsEndpointOptions {
  /** The Prometheus text of every metric (a process's own, and any it gathers from others). */
  render: () => Promise<string>;
  /** When set, the bearer token `/metrics` needs (`METRICS_TOKEN`). */
  token?: string | undefined;
}

/** Adds `GET /metrics` to `app`. */
export function addMetricsEndpoint(app: OpenAPIHono, options: MetricsEndpointOptions): void {
  app.get("/metrics", requireToken(options.token, "METRICS_TOKEN"), async (c) => {
    const text = await options.render();
    return c.body(text, 200, { "content-type": PROMETHEUS_CONTENT_TYPE });
  });
}
