/**
 * The supervisor: crashes restarted after a backoff that grows and resets
 * after a stable run, exit codes passed on without a restart, stop requests
 * passed on to the child (also mid-backoff), and one run with real
 * processes: a child killed by SIGABRT is started again.
 */
import assert from "node:assert/strict";
import { createBackoff } from "../../shared/backoff.ts";
import { isCrash, supervise, type SupervisedChild } from "../../shared/supervise.ts";
import { tempDir } from "../fixtures/wait.ts";

const CRASH: Deno.CommandStatus = { success: false, code: 134, signal: "SIGABRT" };
const exited = (code: number): Deno.CommandStatus => ({ success: code === 0, code, signal: null });

/** Children that end as `endings` say, one per start; records starts and the signals sent. */
function fakeChildren(endings: Deno.CommandStatus[], onStart: (n: number) => void = () => {}) {
  const signals: Deno.Signal[] = [];
  let started = 0;
  const spawn = (): SupervisedChild => {
    const ending = endings[started];
    onStart(started++);
    if (ending === undefined) {
      // Runs until it is sent a signal, then exits 0 as a service shutting down does.
      const { promise, resolve } = Promise.withResolvers<Deno.CommandStatus>();
      return {
        status: promise,
        kill: (signal) => {
          signals.push(signal);
          resolve(exited(0));
        },
      };
    }
    return { status: Promise.resolve(ending), kill: (signal) => signals.push(signal) };
  };
  return { spawn, signals, started: () => started };
}

/** Waits recorded, none real; the clock moves by each wait and by what `advance` adds. */
function fakeTime() {
  const waits: number[] = [];
  let now = 0;
  return {
    waits,
    now: () => now,
    advance: (ms: number) => now += ms,
    wait: (ms: number) => {
      waits.push(ms);
      now += ms;
      return Promise.resolve();
    },
  };
}

const noJitter = () => createBackoff({ initialMs: 1000, maxMs: 30_000, jitter: 0 });
const child = { command: "unused", args: [] };

Deno.test("only a child killed by a signal counts as a crash", () => {
  assert.equal(isCrash(CRASH), true);
  assert.equal(isCrash({ success: false, code: 139, signal: "SIGSEGV" }), true);
  assert.equal(isCrash(exited(0)), false);
  assert.equal(isCrash(exited(1)), false);
});

Deno.test("a crashed child is started again after a backoff that doubles, and its exit code ends the supervision", async () => {
  const children = fakeChildren([CRASH, CRASH, CRASH, exited(0)]);
  const time = fakeTime();
  const lines: string[] = [];
  const code = await supervise(child, {
    service: "hub",
    spawn: children.spawn,
    backoff: noJitter,
    wait: time.wait,
    now: time.now,
    log: (line) => lines.push(line),
  });
  assert.equal(code, 0);
  assert.equal(children.started(), 4);
  assert.deepEqual(time.waits, [1000, 2000, 4000]);
  assert.equal(lines[0], "hub killed by SIGABRT; starting it again in 1000 ms");
});

Deno.test("a child that ran for a minute before crashing restarts the backoff", async () => {
  const time = fakeTime();
  // The third child runs 60 s before it crashes.
  const children = fakeChildren([CRASH, CRASH, CRASH, CRASH, exited(0)], (n) => {
    if (n === 2) time.advance(60_000);
  });
  await supervise(child, {
    service: "hub",
    spawn: children.spawn,
    backoff: noJitter,
    wait: time.wait,
    now: time.now,
    log: () => {},
  });
  assert.deepEqual(time.waits, [1000, 2000, 1000, 2000]);
});

Deno.test("an exit code other than 0 is passed on without a restart (a bad configuration stays bad)", async () => {
  const children = fakeChildren([exited(1)]);
  const time = fakeTime();
  const code = await supervise(child, {
    service: "hub",
    spawn: children.spawn,
    wait: time.wait,
    now: time.now,
    log: () => {},
  });
  assert.equal(code, 1);
  assert.equal(children.started(), 1);
  assert.deepEqual(time.waits, []);
});

Deno.test("a stop request is passed on to the child as SIGTERM, and the supervision ends with its code", async () => {
  const stop = new AbortController();
  const children = fakeChildren([], () => queueMicrotask(() => stop.abort()));
  const code = await supervise(child, {
    service: "hub",
    spawn: children.spawn,
    stop: stop.signal,
    log: () => {},
  });
  assert.equal(code, 0);
  assert.deepEqual(children.signals, ["SIGTERM"]);
  assert.equal(children.started(), 1);
});

Deno.test("a stop request during the backoff ends the supervision without starting the child again", async () => {
  const stop = new AbortController();
  const children = fakeChildren([CRASH]);
  const code = await supervise(child, {
    service: "hub",
    spawn: children.spawn,
    stop: stop.signal,
    backoff: noJitter,
    // The stop comes while waiting; the real wait returns early when it does.
    wait: (_ms, signal) => {
      stop.abort();
      assert.equal(signal.aborted, true);
      return Promise.resolve();
    },
    log: () => {},
  });
  assert.equal(code, 0);
  assert.equal(children.started(), 1);
});

Deno.test("a real child killed by SIGABRT is started again, and its exit code is the supervisor's", async () => {
  await using dir = await tempDir("supervise-");
  const runs = `${dir.path}/runs`;
  const lines: string[] = [];
  const code = await supervise({
    command: Deno.execPath(),
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      new URL("../fixtures/crash_once.ts", import.meta.url).pathname,
      runs,
      "3",
    ],
  }, {
    service: "crash_once",
    // No real waiting between the runs.
    backoff: () => createBackoff({ initialMs: 0, maxMs: 0 }),
    log: (line) => lines.push(line),
  });
  assert.equal(code, 3);
  assert.equal(await Deno.readTextFile(runs), "run 1\nrun 2\n");
  assert.deepEqual(lines, ["crash_once killed by SIGABRT; starting it again in 0 ms"]);
});

Deno.test("a supervised child gets the variables its command sets beside those it inherits", async () => {
  await using dir = await tempDir("supervise-");
  const out = `${dir.path}/env`;
  const code = await supervise({
    command: Deno.execPath(),
    args: [
      "eval",
      `Deno.writeTextFileSync(${
        JSON.stringify(out)
      }, [Deno.env.get("SUPERVISE_TEST_VALUE"), Deno.env.has("PATH")].join())`,
    ],
    env: { SUPERVISE_TEST_VALUE: "set by the command" },
  }, { service: "env_child", log: () => {} });
  assert.equal(code, 0);
  assert.equal(await Deno.readTextFile(out), "set by the command,true");
});
