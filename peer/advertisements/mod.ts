/**
 * The peer's advertisements: the registry (a facade over the lease table,
 * the local set, full syncs in parts, the remote sets, the read views and
 * persistence) and its HTTP endpoints.
 *
 * @module
 */
export * from "./registry.ts";
export * from "./routes.ts";
