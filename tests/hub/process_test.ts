/**
 * The hub as an operator runs it: `deno task hub`'s command line (its own
 * permissions, not `-A`) as a real process on loopback ports, serving gRPC
 * and HTTP, stopped and restarted on the same DATA_DIR, and refusing to
 * start with one line on standard error.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { credentials } from "@grpc/grpc-js";
import { CentralNodeConnection } from "../../gen/sorcha/peer/v1/central_node_connection_pb.ts";
import { Heartbeat } from "../../gen/sorcha/peer/v1/heartbeat_pb.ts";
import { SystemRegisterSync } from "../../gen/sorcha/peer/v1/system_register_sync_pb.ts";
import { createClient, GrpcChannel, type GrpcChannelOptions } from "../../shared/grpc/mod.ts";
import { callApp, type CallResult } from "../fixtures/http.ts";
import { freePort } from "../fixtures/ports.ts";
import { type ServiceProcess, startService } from "../fixtures/service_process.ts";
import { tempDir } from "../fixtures/wait.ts";
import { collect } from "./hub_fixture.ts";
import { opensslMissing, selfSignedCertificate } from "../fixtures/tls.ts";

/** `deno task hub`'s arguments to `deno`, as deno.json defines them. */
async function hubTaskArgs(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)));
  const [deno, ...args] = String(config.tasks.hub).split(/\s+/);
  assert.equal(deno, "deno");
  assert.ok(
    !args.includes("-A") && !args.includes("--allow-all"),
    "the task names its permissions",
  );
  return args;
}

interface RunningHub {
  process: ServiceProcess;
  grpcPort: number;
  channel(options?: GrpcChannelOptions): GrpcChannel;
}

async function startHubProcess(env: Record<string, string>): Promise<RunningHub & AsyncDisposable> {
  const grpcPort = freePort();
  const process = await startService("hub/main.ts", {
    args: await hubTaskArgs(),
    env: { HUB_ID: "hub-proc", GRPC_PORT: String(grpcPort), ...env },
  });
  return {
    process,
    grpcPort,
    channel: (options) => new GrpcChannel(`127.0.0.1:${grpcPort}`, options),
    [Symbol.asyncDispose]: () => process[Symbol.asyncDispose](),
  };
}

