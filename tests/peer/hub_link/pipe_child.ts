/**
 * A hub-link process without a link, for tests of the pipes (`ipc.ts`):
 * serves a stub link (Disconnected, every sync refused) over its standard
 * input and output until its input ends, with metrics whose text is its
 * first argument, or metrics that never answer when that is `--mute`.
 *
 * @module
 */
import { serveLinkOverPipes } from "../../../peer/hub_link/child.ts";
import { AppError } from "../../../shared/errors.ts";
import { createSystemScheduler } from "../../../shared/schedule.ts";
import { statusOf } from "./status_fixture.ts";

const text = Deno.args[0] ?? "";
await serveLinkOverPipes({
  status: () => statusOf("Disconnected"),
  onChange: () => () => {},
  sync: () => Promise.reject(new AppError("unavailable", "no hub in this test")),
}, {
  input: Deno.stdin.readable,
  output: Deno.stdout.writable,
  scheduler: createSystemScheduler({ timersOnly: true }),
  metrics: () => text === "--mute" ? new Promise<string>(() => {}) : Promise.resolve(text),
});
