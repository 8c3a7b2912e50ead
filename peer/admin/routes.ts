/**
 * The admin page's endpoints: the page (`GET /` and `GET /admin`), its
 * files (`GET /admin/assets/{file}`), and three read-only JSON endpoints:
 * `GET /api/admin/registers` (every register with its advertisers and
 * leases), `GET /api/admin/snapshot` (the whole node at once) and
 * `GET /api/admin/events` (server-sent events: a `snapshot` at once and on
 * each change, `problem` when one cannot be made).
 *
 * @module
 */
import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import type { Logger } from "@logtape/logtape";
import { type Clock, systemClock } from "../../shared/clock.ts";
import { AppError } from "../../shared/errors.ts";
import { type HttpApp, json } from "../../shared/http/mod.ts";
import { quoteInput } from "../../shared/quote.ts";
import type { AdvertisementRegistry } from "../advertisements/mod.ts";
import type { Gossiper } from "../gossip/mod.ts";
import type { HubLinkRoutesOptions } from "../hub_link/mod.ts";
import { type Asset, ASSETS, CONTENT_SECURITY_POLICY, PAGE } from "./assets.ts";
import { AdminEvents } from "./events.ts";
import { AdminRegistersView } from "./registers_view.ts";
import { AdminRegistersSchema, AdminSnapshotSchema } from "./schemas.ts";
import { adminSnapshot, snapshotFingerprint } from "./snapshot.ts";

/** Options of {@link addAdminRoutes}. */
export interface AdminRoutesOptions {
  /** The advertisements. */
  registry: AdvertisementRegistry;
  /** Gossip, when the peer gossips. */
  gossiper?: Gossiper | undefined;
  /** The hub link and the replica, when the app serves them. */
  hubLink?: HubLinkRoutesOptions | undefined;
  /** Whether API_TOKEN is set (the page then asks for it before a change). */
  tokenRequired: boolean;
  /** The service's version. */
  version: string;
  /** Time (default: the system clock). */
  clock?: Clock;
  /** Where failures are logged. */
  logger?: Logger | undefined;
  /** Time between checks for changes, in ms (default 250). */
  intervalMs?: number;
  /** Aborted when the service begins to stop: every open events stream ends. */
  stopping?: AbortSignal | undefined;
}

const tags = ["Admin page"];

const registers = createRoute({
  method: "get",
  path: "/api/admin/registers",
  tags,
  summary: "Every register known here, with the peers advertising it and their leases",
  responses: { 200: json(AdminRegistersSchema, "The registers, sorted by id.") },
});

const snapshot = createRoute({
  method: "get",
  path: "/api/admin/snapshot",
  tags,
  summary:
    "The admin page's view of this node: registers, peers, hub link, replica, reconciliation",
  responses: { 200: json(AdminSnapshotSchema, "The node now.") },
});

const events = createRoute({
  method: "get",
  path: "/api/admin/events",
  tags,
  summary: "Server-sent events: a `snapshot` (as /api/admin/snapshot) at once and on each change",
  description:
    "A `snapshot` event within a second of any change, and at least every 5 s; `problem` (text) when the node's state cannot be read. The stream ends when the service stops.",
  responses: {
    200: {
      description: "An event stream.",
      content: { "text/event-stream": { schema: { type: "string" } } },
    },
  },
});

/** An asset's answer: cached by the browser only after asking whether it changed. */
function serve(c: Context, asset: Asset): Response {
  return c.body(asset.body, 200, {
    "content-type": asset.contentType,
    "cache-control": "no-cache",
    "x-content-type-options": "nosniff",
  });
}

/**
 * Adds the admin page and its endpoints to `app`; returns the events'
 * watcher (its `close()` ends every open stream).
 */
export function addAdminRoutes(app: HttpApp, options: AdminRoutesOptions): AdminEvents {
  const clock = options.clock ?? systemClock;
  const registersView = new AdminRegistersView(options.registry, options.gossiper);
  const makeSnapshot = () => adminSnapshot({ ...options, clock, registersView });
  const watcher = new AdminEvents({
    snapshot: makeSnapshot,
    fingerprint: snapshotFingerprint,
    logger: options.logger,
    ...(options.intervalMs ? { intervalMs: options.intervalMs } : {}),
    stopping: options.stopping,
  });

  const page = (c: Context) => {
    c.header("content-security-policy", CONTENT_SECURITY_POLICY);
    c.header("referrer-policy", "no-referrer");
    return serve(c, PAGE);
  };
  app.get("/", page);
  app.get("/admin", page);
  app.get("/admin/", page);
  app.get("/admin/assets/:file", (c) => {
    const file = c.req.param("file");
    const asset = ASSETS.get(file);
    if (!asset) throw new AppError("not_found", `The admin page has no file ${quoteInput(file)}`);
    return serve(c, asset);
  });

  app.openapi(registers, async (c) => {
    await options.registry.start();
    const now = clock.now();
    return c.json({ ...registersView.at(now), generatedAt: new Date(now).toISOString() }, 200);
  });

  app.openapi(snapshot, async (c) => {
    await options.registry.start();
    return c.json(await makeSnapshot(), 200);
  });

  app.openAPIRegistry.registerPath(events);
  app.get(events.path, (c) =>
    streamSSE(c, async (stream) => {
      await stream.writeSSE({ event: "hello", data: "", retry: 1000 });
      const subscription = watcher.subscribe((event) => stream.writeSSE(event));
      stream.onAbort(() => subscription.close());
      await subscription.closed;
    }));

  return watcher;
}
