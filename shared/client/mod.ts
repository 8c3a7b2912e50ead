/**
 * Typed HTTP clients of the project's services.
 *
 * @module
 */
export * from "./json_client.ts";
export * from "./peer_client.ts";
