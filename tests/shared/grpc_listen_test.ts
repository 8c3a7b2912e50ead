/**
 * `listen` on a server stream of the typed client, against a real grpc-js
 * server on a loopback port: every response handed over in order as it
 * arrives, the end and errors of the call, cancellation through the signal
 * and through a listener that throws, and one reading per call.
 */
import assert from "node:assert/strict";
import {
  type BlueprintNotification,
  NotificationType,
  SystemRegisterSync,
} from "../../gen/sorcha/peer/v1/system_register_sync_pb.ts";
import { AppError } from "../../shared/errors.ts";
import { createClient, GrpcChannel, GrpcServer } from "../../shared/grpc/mod.ts";

function notification(n: bigint) {
  return {
    blueprintId: `blueprint-${n}`,
    version: n,
    type: NotificationType.BLUEPRINT_PUBLISHED,
    sequenceNumber: n,
  };
}

/** A server whose push stream sends `count` notifications, then ends as `end` says. */
function pushServer(count: number, end: () => void = () => {}) {
  return new GrpcServer().add(SystemRegisterSync, {
    async *subscribeToPushNotifications() {
      for (let n = 1n; n <= count; n++) yield notification(n);
      end();
    },
  });
}

/** A server whose push stream never ends; `closed` resolves with whether the call was cancelled. */
function endlessPushServer() {
  const { promise: closed, resolve } = Promise.withResolvers<boolean>();
  const server = new GrpcServer().add(SystemRegisterSync, {
    async *subscribeToPushNotifications(_request, context) {
      try {
        // Flow control holds it back once the client's window is full.
        for (let n = 1n;; n++) yield notification(n);
      } finally {
        resolve(context.signal.aborted);
      }
    },
  });
  return { server, closed };
}

Deno.test("listening to a server stream hands over every response in order, then resolves at its end", async () => {
  await using server = pushServer(200);
  using channel = new GrpcChannel(`127.0.0.1:${await server.listen()}`);
  const seen: bigint[] = [];
  await createClient(SystemRegisterSync, channel)
    .subscribeToPushNotifications({ peerId: "p" })
    .listen((message: BlueprintNotification) => seen.push(message.sequenceNumber));
  assert.deepEqual(seen, Array.from({ length: 200 }, (_, i) => BigInt(i + 1)));
});

Deno.test("listening rejects with the server's error, after the responses sent before it", async () => {
  await using server = pushServer(3, () => {
    throw new AppError("unavailable", "store failed after 3 notifications");
  });
  using channel = new GrpcChannel(`127.0.0.1:${await server.listen()}`);
  const seen: bigint[] = [];
  await assert.rejects(
    createClient(SystemRegisterSync, channel)
      .subscribeToPushNotifications({ peerId: "p" })
      .listen((message) => seen.push(message.sequenceNumber)),
    (error: unknown) => {
      assert.ok(error instanceof AppError, `expected an AppError, got ${error}`);
      assert.equal(error.code, "unavailable");
      assert.equal(error.message, "store failed after 3 notifications");
      return true;
    },
  );
  // grpc-js may drop messages not yet handed over when the status arrives: a prefix.
  assert.deepEqual(seen, [1n, 2n, 3n].slice(0, seen.length));
});

Deno.test("a listener that throws cancels the call, and listening rejects with what it threw", async () => {
  const { server, closed } = endlessPushServer();
  await using _server = server;
  using channel = new GrpcChannel(`127.0.0.1:${await server.listen()}`);
  const seen: bigint[] = [];
  const refusal = new Error("third notification refused");
  await assert.rejects(
    createClient(SystemRegisterSync, channel)
      .subscribeToPushNotifications({ peerId: "p" })
      .listen((message) => {
        seen.push(message.sequenceNumber);
        if (message.sequenceNumber === 3n) throw refusal;
      }),
    (error: unknown) => error === refusal,
  );
  assert.deepEqual(seen, [1n, 2n, 3n], "nothing is handed over after the listener threw");
  assert.equal(await closed, true, "the server saw the call cancelled");
});

Deno.test("cancelling a listened stream through its signal rejects with the signal's reason", async () => {
  const { server, closed } = endlessPushServer();
  await using _server = server;
  using channel = new GrpcChannel(`127.0.0.1:${await server.listen()}`);
  const stop = new AbortController();
  const reason = new Error("the peer is shutting down");
  let seen = 0;
  await assert.rejects(
    createClient(SystemRegisterSync, channel)
      .subscribeToPushNotifications({ peerId: "p" }, { signal: stop.signal })
      .listen(() => {
        if (++seen === 2) stop.abort(reason);
      }),
    (error: unknown) => error === reason,
  );
  assert.equal(await closed, true, "the server saw the call cancelled");
});

Deno.test("a server stream is read once: listening after iterating it throws failed_precondition", async () => {
  await using server = pushServer(2);
  using channel = new GrpcChannel(`127.0.0.1:${await server.listen()}`);
  const stream = createClient(SystemRegisterSync, channel)
    .subscribeToPushNotifications({ peerId: "p" });
  const seen: bigint[] = [];
  for await (const message of stream) seen.push(message.sequenceNumber);
  assert.deepEqual(seen, [1n, 2n]);
  assert.throws(
    () => stream.listen(() => {}),
    (error: unknown) =>
      error instanceof AppError && error.code === "failed_precondition" &&
      /SubscribeToPushNotifications: the call was already read/.test(error.message),
  );
});

Deno.test("listening with a signal already aborted throws its reason and starts no call", async () => {
  const { server } = endlessPushServer();
  await using _server = server;
  using channel = new GrpcChannel(`127.0.0.1:${await server.listen()}`);
  const reason = new Error("already stopped");
  assert.throws(
    () =>
      createClient(SystemRegisterSync, channel)
        .subscribeToPushNotifications({ peerId: "p" }, { signal: AbortSignal.abort(reason) })
        .listen(() => {}),
    (error: unknown) => error === reason,
  );
});
