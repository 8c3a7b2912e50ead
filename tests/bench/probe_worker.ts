/**
 * The child process of `probe_process.ts`: one side's subscribers of a
 * fan-out benchmark, driven over standard input and output (see that
 * module). Loads only that side's client modules.
 *
 * @module
 */
import type { FanoutProbe } from "./fanout.ts";
import { lines, type ProbeReply, type ProbeSpec } from "./probe_process.ts";

const encoder = new TextEncoder();

function reply(message: ProbeReply): void {
  const bytes = encoder.encode(`${JSON.stringify(message)}\n`);
  let written = 0;
  while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function prepare(spec: ProbeSpec): Promise<FanoutProbe> {
  switch (spec.kind) {
    case "hub-push": {
      const { prepareHubPushFanout, httpPublisher } = await import("./hub_push_probe.ts");
      return await prepareHubPushFanout(
        { grpcPort: spec.grpcPort, publish: httpPublisher(spec.publishUrl) },
        {
          subscribers: spec.subscribers,
          channels: spec.channels,
          documentBytes: spec.documentBytes,
        },
      );
    }
    case "etcd-watch": {
      const { prepareEtcdWatchFanout } = await import("./etcd.ts");
      return await prepareEtcdWatchFanout(
        { endpoint: spec.endpoint },
        { watchers: spec.watchers, connections: spec.connections },
      );
    }
  }
}

async function main(): Promise<void> {
  const input = lines(Deno.stdin.readable);
  const first = await input.next();
  if (first.done) return;
  let probe: FanoutProbe;
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
      reply({ delays: await probe.publishOnce(n) });
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
