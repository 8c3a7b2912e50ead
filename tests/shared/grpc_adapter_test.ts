/**
 * The gRPC adapter against a real grpc-js server on a loopback port, with the
 * generated descriptors: round trips of every call kind, errors crossing as
 * AppErrors, UNIMPLEMENTED, metadata, deadlines, cancellation and
 * backpressure of server streams.
 */
import assert from "node:assert/strict";
import {
  Heartbeat,
  type HeartbeatAcknowledgement,
  HeartbeatHealthStatus,
  RecommendedAction,
} from "../../gen/sorcha/peer/v1/heartbeat_pb.ts";
import { CentralNodeConnection } from "../../gen/sorcha/peer/v1/central_node_connection_pb.ts";
import { create, toBinary } from "@bufbuild/protobuf";
import {
  NotificationType,
  SystemRegisterEntrySchema,
  SystemRegisterSync,
} from "../../gen/sorcha/peer/v1/system_register_sync_pb.ts";
import { AppError, type ErrorCode, GRPC_STATUS } from "../../shared/errors.ts";
import {
  bearerToken,
  type CallContext,
  createClient,
  encoded,
  GrpcChannel,
  GrpcServer,
  metadataValue,
} from "../../shared/grpc/mod.ts";
import { freePort } from "../fixtures/ports.ts";
import { until } from "../fixtures/wait.ts";

const SYSTEM_REGISTER_ID = "00000000-0000-0000-0000-000000000000";
const encoder = new TextEncoder();

/** The gRPC status a client-side AppError came from (its cause is grpc-js's error). */
function grpcStatusOf(error: AppError): number | undefined {
  const cause = error.cause as { code?: unknown } | undefined;
  return typeof cause?.code === "number" ? cause.code : undefined;
}

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode, message: RegExp) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof AppError, `expected an AppError, got ${error}`);
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  });
}

function entry(version: number, documentBytes = 64) {
  const document = encoder.encode(JSON.stringify({ v: version }).padEnd(documentBytes, " "));
  return {
    blueprintId: `blueprint-${version}`,
    registerId: SYSTEM_REGISTER_ID,
    blueprintDocument: document,
    publishedAt: 1_700_000_000_000n + BigInt(version),
    publishedBy: "tester",
    version: BigInt(version),
    isActive: true,
    checksum: `sha256:${version}`,
    metadata: { kind: "test", n: String(version) },
  };
}

Deno.test("a unary call round-trips nested messages, 64-bit integers and enums", async () => {
  const received: unknown[] = [];
  await using server = new GrpcServer().add(Heartbeat, {
    sendHeartbeat(beat) {
      received.push(beat);
      return {
        success: true,
        timestamp: beat.timestamp + 1n,
        centralNodeId: "hub-1",
        currentSystemRegisterVersion: beat.lastSyncVersion + 5n,
        message: `hello ${beat.peerId}`,
        recommendedAction: RecommendedAction.SYNC,
        serverLatencyMs: 3n,
      };
    },
  });
  using channel = new GrpcChannel(`127.0.0.1:${await server.listen()}`);
  const client = createClient(Heartbeat, channel);

  const ack = await client.sendHeartbeat({
    peerId: "peer-1",
    timestamp: 2n ** 60n,
    sequenceNumber: 7n,
    lastSyncVersion: 10n,
    sessionId: "s-1",
    nodeType: "Peer",
    metrics: { cpuUsagePercent: 12.5, blueprintCount: 3, isSyncing: true, uptimeSeconds: 99n },
  });

  assert.equal(ack.$typeName, "sorcha.peer.v1.HeartbeatAcknowledgement");
  assert.equal(ack.success, true);
  assert.equal(ack.timestamp, 2n ** 60n + 1n);
  assert.equal(ack.currentSystemRegisterVersion, 15n);
  assert.equal(ack.message, "hello peer-1");
  assert.equal(ack.recommendedAction, RecommendedAction.SYNC);
  assert.equal(received.length, 1);
  const beat = received[0] as { metrics?: { cpuUsagePercent: number; uptimeSeconds: bigint } };
  assert.equal(beat.metrics?.cpuUsagePercent, 12.5);
  assert.equal(beat.metrics?.uptimeSeconds, 99n);
});

