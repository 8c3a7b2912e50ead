/**
 * The child process of `probe_process.ts`: one side's clients of a hub
 * benchmark, driven over standard input and output (see that module). Loads
 * only that side's client modules.
 *
 * @module
 */
import { lines } from "../../shared/lines.ts";
import type { ProbeReply, ProbeSpec } from "./probe_process.ts";

const encoder = new TextEncoder();

/** A prepared side: `once(n)` runs and times it once. */
interface Probe extends AsyncDisposable {
  readonly subscribers: number;
  once(n: number): Promise<number[]>;
}

function reply(message: ProbeReply): void {
  const bytes = encoder.encode(`${JSON.stringify(message)}\n`);
  let written = 0;
  while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A read to time, as a probe (one client). */
function timedRead(read: () => Promise<void>, close: () => void): Probe {
  return {
    subscribers: 1,
    async once() {
      const began = performance.now();
      await read();
      return [performance.now() - began];
    },
    [Symbol.asyncDispose]: () => Promise.resolve(close()),
  };
}

async function prepare(spec: ProbeSpec): Promise<Probe> {
  switch (spec.kind) {
    case "hub-push": {
      const { prepareHubPushFanout, httpPublisher } = await import("./hub_push_probe.ts");
      const fanout = await prepareHubPushFanout(
        { grpcPort: spec.grpcPort, publish: httpPublisher(spec.publishUrl) },
        {
          subscribers: spec.subscribers,
          channels: spec.channels,
          documentBytes: spec.documentBytes,
        },
      );
      return Object.assign(fanout, { once: (n: number) => fanout.publishOnce(n) });
    }
    case "etcd-watch": {
      const { prepareEtcdWatchFanout } = await import("./etcd.ts");
      const fanout = await prepareEtcdWatchFanout(
        { endpoint: spec.endpoint },
        { watchers: spec.watchers, connections: spec.connections },
      );
      return Object.assign(fanout, { once: (n: number) => fanout.publishOnce(n) });
    }
    case "hub-full-sync": {
      const { prepareHubFullSync } = await import("./hub_sync_probe.ts");
      const fullSync = prepareHubFullSync({ grpcPort: spec.grpcPort }, { entries: spec.entries });
      return timedRead(() => fullSync.read(), () => fullSync[Symbol.dispose]());
    }
    case "etcd-range": {
      const { prepareEtcdRangeRead } = await import("./etcd.ts");
      const range = await prepareEtcdRangeRead({ endpoint: spec.endpoint }, {
        count: spec.count,
        valueBytes: spec.valueBytes,
        pageSize: spec.pageSize,
      });
      return timedRead(() => range.read(), () => range[Symbol.dispose]());
    }
  }
}

async function main(): Promise<void> {
  const input = lines(Deno.stdin.readable);
  const first = await input.next();
  if (first.done) return;
  let probe: Probe;
  try {
    probe = await prepare(JSON.parse(first.value) as ProbeSpec);
  } catch (error) {
    reply({ error: errorText(error) });
    return;
  }
  await using _probe = probe;
  reply({ ready: true, subscribers: probe.subscribers });
  for await (const line of input) {
    const { n } = JSON.parse(line) as { n: number };
    try {
      reply({ values: await probe.once(n) });
    } catch (error) {
      reply({ error: errorText(error) });
    }
  }
}

if (import.meta.main) {
  await main();
  // grpc-js and etcd3 may leave timers behind once closed; the parent waits for this exit.
  Deno.exit(0);
}
