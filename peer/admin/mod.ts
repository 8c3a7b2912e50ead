/**
 * The peer's "Peer Network" admin page: served at `/` and `/admin` from
 * files in `assets/`, fed by read-only JSON endpoints and a stream of
 * server-sent events (`/api/admin/...`). See specs/admin-page/README.md.
 *
 * @module
 */
export { addAdminRoutes, type AdminRoutesOptions } from "./routes.ts";
export { AdminEvents, type AdminEventsOptions, type AdminSubscription } from "./events.ts";
export type {
  AdminHubLink,
  AdminNode,
  AdminRegister,
  AdminRegisters,
  AdminReplica,
  AdminSnapshot,
  RegisterAdvertiser,
} from "./schemas.ts";
