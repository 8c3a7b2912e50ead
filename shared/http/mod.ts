/**
 * The shared HTTP foundation.
 *
 * @module
 */
export * from "./app.ts";
export * from "./auth.ts";
export * from "./validation.ts";
export { changeErrors, json } from "./openapi.ts";
export { BlueprintPageQuery, BlueprintParams, cutPage, pageOf } from "./blueprint_pages.ts";
export { notFoundError } from "./openapi.ts";
