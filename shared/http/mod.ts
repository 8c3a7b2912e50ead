/**
 * The shared HTTP foundation.
 *
 * @module
 */
export * from "./app.ts";
export * from "./auth.ts";
export * from "./validation.ts";
