/**
 * The system register of blueprints: entries, integrity, genesis and stores.
 *
 * The MongoDB adapter's types are exported here, its code is loaded only when
 * used (see `./store.ts`); import `./mongo_store.ts` for its constants.
 *
 * @module
 */
export * from "./genesis.ts";
export * from "./integrity.ts";
export * from "./sqlite_store.ts";
export * from "./store.ts";
export * from "./types.ts";
export type {
  BlueprintDocument,
  MongoSystemRegisterStore,
  MongoSystemRegisterStoreOptions,
} from "./mongo_store.ts";
export { openSystemRegister } from "./service.ts";
export type { Publication, PublishOutcome, SystemRegister } from "./service.ts";
export type { IntegrityState } from "./service.ts";
