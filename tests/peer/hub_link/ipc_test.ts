/**
 * The pipes between the peer's HTTP process and its hub-link process
 * (`ipc.ts`), for the link's metrics: asked by the parent, answered by the
 * child with their Prometheus text, and "" when no child runs or it does
 * not answer in time.
 */
import assert from "node:assert/strict";
import { serveLinkOverPipes } from "../../../peer/hub_link/child.ts";
import { decodeLine, encodeLine, type LinkMessage } from "../../../peer/hub_link/ipc.ts";
import { HubLinkProcess, METRICS_REPLY_TIMEOUT_MS } from "../../../peer/hub_link/link_process.ts";
import { AppError } from "../../../shared/errors.ts";
import { lines } from "../../../shared/lines.ts";
import { log } from "../../../shared/logging.ts";
import { FakeScheduler } from "../../fixtures/fake_scheduler.ts";
import { until } from "../../fixtures/wait.ts";
import { statusOf } from "./status_fixture.ts";

const CHILD = new URL("./pipe_child.ts", import.meta.url).pathname;
const TEXT = "# TYPE sorcha_peer_hub_failovers_total counter\nsorcha_peer_hub_failovers_total 3\n";

Deno.test("the link process answers a metrics request with its metrics' text and the request's id", async () => {
  const input = new TransformStream<Uint8Array, Uint8Array>();
  const output = new TransformStream<Uint8Array, Uint8Array>();
  const serving = serveLinkOverPipes({
    status: () => statusOf("Connected", 4),
    onChange: () => () => {},
    sync: () => Promise.reject(new AppError("unavailable", "not in this test")),
  }, {
    input: input.readable,
    output: output.writable,
    scheduler: new FakeScheduler(),
    metrics: () => Promise.resolve(TEXT),
  });
  const commands = input.writable.getWriter();
  await commands.write(encodeLine({ type: "metrics", id: 7 }));
  let answer: LinkMessage | undefined;
  for await (const line of lines(output.readable)) {
    answer = decodeLine<LinkMessage>(line, ["metrics"]);
    if (answer) break;
  }
  assert.deepEqual(answer, { type: "metrics", id: 7, text: TEXT });
  await commands.close();
  await serving;
});

/** A supervised pipe child (`pipe_child.ts`) with `argument`, timed by `scheduler`; disposing it stops it. */
function pipeProcess(
  argument: string,
  scheduler: FakeScheduler,
): HubLinkProcess & AsyncDisposable {
  const link = new HubLinkProcess({
    command: { command: Deno.execPath(), args: ["run", "-A", CHILD, argument] },
    logger: log("test", "hub-link"),
    scheduler,
  });
  return Object.assign(link, { [Symbol.asyncDispose]: () => link.close() });
}

/** Starts `link` and waits until its child has reported. */
async function started(link: HubLinkProcess): Promise<void> {
  link.start();
  await until("the child reports", () => Promise.resolve(link.status() !== undefined), 15_000);
}

Deno.test("the peer's HTTP process gets the link process's metrics through the pipes", async () => {
  await using link = pipeProcess(TEXT, new FakeScheduler());
  assert.equal(await link.metrics(), "", "no child runs yet");
  await started(link);
  assert.equal(await link.metrics(), TEXT);
  await link.close();
  assert.equal(await link.metrics(), "", "the child was stopped");
});

Deno.test("a link process that does not answer in time leaves the metrics empty", async () => {
  const scheduler = new FakeScheduler();
  await using link = pipeProcess("--mute", scheduler);
  await started(link);
  const metrics = link.metrics();
  const deadline = await scheduler.nextSleep();
  assert.equal(deadline.ms, METRICS_REPLY_TIMEOUT_MS);
  deadline.release();
  assert.equal(await metrics, "");
});
