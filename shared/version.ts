/**
 * The project's version, shown by `/healthz` and the OpenAPI documents.
 *
 * @module
 */

/** The project's version. */
export const VERSION = "0.1.0";