Deno.test("an AppError thrown by a handler arrives with the same code and message", async () => {
  const codes: ErrorCode[] = [
    "invalid_argument",
    "unauthenticated",
    "permission_denied",
    "not_found",
    "already_exists",
    "failed_precondition",
    "resource_exhausted",
    "payload_too_large",
    "unavailable",
    "internal",
  ];
  let next = 0;
  await using server = new GrpcServer().add(Heartbeat, {
    sendHeartbeat() {
      const code = codes[next++] ?? "internal";
      throw new AppError(code, `failed as ${code}: é ✓`, { details: { code, n: next } });
    },
  });
  using channel = new GrpcChannel(`127.0.0.1:${await server.listen()}`);
  const client = createClient(Heartbeat, channel);

  for (const [index, code] of codes.entries()) {
    await assert.rejects(client.sendHeartbeat({ peerId: "p" }), (error: unknown) => {
      assert.ok(error instanceof AppError);
      assert.equal(error.code, code);
      assert.equal(error.message, `failed as ${code}: é ✓`);
      assert.deepEqual(error.details, { code, n: index + 1 });
      assert.equal(grpcStatusOf(error), GRPC_STATUS[code], "the standard gRPC status");
      return true;
    });
  }
});

Deno.test("any other error thrown by a handler answers INTERNAL with its message", async () => {
  await using server = new GrpcServer().add(Heartbeat, {
    sendHeartbeat() {
      throw new TypeError("boom");
    },
  });
  using channel = new GrpcChannel(`127.0.0.1:${await server.listen()}`);
  await assert.rejects(createClient(Heartbeat, channel).sendHeartbeat({}), (error: unknown) => {
    assert.ok(error instanceof AppError);
    assert.equal(error.code, "internal");
    assert.equal(error.message, "boom");
    assert.equal(grpcStatusOf(error), 13);
    return true;
  });
});

Deno.test("a method without a handler, or a service not served, answers UNIMPLEMENTED", async () => {
  await using server = new GrpcServer().add(Heartbeat, { sendHeartbeat: () => ({}) });
  using channel = new GrpcChannel(`127.0.0.1:${await server.listen()}`);

  await assert.rejects(
    createClient(Heartbeat, channel).getHeartbeatStatus({ peerId: "p" }),
    (error: unknown) => {
      assert.ok(error instanceof AppError);
      assert.equal(error.code, "unimplemented");
      assert.equal(
        error.message,
        "/sorcha.peer.v1.Heartbeat/GetHeartbeatStatus is not implemented by this server",
      );
      assert.equal(grpcStatusOf(error), 12);
      return true;
    },
  );
  // Answered by grpc-js itself: the message names the method called.
  await rejectsWith(
    createClient(CentralNodeConnection, channel).getCentralNodeStatus({}),
    "unimplemented",
    /^\/sorcha\.peer\.v1\.CentralNodeConnection\/GetCentralNodeStatus: .+ \(UNIMPLEMENTED\)$/,
  );
});

Deno.test("metadata reaches the handler: the channel's bearer token and the call's own", async () => {
  const seen: { token?: string | undefined; requestId?: string | undefined; peer?: string } = {};
  await using server = new GrpcServer().add(Heartbeat, {
    sendHeartbeat(_beat, context) {
      seen.token = bearerToken(context.metadata);
      seen.requestId = metadataValue(context.metadata, "x-request-id");
      seen.peer = context.peer;
      return { success: true };
    },
  });
  using channel = new GrpcChannel(`127.0.0.1:${await server.listen()}`, { token: "s3cret" });
  await createClient(Heartbeat, channel).sendHeartbeat({}, {
    metadata: { "X-Request-Id": "r-42" },
  });
  assert.equal(seen.token, "s3cret");
  assert.equal(seen.requestId, "r-42");
  assert.match(seen.peer ?? "", /127\.0\.0\.1/);
});

Deno.test("a guard runs before every handler, and its error ends the call without calling it", async () => {
  let handled = 0;
  const guard = (context: CallContext) => {
    if (bearerToken(context.metadata) !== "ok") {
      throw new AppError("unauthenticated", "Cannot call the hub: wrong token");
    }
  };
  await using server = new GrpcServer({ guard })
    .add(Heartbeat, {
      sendHeartbeat() {
        handled++;
        return { success: true };
      },
    })
    .add(SystemRegisterSync, {
      async *fullSync() {
        handled++;
        yield entry(1);
      },
    });
  const port = await server.listen();
  using bad = new GrpcChannel(`127.0.0.1:${port}`, { token: "wrong" });
  await rejectsWith(
    createClient(Heartbeat, bad).sendHeartbeat({}),
    "unauthenticated",
    /wrong token/,
  );
  await rejectsWith(
    Array.fromAsync(createClient(SystemRegisterSync, bad).fullSync({})),
    "unauthenticated",
    /wrong token/,
  );
  assert.equal(handled, 0);
  using good = new GrpcChannel(`127.0.0.1:${port}`, { token: "ok" });
  assert.equal((await createClient(Heartbeat, good).sendHeartbeat({})).success, true);
  assert.equal(
    (await Array.fromAsync(createClient(SystemRegisterSync, good).fullSync({}))).length,
    1,
  );
  assert.equal(handled, 2);
});

