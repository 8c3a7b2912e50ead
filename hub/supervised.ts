/**
 * `deno task hub`: the hub (`main.ts`) as a child process, started again
 * when the runtime crashes (see `shared/supervise.ts`). Its environment,
 * standard streams and exit code are the hub's; SIGINT and SIGTERM stop it.
 * `deno task dev:hub` runs `main.ts` directly.
 *
 * @module
 */
import { superviseUntilSignal } from "../shared/supervise.ts";

/** The permissions the hub runs with (those of `dev:hub`). */
const HUB_PERMISSIONS = [
  "--allow-net",
  "--allow-env",
  "--allow-read",
  "--allow-write",
  "--allow-sys",
];

await superviseUntilSignal({
  command: Deno.execPath(),
  args: [
    "run",
    ...HUB_PERMISSIONS,
    new URL("./main.ts", import.meta.url).pathname,
    "--supervised",
  ],
}, { service: "hub" });
