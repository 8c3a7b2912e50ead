/**
 * Coalesced socket writes: a socket is corked once per turn and uncorked on
 * the next tick, and the pinned grpc-js hands its first server interceptor a
 * call whose connection's socket can be found (so coalescing is not
 * silently lost with an upgrade); the check made at start says so, and
 * would say when it cannot.
 */
import assert from "node:assert/strict";
import process from "node:process";
import { Server, ServerInterceptingCall } from "@grpc/grpc-js";
import { Heartbeat } from "../../gen/sorcha/peer/v1/heartbeat_pb.ts";
import {
  assertCoalescing,
  callSocket,
  type CorkableSocket,
  corkUntilNextTick,
  createClient,
  findsCallSocket,
  GrpcChannel,
  serviceDefinition,
  serviceImplementation,
} from "../../shared/grpc/mod.ts";
import { bindLoopback } from "../fixtures/grpc.ts";

class CountingSocket implements CorkableSocket {
  corks = 0;
  uncorks = 0;
  cork(): void {
    this.corks++;
  }
  uncork(): void {
    this.uncorks++;
  }
}

function nextTick(): Promise<void> {
  return new Promise((resolve) => process.nextTick(resolve));
}

Deno.test("a socket is corked once per turn, however many writes, and uncorked on the next tick", async () => {
  const a = new CountingSocket();
  const b = new CountingSocket();
  for (let n = 0; n < 50; n++) corkUntilNextTick(n % 2 ? a : b);
  assert.deepEqual([a.corks, a.uncorks, b.corks, b.uncorks], [1, 0, 1, 0]);
  await nextTick();
  assert.deepEqual([a.corks, a.uncorks, b.corks, b.uncorks], [1, 1, 1, 1]);
  corkUntilNextTick(a); // a new turn: corked again
  assert.equal(a.corks, 2);
  await nextTick();
  assert.equal(a.uncorks, 2);
});

Deno.test("a socket whose connection is gone is neither corked nor a failure", async () => {
  const gone: CorkableSocket = {
    cork: () => {
      throw new Error("The socket has been disconnected from the Http2Session");
    },
    uncork: () => {
      throw new Error("The socket has been disconnected from the Http2Session");
    },
  };
  corkUntilNextTick(gone);
  const going = new CountingSocket();
  corkUntilNextTick(going);
  going.uncork = () => {
    throw new Error("The socket has been disconnected from the Http2Session");
  };
  await nextTick();
  assert.equal(going.corks, 1);
});

Deno.test("the first server interceptor of grpc-js is handed a call whose socket can be corked", async () => {
  const sockets: (CorkableSocket | undefined)[] = [];
  const server = new Server({
    interceptors: [(_method, call) => {
      sockets.push(callSocket(call));
      return new ServerInterceptingCall(call);
    }],
  });
  server.addService(
    serviceDefinition(Heartbeat),
    serviceImplementation(Heartbeat, { sendHeartbeat: () => ({ success: true }) }),
  );
  const port = await bindLoopback(server);
  try {
    using channel = new GrpcChannel(`127.0.0.1:${port}`);
    const ack = await createClient(Heartbeat, channel).sendHeartbeat({ peerId: "peer-1" });
    assert.equal(ack.success, true);
    assert.equal(sockets.length, 1);
    assert.equal(typeof sockets[0]?.cork, "function");
    assert.equal(typeof sockets[0]?.uncork, "function");
  } finally {
    server.forceShutdown();
  }
});

Deno.test("the check made at start finds the socket with the pinned grpc-js, and would not without it", async () => {
  assert.equal(await findsCallSocket(), true);
  assert.equal(await findsCallSocket(() => undefined), false);
  await assertCoalescing();
});
