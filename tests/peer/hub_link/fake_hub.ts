/**
 * A hub that tells lies, for tests of what a peer refuses: a gRPC server
 * with the contract's services whose sync streams serve the entries a test
 * gives (a wrong checksum, a wrong digest) and whose other calls answer like
 * a healthy hub.
 *
 * @module
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  CentralNodeConnection,
  NodeHealth,
} from "../../../gen/sorcha/peer/v1/central_node_connection_pb.ts";
import {
  Heartbeat,
  type HeartbeatAcknowledgementSchema,
} from "../../../gen/sorcha/peer/v1/heartbeat_pb.ts";
import {
  type SystemRegisterEntrySchema,
  SystemRegisterSync,
} from "../../../gen/sorcha/peer/v1/system_register_sync_pb.ts";
import { digestOf } from "../../../shared/contracts/active_set_digest.ts";
import { documentChecksum } from "../../../shared/contracts/checksum.ts";
import { SYSTEM_REGISTER_ID } from "../../../shared/contracts/system_register.ts";
import { GrpcServer } from "../../../shared/grpc/mod.ts";

/** An entry the fake hub serves. */
export type FakeEntry = MessageInitShape<typeof SystemRegisterEntrySchema>;

const encoder = new TextEncoder();

/** A well-formed entry of `blueprintId` at `version`. */
export function fakeEntry(blueprintId: string, version: number): FakeEntry {
  const document = encoder.encode(JSON.stringify({ title: blueprintId, version }));
  return {
    blueprintId,
    registerId: SYSTEM_REGISTER_ID,
    blueprintDocument: document,
    publishedAt: BigInt(Date.UTC(2026, 0, 1) + version),
    publishedBy: "fake",
    version: BigInt(version),
    isActive: true,
    publicationTransactionId: `tx-${version}`,
    checksum: documentChecksum(document),
    metadata: {},
  };
}

/** The digest a truthful hub would send for `entries`. */
export function truthfulDigest(entries: readonly FakeEntry[]): string {
  return digestOf(entries.map((e) => ({
    blueprintId: e.blueprintId!,
    version: Number(e.version),
    checksum: e.checksum!,
  })));
}

/** Options of {@link startFakeHub}. */
export interface FakeHubOptions {
  /** What a sync stream after `after` sends (called once per stream, counting from 1). */
  entries: (after: number, stream: number) => FakeEntry[];
  /** Fields of the answer to the `beat`th heartbeat (counting from 1), beyond a healthy one. */
  acknowledge?: (
    beat: number,
  ) => Omit<MessageInitShape<typeof HeartbeatAcknowledgementSchema>, "$typeName">;
  /** The heartbeat interval the hub announces, in seconds (default 30). */
  heartbeatIntervalSeconds?: number;
}

/** A running fake hub. */
export interface FakeHub extends AsyncDisposable {
  /** `127.0.0.1:<port>`. */
  readonly address: string;
  /** Sync streams served so far. */
  readonly streams: number;
}

/** Starts a fake hub on a free loopback port. */
export async function startFakeHub(options: FakeHubOptions): Promise<FakeHub> {
  let streams = 0;
  let beats = 0;
  const head = () => {
    const all = options.entries(0, 0);
    return all.length ? Number(all.at(-1)!.version) : 0;
  };
  async function* sync(request: { lastKnownVersion: bigint }) {
    streams++;
    for (const entry of options.entries(Number(request.lastKnownVersion), streams)) yield entry;
  }
  const server = new GrpcServer()
    .add(CentralNodeConnection, {
      connectToCentralNode: () => ({
        success: true,
        sessionId: crypto.randomUUID(),
        centralNodeId: "fake",
        currentSystemRegisterVersion: BigInt(head()),
        heartbeatIntervalSeconds: options.heartbeatIntervalSeconds ?? 30,
        genesisChecksum: `sha256:${"f".repeat(64)}`,
      }),
      disconnectFromCentralNode: () => ({ success: true }),
      getCentralNodeStatus: () => ({ nodeId: "fake", health: NodeHealth.HEALTHY }),
    })
    .add(Heartbeat, {
      sendHeartbeat: () => ({
        success: true,
        centralNodeId: "fake",
        currentSystemRegisterVersion: BigInt(head()),
        ...options.acknowledge?.(++beats),
      }),
    })
    .add(SystemRegisterSync, {
      fullSync: () => sync({ lastKnownVersion: 0n }),
      incrementalSync: (request) => sync(request),
      async *subscribeToPushNotifications(_request, context) {
        yield { version: BigInt(head()) };
        await new Promise((resolve) => context.signal.addEventListener("abort", resolve));
      },
      getSyncCheckpoint: () => ({ currentVersion: BigInt(head()), centralNodeId: "fake" }),
    });
  const port = await server.listen({ port: 0 });
  return {
    address: `127.0.0.1:${port}`,
    get streams() {
      return streams;
    },
    [Symbol.asyncDispose]: () => server.close({ graceMs: 0 }),
  };
}
