/**
 * Gossip between peers: signed records, membership, the exchange and its
 * HTTP endpoints.
 *
 * @module
 */
export * from "./gossiper.ts";
export * from "./http_transport.ts";
export * from "./membership.ts";
export * from "./records.ts";
export * from "./routes.ts";
export * from "./signing.ts";
