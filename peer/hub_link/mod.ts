/**
 * The peer's link to the hubs: connection, heartbeats, failover, fail-back,
 * isolated mode and the replica of the system register (`link.ts`), run in
 * a supervised process of its own (`link_process.ts`, `child.ts`), and its
 * HTTP endpoints (`routes.ts`). See specs/hub-link/README.md.
 *
 * @module
 */
export * from "./child.ts";
export * from "./hub_address.ts";
export * from "./hub_client.ts";
export * from "./link.ts";
export * from "./link_process.ts";
export * from "./routes.ts";
export * from "./status.ts";
export { hubViews } from "./http_views.ts";
export type {
  CheckpointSchema,
  ConnectionStatusSchema,
  ReplicaEntrySchema,
  ReplicaListSchema,
} from "./http_schemas.ts";
