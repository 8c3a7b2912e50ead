/**
 * The system register of blueprints: entries, integrity, genesis and stores.
 *
 * @module
 */
export * from "./genesis.ts";
export * from "./integrity.ts";
export * from "./sqlite_store.ts";
export * from "./types.ts";