Deno.test("a call past its deadline fails with deadline_exceeded and aborts the handler's signal", async () => {
  const { promise: handlerAborted, resolve: abortedWith } = Promise.withResolvers<unknown>();
  let deadline: number | undefined;
  await using server = new GrpcServer().add(Heartbeat, {
    async sendHeartbeat(_beat, context) {
      deadline = context.deadline;
      const { promise, resolve } = Promise.withResolvers<void>();
      context.signal.addEventListener("abort", () => resolve());
      await promise;
      abortedWith(context.signal.reason);
      return {};
    },
  });
  using channel = new GrpcChannel(`127.0.0.1:${await server.listen()}`, { timeoutMs: 10_000 });
  const started = Date.now();
  await rejectsWith(
    createClient(Heartbeat, channel).sendHeartbeat({}, { timeoutMs: 50 }),
    "deadline_exceeded",
    /^\/sorcha\.peer\.v1\.Heartbeat\/SendHeartbeat: .*\(DEADLINE_EXCEEDED\)$/,
  );
  const reason = await handlerAborted;
  assert.ok(reason instanceof AppError);
  assert.ok(deadline !== undefined && deadline >= started && deadline <= Date.now() + 1000);
});

Deno.test("a caller's signal cancels the call: it rejects with the signal's reason", async () => {
  const { promise: handlerStarted, resolve: started } = Promise.withResolvers<void>();
  const { promise: handlerAborted, resolve: aborted } = Promise.withResolvers<void>();
  await using server = new GrpcServer().add(Heartbeat, {
    async sendHeartbeat(_beat, context) {
      started();
      await new Promise<void>((resolve) =>
        context.signal.addEventListener("abort", () => resolve())
      );
      aborted();
      return {};
    },
  });
  using channel = new GrpcChannel(`127.0.0.1:${await server.listen()}`);
  const controller = new AbortController();
  const call = createClient(Heartbeat, channel).sendHeartbeat({}, { signal: controller.signal });
  await handlerStarted;
  const reason = new Error("caller gave up");
  controller.abort(reason);
  await assert.rejects(call, (error: unknown) => error === reason);
  await handlerAborted;
});

Deno.test("a server that cannot be reached is an unavailable error naming the method", async () => {
  using channel = new GrpcChannel(`127.0.0.1:${freePort()}`);
  await rejectsWith(
    createClient(Heartbeat, channel).sendHeartbeat({}),
    "unavailable",
    /^\/sorcha\.peer\.v1\.Heartbeat\/SendHeartbeat: .+ \(UNAVAILABLE\)$/,
  );
});

Deno.test("a server stream delivers every entry in order, then ends", async () => {
  await using server = new GrpcServer().add(SystemRegisterSync, {
    async *fullSync(request) {
      for (let version = 1; version <= request.maxBlueprints; version++) yield entry(version);
    },
  });
  using channel = new GrpcChannel(`127.0.0.1:${await server.listen()}`);
  const client = createClient(SystemRegisterSync, channel);

  const versions: bigint[] = [];
  for await (const received of client.fullSync({ peerId: "p", maxBlueprints: 500 })) {
    versions.push(received.version);
    if (received.version === 250n) {
      assert.equal(received.registerId, SYSTEM_REGISTER_ID);
      assert.deepEqual(received.metadata, { kind: "test", n: "250" });
      assert.deepEqual(received.blueprintDocument, entry(250).blueprintDocument);
    }
  }
  assert.deepEqual(versions, Array.from({ length: 500 }, (_, i) => BigInt(i + 1)));
});

Deno.test("a server stream may yield responses already encoded, mixed with messages", async () => {
  await using server = new GrpcServer().add(SystemRegisterSync, {
    async *fullSync() {
      for (let version = 1; version <= 300; version++) {
        yield version % 2 ? entry(version) : encoded(
          SystemRegisterEntrySchema,
          toBinary(SystemRegisterEntrySchema, create(SystemRegisterEntrySchema, entry(version))),
        );
      }
    },
  });
  using channel = new GrpcChannel(`127.0.0.1:${await server.listen()}`);
  const received = [];
  for await (const message of createClient(SystemRegisterSync, channel).fullSync({})) {
    received.push(message);
  }
  assert.deepEqual(
    received.map((m) => m.version),
    Array.from({ length: 300 }, (_, i) => BigInt(i + 1)),
  );
  assert.deepEqual(received[149]!.metadata, { kind: "test", n: "150" });
  assert.deepEqual(received[149]!.blueprintDocument, entry(150).blueprintDocument);
});

