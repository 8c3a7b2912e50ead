/**
 * Response lanes: responses framed as gRPC frames them and written straight
 * to the call's HTTP/2 stream, after the headers, with a window of bytes
 * before the writer waits; used by server streams of our server unless it
 * has interceptors of its own; and the pinned grpc-js hands its first
 * interceptor a call whose HTTP/2 stream a lane can write to.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { Writable } from "node:stream";
import {
  Server,
  ServerInterceptingCall,
  type ServerInterceptingCallInterface,
} from "@grpc/grpc-js";
import { SystemRegisterSync } from "../../gen/sorcha/peer/v1/system_register_sync_pb.ts";
import {
  type CallContext,
  createClient,
  GrpcChannel,
  GrpcServer,
  openResponseLane,
  pushed,
  responseLane,
  serviceDefinition,
  serviceImplementation,
} from "../../shared/grpc/mod.ts";
import { AppError } from "../../shared/errors.ts";
import { bindLoopback } from "../fixtures/grpc.ts";
import { until } from "../fixtures/wait.ts";

/** An HTTP/2 stream stand-in whose writes complete only when told to. */
function slowStream(highWaterMark: number) {
  const pending: (() => void)[] = [];
  const chunks: Buffer[] = [];
  const stream = new Writable({
    highWaterMark,
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      pending.push(() => callback());
    },
  });
  return {
    stream,
    chunks,
    /** Completes every write so far. */
    flush() {
      for (const done of pending.splice(0)) done();
    },
  };
}

/** grpc-js's own call, as far as a lane uses it: its stream and sendMetadata. */
function fakeCall(
  stream: Writable,
): { call: ServerInterceptingCallInterface; headers: () => number } {
  let headers = 0;
  const call = { stream, sendMetadata: () => headers++ };
  return { call: call as unknown as ServerInterceptingCallInterface, headers: () => headers };
}

Deno.test("a lane frames each response as gRPC does and sends the headers once, before the first", () => {
  const { stream, chunks, flush } = slowStream(1024);
  const { call, headers } = fakeCall(stream);
  const lane = openResponseLane(call, { windowBytes: 1024 })!;
  assert.ok(lane);
  assert.equal(headers(), 0);
  assert.equal(lane.write(Uint8Array.of(1, 2, 3)), true);
  flush();
  assert.equal(lane.write(new Uint8Array(0)), true);
  assert.equal(headers(), 1);
  assert.deepEqual([...chunks[0]!], [0, 0, 0, 0, 3, 1, 2, 3]);
  assert.deepEqual([...chunks[1]!], [0, 0, 0, 0, 0]);
});