/** Runs the task's command line to its exit. */
async function runHubToExit(env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: await hubTaskArgs(),
    env: { NO_COLOR: "1", HOST: "127.0.0.1", PORT: "0", GRPC_PORT: "0", ...env },
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

function http(
  hub: RunningHub,
  method: string,
  path: string,
  body?: unknown,
  headers?: Record<string, string>,
): Promise<CallResult> {
  return callApp({ request: (p, init) => fetch(hub.process.url + p, init) }, {
    method,
    path,
    body,
    headers,
  });
}

Deno.test("the hub process serves gRPC and HTTP, and stops cleanly on SIGTERM", async () => {
  await using dataDir = await tempDir("hub-data-");
  await using hub = await startHubProcess({
    DATA_DIR: dataDir.path,
    NETWORK_TOKEN: "net",
    API_TOKEN: "api",
  });

  const info = await http(hub, "GET", "/api/node/info");
  assert.equal(info.status, 200);
  assert.equal(info.body.hubId, "hub-proc");
  assert.equal(info.body.grpcPort, hub.grpcPort);
  assert.equal(info.body.networkTokenRequired, true);
  assert.equal((await http(hub, "GET", "/readyz")).body.ready, true);

  const published = await http(hub, "POST", "/api/system-register/blueprints", {
    blueprintId: "bp-proc",
    document: { title: "From a test" },
  }, { authorization: "Bearer api" });
  assert.equal(published.status, 201, JSON.stringify(published.body));
  assert.equal(published.body.version, 2);

  using channel = hub.channel({ token: "net", timeoutMs: 10_000 });
  const connection = createClient(CentralNodeConnection, channel);
  const answer = await connection.connectToCentralNode({
    peerId: "peer-1",
    peerInfo: { address: "127.0.0.1", port: 7000 },
  });
  assert.equal(answer.centralNodeId, "hub-proc");
  assert.equal(answer.currentSystemRegisterVersion, 2n);
  const ack = await createClient(Heartbeat, channel).sendHeartbeat({
    peerId: "peer-1",
    sessionId: answer.sessionId,
    sequenceNumber: 1n,
    timestamp: BigInt(Date.now()),
    lastSyncVersion: 2n,
  });
  assert.equal(ack.success, true);
  const entries = await collect(
    createClient(SystemRegisterSync, channel).fullSync({ peerId: "peer-1" }),
  );
  assert.deepEqual(entries.map((e) => [e.blueprintId, e.version]), [
    ["register-creation-v1", 1n],
    ["bp-proc", 2n],
  ]);
  const peers = await http(hub, "GET", "/api/peers");
  assert.equal(peers.body.activePeers, 1);
  assert.equal(peers.body.peers[0].heartbeatsReceived, 1);
  channel.close();

  assert.equal(await hub.process.stop("SIGTERM"), 0);
  assert.match(hub.process.stderr(), /hub stopped/);
});

Deno.test("a hub restarted on the same DATA_DIR keeps its register and does not create genesis again", async () => {
  await using dataDir = await tempDir("hub-data-");
  let before: CallResult;
  let genesis: CallResult;
  {
    await using hub = await startHubProcess({ DATA_DIR: dataDir.path });
    assert.match(hub.process.stderr(), /Created the system register with register-creation-v1/);
    for (const [id, title] of [["bp-a", "A"], ["bp-b", "B"], ["bp-a", "A2"]]) {
      const res = await http(hub, "POST", "/api/system-register/blueprints", {
        blueprintId: id,
        document: { title },
      });
      assert.equal(res.status, 201);
    }
    before = await http(hub, "GET", "/api/system-register");
    genesis = await http(hub, "GET", "/api/system-register/blueprints/register-creation-v1");
    assert.equal(await hub.process.stop("SIGTERM"), 0);
  }
  assert.equal(before.body.currentVersion, 4);
  assert.equal(before.body.entryCount, 4);

  await using hub = await startHubProcess({ DATA_DIR: dataDir.path });
  assert.doesNotMatch(hub.process.stderr(), /Created the system register/);
  const after = await http(hub, "GET", "/api/system-register");
  assert.equal(after.body.currentVersion, 4);
  assert.equal(after.body.entryCount, 4, "no second genesis entry");
  assert.equal(after.body.blueprintCount, 3);
  assert.equal(after.body.integrity.state, "intact");
  assert.equal(after.body.integrity.entries, 4, "the whole register was checked at start");
  const genesisAfter = await http(
    hub,
    "GET",
    "/api/system-register/blueprints/register-creation-v1",
  );
  assert.equal(genesisAfter.body.version, 1);
  assert.deepEqual(genesisAfter.body, genesis.body, "the same genesis entry");
  const list = await http(hub, "GET", "/api/system-register/blueprints");
  assert.deepEqual(
    list.body.blueprints.map((b: { blueprintId: string; version: number }) => [
      b.blueprintId,
      b.version,
    ]),
    [["register-creation-v1", 1], ["bp-b", 3], ["bp-a", 4]],
  );

  const next = await http(hub, "POST", "/api/system-register/blueprints", {
    blueprintId: "bp-c",
    document: {},
  });
  assert.equal(next.body.version, 5, "versions go on from where they were");
});

Deno.test("a hub whose hostname does not match HUB_HOSTNAME_PATTERN exits 1 with one line on stderr", async () => {
  await using dataDir = await tempDir("hub-data-");
  const result = await runHubToExit({
    DATA_DIR: dataDir.path,
    HUB_HOSTNAME_PATTERN: "never-this-host-[0-9]+",
  });
  assert.equal(result.code, 1);
  assert.equal(
    result.stderr.trim(),
    `Refusing to start: hostname ${
      JSON.stringify(Deno.hostname())
    } does not match HUB_HOSTNAME_PATTERN="never-this-host-[0-9]+" (a regular expression the whole hostname must match)`,
  );
  assert.deepEqual([...Deno.readDirSync(dataDir.path)], [], "nothing was created");
});

Deno.test("a hub given a TLS file it cannot read, or one that is not PEM, exits 1 with one line naming the variable", async () => {
  await using dataDir = await tempDir("hub-data-");
  const notPem = `${dataDir.path}/not.pem`;
  await Deno.writeTextFile(notPem, "hello");

  const missing = await runHubToExit({
    DATA_DIR: dataDir.path,
    GRPC_TLS_CERT: `${dataDir.path}/missing-cert.pem`,
    GRPC_TLS_KEY: notPem,
  });
  assert.equal(missing.code, 1);
  assert.match(
    missing.stderr.trim(),
    /^Invalid configuration: GRPC_TLS_CERT=".*missing-cert\.pem": cannot read the PEM file \(.+\)$/,
  );

  const garbage = await runHubToExit({
    DATA_DIR: dataDir.path,
    GRPC_TLS_CERT: notPem,
    GRPC_TLS_KEY: notPem,
  });
  assert.equal(garbage.code, 1);
  assert.equal(
    garbage.stderr.trim(),
    `Invalid configuration: GRPC_TLS_CERT=${
      JSON.stringify(notPem)
    }: expected a PEM file (no "-----BEGIN" line in it)`,
  );
});

const noOpenssl = opensslMissing();
if (noOpenssl) console.warn(`Skipping the hub process TLS test: ${noOpenssl}`);

Deno.test({
  name: `the hub process serves gRPC over TLS from GRPC_TLS_CERT and GRPC_TLS_KEY${
    noOpenssl ? ` (skipped: ${noOpenssl})` : ""
  }`,
  ignore: noOpenssl !== undefined,
  async fn() {
    await using dataDir = await tempDir("hub-data-");
    const { cert, key } = await selfSignedCertificate(dataDir.path);

    await using hub = await startHubProcess({
      DATA_DIR: dataDir.path,
      GRPC_TLS_CERT: cert,
      GRPC_TLS_KEY: key,
    });
    assert.equal((await http(hub, "GET", "/api/node/info")).body.grpcTls, true);
    using channel = hub.channel({
      credentials: credentials.createSsl(Buffer.from(await Deno.readFile(cert))),
      // Deno's TLS takes no IP address as server name: the certificate's name is checked.
      channelOptions: { "grpc.ssl_target_name_override": "localhost" },
      timeoutMs: 10_000,
    });
    const status = await createClient(CentralNodeConnection, channel).getCentralNodeStatus({});
    assert.equal(status.nodeId, "hub-proc");
    channel.close();
    assert.equal(await hub.process.stop("SIGTERM"), 0);
  },
});
