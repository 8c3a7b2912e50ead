/**
 * How our server writes streamed responses: pulled (an async generator) and
 * pushed (a sink) through one writer, in order, ending OK after the last;
 * through the server's own interceptors when it has some; a response over
 * the server's size limit, or one that cannot be encoded, ends its stream
 * with an error (and only its own).
 */
import assert from "node:assert/strict";
import { ServerInterceptingCall } from "@grpc/grpc-js";
import { SystemRegisterSync } from "../../gen/sorcha/peer/v1/system_register_sync_pb.ts";
import {
  type CallContext,
  createClient,
  GrpcChannel,
  GrpcServer,
  pushed,
} from "../../shared/grpc/mod.ts";
import { AppError } from "../../shared/errors.ts";
import { until } from "../fixtures/wait.ts";

const implementation = {
  async *fullSync(_request: unknown, _context: CallContext) {
    for (let version = 1; version <= 300; version++) {
      yield { blueprintId: `blueprint-${version}`, version: BigInt(version) };
    }
  },
  subscribeToPushNotifications(_request: unknown, _context: CallContext) {
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

Deno.test("pulled and pushed responses arrive in order, and the streams end OK after the last", async () => {
  await using server = new GrpcServer().add(SystemRegisterSync, implementation);
  const { versions, sequence } = await readBoth(await server.listen());
  assert.deepEqual(versions, IN_ORDER);
  assert.deepEqual(sequence, IN_ORDER);
});

Deno.test("a server with interceptors of its own sends every streamed response through them", async () => {
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
  assert.deepEqual(versions, IN_ORDER);
  assert.deepEqual(sequence, IN_ORDER);
  assert.equal(intercepted, 600);
});

Deno.test("a response over the server's size limit ends its stream with RESOURCE_EXHAUSTED, as grpc-js does", async () => {
  let pushEnded = false;
  await using server = new GrpcServer({
    serverOptions: { "grpc.max_send_message_length": 1024 },
  }).add(SystemRegisterSync, {
    async *fullSync() {
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

Deno.test("a pushed response that cannot be encoded ends its own stream, not the sender", async () => {
  const sent: boolean[] = [];
  await using server = new GrpcServer().add(SystemRegisterSync, {
    subscribeToPushNotifications() {
      return pushed((sink) => {
        sent.push(sink.send({ blueprintId: "fine" }));
        // deno-lint-ignore no-explicit-any
        sent.push(sink.send({ sequenceNumber: "x" as any })); // not an int64: protobuf-es throws
        sent.push(sink.send({ blueprintId: "after" }));
        return Promise.resolve();
      });
    },
  });
  using channel = new GrpcChannel(`127.0.0.1:${await server.listen()}`);
  const notified: string[] = [];
  await assert.rejects(
    createClient(SystemRegisterSync, channel).subscribeToPushNotifications({ peerId: "p" })
      .listen((n) => notified.push(n.blueprintId)),
    (error: unknown) => error instanceof AppError && error.code === "internal",
  );
  assert.deepEqual(sent, [true, false, false]);
  assert.deepEqual(notified, ["fine"]);
});