Deno.test("a lane says to wait once a window of bytes waits in the stream, and says when it drained", async () => {
  const { stream, flush } = slowStream(100);
  const { call } = fakeCall(stream);
  let corks = 0;
  const lane = openResponseLane(call, { windowBytes: 1000, afterWrite: () => corks++ })!;
  const answers: boolean[] = [];
  for (let n = 0; n < 10; n++) answers.push(lane.write(new Uint8Array(195))); // 200 bytes framed
  // Nothing is written out: 1,000 bytes wait in the stream after the fifth.
  assert.deepEqual(answers, [true, true, true, true, false, false, false, false, false, false]);
  assert.equal(corks, 10);
  let drained = false;
  lane.whenDrained(() => drained = true);
  await Promise.resolve();
  assert.equal(drained, false);
  while (stream.writableLength > 0) {
    flush();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  flush();
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(drained, true);
});

Deno.test("a lane's window is at least its stream's high-water mark, so a full window always drains", () => {
  const { stream } = slowStream(4096);
  const lane = openResponseLane(fakeCall(stream).call, { windowBytes: 10 })!;
  assert.equal(lane.write(new Uint8Array(2000)), true); // 2,005 bytes waiting: under 4,096
  assert.equal(lane.write(new Uint8Array(2000)), true); // 4,010
  assert.equal(lane.write(new Uint8Array(2000)), false);
});

Deno.test("a lane of a stream that is gone writes nothing and drains at once", async () => {
  const { stream, chunks } = slowStream(1024);
  const lane = openResponseLane(fakeCall(stream).call, { windowBytes: 1024 })!;
  stream.destroy();
  assert.equal(lane.write(Uint8Array.of(1)), false);
  assert.equal(chunks.length, 0);
  const { promise, resolve } = Promise.withResolvers<void>();
  lane.whenDrained(resolve);
  await promise;
});

Deno.test("a call without an HTTP/2 stream gets no lane", () => {
  assert.equal(
    openResponseLane({} as ServerInterceptingCallInterface, { windowBytes: 1 }),
    undefined,
  );
});

function lanesSeen() {
  const seen: boolean[] = [];
  const implementation = {
    async *fullSync(_request: unknown, context: CallContext) {
      seen.push(responseLane(context.metadata) !== undefined);
      for (let version = 1; version <= 300; version++) {
        yield { blueprintId: `blueprint-${version}`, version: BigInt(version) };
      }
    },
    subscribeToPushNotifications(_request: unknown, context: CallContext) {
      seen.push(responseLane(context.metadata) !== undefined);
      return pushed<typeof SystemRegisterSync.method.subscribeToPushNotifications.output>(
        (sink) => {
          for (let n = 1; n <= 300; n++) {
            sink.send({ blueprintId: `b-${n}`, sequenceNumber: BigInt(n) });
          }
          return Promise.resolve();
        },
      );
    },
  };
  return { seen, implementation };
}

async function readBoth(port: number): Promise<{ versions: bigint[]; sequence: bigint[] }> {
  using channel = new GrpcChannel(`127.0.0.1:${port}`);
  const client = createClient(SystemRegisterSync, channel);
  const versions: bigint[] = [];
  for await (const entry of client.fullSync({})) versions.push(entry.version);
  const sequence: bigint[] = [];
  await client.subscribeToPushNotifications({ peerId: "p" }).listen((n) => {
    sequence.push(n.sequenceNumber);
  });
  return { versions, sequence };
}

const IN_ORDER = Array.from({ length: 300 }, (_, i) => BigInt(i + 1));

Deno.test("our server's streams go through their lanes, in order, and end OK after the last response", async () => {
  const { seen, implementation } = lanesSeen();
  await using server = new GrpcServer().add(SystemRegisterSync, implementation);
  const { versions, sequence } = await readBoth(await server.listen());
  assert.deepEqual(seen, [true, true]);
  assert.deepEqual(versions, IN_ORDER);
  assert.deepEqual(sequence, IN_ORDER);
});

Deno.test("a server with interceptors of its own gives no lanes: its streams go through them", async () => {
  const { seen, implementation } = lanesSeen();
  let intercepted = 0;
  await using server = new GrpcServer({
    serverOptions: {
      interceptors: [(_method, call) =>
        new ServerInterceptingCall(call, {
          sendMessage(message, next) {
            intercepted++;
            next(message);
          },
        })],
    },
  }).add(SystemRegisterSync, implementation);
  const { versions, sequence } = await readBoth(await server.listen());
  assert.deepEqual(seen, [false, false]);
  assert.deepEqual(versions, IN_ORDER);
  assert.deepEqual(sequence, IN_ORDER);
  assert.equal(intercepted, 600);
});

Deno.test("the first server interceptor of grpc-js is handed a call a lane can write to", async () => {
  const lanes: boolean[] = [];
  const server = new Server({
    interceptors: [(_method, call) => {
      lanes.push(openResponseLane(call, { windowBytes: 1024 }) !== undefined);
      return new ServerInterceptingCall(call);
    }],
  });
  server.addService(
    serviceDefinition(SystemRegisterSync),
    serviceImplementation(SystemRegisterSync, lanesSeen().implementation),
  );
  const port = await bindLoopback(server);
  try {
    const { versions } = await readBoth(port);
    assert.deepEqual(versions, IN_ORDER);
    assert.deepEqual(lanes, [true, true]);
  } finally {
    server.forceShutdown();
  }
});

Deno.test("a response over the server's size limit ends its stream with RESOURCE_EXHAUSTED, as grpc-js does", async () => {
  let pushEnded = false;
  await using server = new GrpcServer({
    serverOptions: { "grpc.max_send_message_length": 1024 },
  }).add(SystemRegisterSync, {
    async *fullSync(_request, context) {
      assert.ok(responseLane(context.metadata));
      yield { blueprintId: "small", version: 1n };
      yield { blueprintId: "large", blueprintDocument: new Uint8Array(2048), version: 2n };
    },
    subscribeToPushNotifications(_request, context) {
      return pushed((sink) => {
        sink.send({ blueprintId: "small" });
        sink.send({ blueprintId: "large", blueprintSummary: new Uint8Array(2048) });
        return new Promise<void>((resolve) => {
          context.signal.addEventListener("abort", () => {
            pushEnded = true;
            resolve();
          }, { once: true });
        });
      });
    },
  });
  using channel = new GrpcChannel(`127.0.0.1:${await server.listen()}`);
  const client = createClient(SystemRegisterSync, channel);
  const seen: string[] = [];
  await assert.rejects(
    (async () => {
      for await (const entry of client.fullSync({})) seen.push(entry.blueprintId);
    })(),
    (error: unknown) => {
      assert.ok(error instanceof AppError);
      assert.equal(error.code, "resource_exhausted");
      assert.match(error.message, /Sent message larger than max \(\d+ vs\. 1024\)/);
      return true;
    },
  );
  assert.deepEqual(seen, ["small"]);
  const notified: string[] = [];
  await assert.rejects(
    client.subscribeToPushNotifications({ peerId: "p" }).listen((n) => {
      notified.push(n.blueprintId);
    }),
    (error: unknown) => error instanceof AppError && error.code === "resource_exhausted",
  );
  assert.deepEqual(notified, ["small"]);
  await until("the push's signal aborts once its call ended", () => Promise.resolve(pushEnded));
});
