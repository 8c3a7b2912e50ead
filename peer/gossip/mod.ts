/**
 * Gossip between peers: signed records, membership, proofs of peer URLs,
 * the exchange and its HTTP endpoints.
 *
 * @module
 */
export * from "./challenge.ts";
export * from "./gossiper.ts";
export * from "./http_transport.ts";
export * from "./membership.ts";
export * from "./records.ts";
export * from "./routes.ts";
export * from "./signing.ts";
export * from "./transport.ts";
export * from "./url_proofs.ts";
