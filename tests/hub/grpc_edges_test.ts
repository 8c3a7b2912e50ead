/**
 * The hub's gRPC port as clients in other languages (C-core `grpcio`,
 * `grpcurl`) and plain HTTP/2 clients see it: a request that is not gRPC is
 * answered 415, reflection lists and describes `grpc.health.v1.Health`
 * beside the contract services, and a bad peer port is named like every
 * other field.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import http2 from "node:http2";
import { Client, credentials } from "@grpc/grpc-js";
import { CentralNodeConnection } from "../../gen/sorcha/peer/v1/central_node_connection_pb.ts";
import { createClient } from "../../shared/grpc/mod.ts";
import { rejectsWithCode, startTestHub } from "./hub_fixture.ts";

/** The answer of one request on a raw HTTP/2 connection: headers, then trailers, and the body. */
interface RawAnswer {
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders;
  body: Uint8Array;
}

/** Sends one POST with `headers` and `body` to `address` over plain HTTP/2 (no gRPC library). */
function rawPost(
  address: string,
  path: string,
  headers: Record<string, string>,
  body: Uint8Array,
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://${address}`);
    const fail = (error: Error) => {
      session.destroy();
      reject(error);
    };
    session.on("error", fail);
    const stream = session.request({ ":method": "POST", ":path": path, ...headers });
    let answer: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Uint8Array[] = [];
    stream.on("response", (received) => answer = received);
    stream.on("trailers", (received) => trailers = received);
    stream.on("data", (chunk: Uint8Array) => chunks.push(chunk));
    stream.on("error", fail);
    stream.on("end", () => {
      session.close(() =>
        resolve({ headers: answer, trailers, body: new Uint8Array(Buffer.concat(chunks)) })
      );
    });
    stream.end(body);
  });
}

/** A gRPC frame: not compressed, the length, the message. */
function frame(message: Uint8Array): Uint8Array {
  const framed = new Uint8Array(5 + message.length);
  new DataView(framed.buffer).setUint32(1, message.length);
  framed.set(message, 5);
  return framed;
}

const STATUS_PATH = "/sorcha.peer.v1.CentralNodeConnection/GetCentralNodeStatus";

Deno.test("a request that is not gRPC is answered 415 without a grpc-status, a gRPC one 200", async () => {
  await using hub = await startTestHub();

  for (const type of ["application/json", "text/plain"]) {
    const answer = await rawPost(
      hub.address,
      STATUS_PATH,
      { "content-type": type },
      frame(
        new Uint8Array(),
      ),
    );
    assert.equal(answer.headers[":status"], 415, `${type}: 415 Unsupported Media Type`);
    assert.equal(answer.headers["grpc-status"], undefined, type);
    assert.equal(answer.trailers["grpc-status"], undefined, type);
  }
  const none = await rawPost(hub.address, STATUS_PATH, {}, new Uint8Array());
  assert.equal(none.headers[":status"], 415, "no content type: 415");

  const grpc = await rawPost(
    hub.address,
    STATUS_PATH,
    { "content-type": "application/grpc", te: "trailers" },
    frame(new Uint8Array()),
  );
  assert.equal(grpc.headers[":status"], 200);
  assert.equal(grpc.trailers["grpc-status"], "0");
});

const serialize = (bytes: Uint8Array) => Buffer.from(bytes);
const deserialize = (bytes: Buffer) => new Uint8Array(bytes);

/** One request to server reflection (`version`); resolves with the answers' bytes as text. */
function reflect(address: string, version: "v1" | "v1alpha", request: Uint8Array): Promise<string> {
  const client = new Client(address, credentials.createInsecure());
  return new Promise<string>((resolve, reject) => {
    const call = client.makeBidiStreamRequest(
      `/grpc.reflection.${version}.ServerReflection/ServerReflectionInfo`,
      serialize,
      deserialize,
    );
    const chunks: Uint8Array[] = [];
    call.on("data", (bytes: Uint8Array) => chunks.push(bytes));
    call.on("error", reject);
    call.on("end", () => resolve(new TextDecoder().decode(Buffer.concat(chunks))));
    call.write(request);
    call.end();
  }).finally(() => client.close());
}

/** A ServerReflectionRequest with string field `field` set to `value`. */
function reflectionRequest(field: number, value: string): Uint8Array {
  const bytes = new TextEncoder().encode(value);
  return new Uint8Array([(field << 3) | 2, bytes.length, ...bytes]);
}

Deno.test("server reflection lists grpc.health.v1.Health beside the contract services, and describes it", async () => {
  await using hub = await startTestHub();

  for (const version of ["v1", "v1alpha"] as const) {
    // list_services (field 7).
    const listed = await reflect(hub.address, version, reflectionRequest(7, ""));
    for (
      const name of [
        "grpc.health.v1.Health",
        "sorcha.peer.v1.CentralNodeConnection",
        "sorcha.peer.v1.Heartbeat",
        "sorcha.peer.v1.SystemRegisterSync",
      ]
    ) {
      assert.ok(listed.includes(name), `${name} listed by ${version}: ${JSON.stringify(listed)}`);
    }
    // file_containing_symbol (field 4): what grpcurl asks to describe the service.
    const described = await reflect(
      hub.address,
      version,
      reflectionRequest(4, "grpc.health.v1.Health"),
    );
    for (const part of ["HealthCheckRequest", "HealthCheckResponse", "Check", "Watch"]) {
      assert.ok(described.includes(part), `${part} described by ${version}`);
    }
  }
});

Deno.test("peer_info.port out of range is named with the port message, whichever side it is off", async () => {
  await using hub = await startTestHub();
  using channel = hub.channel();
  const client = createClient(CentralNodeConnection, channel);

  for (const port of [-1, -65535, 65536]) {
    await rejectsWithCode(
      client.connectToCentralNode({ peerId: "peer-1", peerInfo: { address: "10.0.0.1", port } }),
      "invalid_argument",
      /^Cannot connect peer "peer-1": peer_info\.port must be a port \(1-65535\)$/,
    );
  }
  await rejectsWithCode(
    client.connectToCentralNode({
      peerId: "peer-1",
      peerInfo: { address: "10.0.0.1", port: 4000, supportedProtocols: ["x".repeat(65)] },
    }),
    "invalid_argument",
    /peer_info\.supported_protocols\[0\] must be at most 64 characters$/,
  );
  assert.equal(hub.sessions.activeCount(), 0, "nothing changed");
});