Deno.test("without pipelining (a response window of 0), a server stream still delivers in order", async () => {
  await using server = new GrpcServer({ responseWindowBytes: 0 }).add(SystemRegisterSync, {
    async *fullSync() {
      for (let version = 1; version <= 200; version++) yield entry(version, 2048);
    },
  });
  using channel = new GrpcChannel(`127.0.0.1:${await server.listen()}`);
  const versions: bigint[] = [];
  for await (const message of createClient(SystemRegisterSync, channel).fullSync({})) {
    versions.push(message.version);
  }
  assert.deepEqual(versions, Array.from({ length: 200 }, (_, i) => BigInt(i + 1)));
});

Deno.test("an error in a server stream ends it with the handler's code and message", async () => {
  await using server = new GrpcServer().add(SystemRegisterSync, {
    async *incrementalSync() {
      yield entry(1);
      yield entry(2);
      throw new AppError("unavailable", "store failed at version 3");
    },
  });
  using channel = new GrpcChannel(`127.0.0.1:${await server.listen()}`);
  const versions: bigint[] = [];
  await rejectsWith(
    (async () => {
      for await (
        const received of createClient(SystemRegisterSync, channel).incrementalSync({})
      ) versions.push(received.version);
    })(),
    "unavailable",
    /^store failed at version 3$/,
  );
  // grpc-js hands a failed status to the client as soon as it arrives, dropping
  // messages the reader had not taken yet: the entries seen are a prefix.
  assert.deepEqual(versions, [1n, 2n].slice(0, versions.length));
});

Deno.test("leaving a server stream early cancels it and closes the handler's generator", async () => {
  const { promise: generatorClosed, resolve: closed } = Promise.withResolvers<boolean>();
  await using server = new GrpcServer().add(SystemRegisterSync, {
    async *subscribeToPushNotifications(_request, context) {
      try {
        for (let n = 1n;; n++) {
          yield {
            blueprintId: "b",
            version: n,
            type: NotificationType.BLUEPRINT_PUBLISHED,
            sequenceNumber: n,
          };
        }
      } finally {
        closed(context.signal.aborted);
      }
    },
  });
  using channel = new GrpcChannel(`127.0.0.1:${await server.listen()}`);
  const seen: bigint[] = [];
  for await (
    const notification of createClient(SystemRegisterSync, channel)
      .subscribeToPushNotifications({ peerId: "p" })
  ) {
    seen.push(notification.sequenceNumber);
    if (seen.length === 3) break;
  }
  assert.deepEqual(seen, [1n, 2n, 3n]);
  assert.equal(await generatorClosed, true, "closed because the call was cancelled");
});

Deno.test("a bidirectional call answers each message as it is sent, and ends when the client ends", async () => {
  await using server = new GrpcServer().add(Heartbeat, {
    async *monitorHeartbeat(beats) {
      for await (const beat of beats) {
        yield {
          success: true,
          timestamp: beat.timestamp,
          message: `ack ${beat.sequenceNumber}`,
          recommendedAction: beat.lastSyncVersion < 5n
            ? RecommendedAction.SYNC
            : RecommendedAction.NONE,
        };
      }
      yield { success: true, message: "bye" };
    },
  });
  using channel = new GrpcChannel(`127.0.0.1:${await server.listen()}`);
  using call = createClient(Heartbeat, channel).monitorHeartbeat();
  const acks = call[Symbol.asyncIterator]();

  const received: HeartbeatAcknowledgement[] = [];
  for (let sequence = 1n; sequence <= 3n; sequence++) {
    await call.send({ peerId: "p", sequenceNumber: sequence, lastSyncVersion: sequence * 2n });
    const ack = await acks.next();
    assert.equal(ack.done, false);
    received.push(ack.value as HeartbeatAcknowledgement);
  }
  call.end();
  const rest: string[] = [];
  for (let ack = await acks.next(); !ack.done; ack = await acks.next()) {
    rest.push(ack.value.message);
  }
  assert.deepEqual(received.map((ack) => ack.message), ["ack 1", "ack 2", "ack 3"]);
  assert.deepEqual(received.map((ack) => ack.recommendedAction), [
    RecommendedAction.SYNC,
    RecommendedAction.SYNC,
    RecommendedAction.NONE,
  ]);
  assert.deepEqual(rest, ["bye"]);
  await rejectsWith(call.send({ peerId: "p" }), "failed_precondition", /the call has ended$/);
});

