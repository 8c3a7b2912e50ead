/**
 * The shared HTTP foundation.
 *
 * @module
 */
export * from "./app.ts";
export * from "./auth.ts";
export { addMetricsEndpoint, type MetricsEndpointOptions } from "./metrics_route.ts";
export * from "./validation.ts";
export { changeErrors, inlineError, json } from "./openapi.ts";
export {
  addBlueprintPages,
  BlueprintPageQuery,
  type BlueprintPagesOptions,
  BlueprintParams,
  cutPage,
  pageOf,
} from "./blueprint_pages.ts";
export { notFoundError } from "./openapi.ts";
