/**
 * Publishes `count` blueprints into the SQLite system register at `path`, as
 * one hub would; run as a separate process by the sharing test.
 *
 * @module
 */
import { openSqliteSystemRegisterStore } from "../../hub/system_register/mod.ts";
import { publication } from "./system_register_contract.ts";

const [path, prefix, count] = Deno.args;
const store = openSqliteSystemRegisterStore(path!);
for (let n = 0; n < Number(count); n++) await store.publish(publication(`${prefix}-${n}`, n));
await store.close();