Deno.test("a bidirectional handler's error reaches the reader and later sends", async () => {
  await using server = new GrpcServer().add(Heartbeat, {
    async *monitorHeartbeat(beats) {
      for await (const beat of beats) {
        if (beat.peerId === "") throw new AppError("invalid_argument", "peer_id is required");
        yield { success: true };
      }
    },
  });
  using channel = new GrpcChannel(`127.0.0.1:${await server.listen()}`);
  using call = createClient(Heartbeat, channel).monitorHeartbeat();
  const acks = call[Symbol.asyncIterator]();
  await call.send({ peerId: "p" });
  assert.equal((await acks.next()).value?.success, true);
  await call.send({ peerId: "" });
  await rejectsWith(acks.next(), "invalid_argument", /^peer_id is required$/);
  await rejectsWith(call.send({ peerId: "p" }), "invalid_argument", /^peer_id is required$/);
});

Deno.test("a server stream to a slow reader is held back instead of buffered whole", async () => {
  const total = 2_000;
  const documentBytes = 16 * 1024; // 2,000 entries of 16 KiB: 32 MiB in all
  let produced = 0;
  const { promise: generatorClosed, resolve: closed } = Promise.withResolvers<void>();
  await using server = new GrpcServer().add(SystemRegisterSync, {
    async *fullSync() {
      try {
        for (let version = 1; version <= total; version++) {
          produced = version;
          yield entry(version, documentBytes);
        }
      } finally {
        closed();
      }
    },
  });
  using channel = new GrpcChannel(`127.0.0.1:${await server.listen()}`);
  const entries = createClient(SystemRegisterSync, channel).fullSync({})[Symbol.asyncIterator]();

  assert.equal((await entries.next()).value?.version, 1n);
  // The reader stops. Wait until the server stops producing (two looks in a row
  // see the same count): held back by flow control, or finished if everything
  // was buffered.
  let last = -1;
  await until("the server stops producing", () => {
    const held = produced === last;
    last = produced;
    return Promise.resolve(held);
  });
  assert.ok(
    produced < total / 4,
    `the server produced ${produced} of ${total} entries for a reader that took 1`,
  );
  const heldAt = produced;

  // Reading on resumes production, and every entry arrives in order.
  let expected = 2n;
  for (let next = await entries.next(); !next.done; next = await entries.next()) {
    assert.equal(next.value.version, expected++);
  }
  assert.equal(expected, BigInt(total + 1));
  assert.ok(produced > heldAt);
  await generatorClosed;
});

Deno.test("generated enums keep the contract's values", () => {
  assert.equal(HeartbeatHealthStatus.UNKNOWN, 0);
  assert.equal(HeartbeatHealthStatus.CRITICAL, 3);
  assert.equal(HeartbeatHealthStatus.DISCONNECTED, 5);
  assert.equal(RecommendedAction.NONE, 0);
  assert.equal(RecommendedAction.RECONNECT, 4);
});

Deno.test("closing a server lets a running call finish", async () => {
  const { promise: handlerStarted, resolve: started } = Promise.withResolvers<void>();
  const { promise: released, resolve: release } = Promise.withResolvers<void>();
  await using server = new GrpcServer().add(Heartbeat, {
    async sendHeartbeat() {
      started();
      await released;
      return { message: "finished" };
    },
  });
  using channel = new GrpcChannel(`127.0.0.1:${await server.listen()}`);
  const call = createClient(Heartbeat, channel).sendHeartbeat({});
  await handlerStarted;
  const closed = server.close({ graceMs: 30_000 });
  release();
  assert.equal((await call).message, "finished");
  await closed;
});

Deno.test("closing a server cancels the calls still running after the grace period", async () => {
  const { promise: handlerStarted, resolve: started } = Promise.withResolvers<void>();
  const { promise: handlerAborted, resolve: aborted } = Promise.withResolvers<void>();
  await using server = new GrpcServer().add(Heartbeat, {
    async sendHeartbeat(_beat, context) {
      started();
      await new Promise<void>((resolve) =>
        context.signal.addEventListener("abort", () => resolve())
      );
      aborted();
      return {};
    },
  });
  using channel = new GrpcChannel(`127.0.0.1:${await server.listen()}`);
  const call = createClient(Heartbeat, channel).sendHeartbeat({});
  await handlerStarted;
  await server.close({ graceMs: 20 });
  await handlerAborted;
  await assert.rejects(call, (error: unknown) => error instanceof AppError);
});
