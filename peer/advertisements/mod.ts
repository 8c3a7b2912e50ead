/**
 * The peer's advertisements: registry, store link and HTTP endpoints.
 *
 * @module
 */
export * from "./registry.ts";
export * from "./routes.ts";
export * from "./store_link.ts";
