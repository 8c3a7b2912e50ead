/**
 * The hub's gRPC server: the three contract services, the standard
 * `grpc.health.v1.Health` service and server reflection (v1 and v1alpha, so
 * `grpcurl` works without proto files; it lists the contract services and
 * Health). With a NETWORK_TOKEN, the contract
 * services need `authorization: Bearer <token>`; health and reflection stay
 * open, as load balancers and tools expect.
 *
 * @module
 */
import { type DescFile, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { ReflectionService } from "@grpc/reflection";
import type { Logger } from "@logtape/logtape";
import {
  HealthImplementation,
  service as healthService,
  type ServingStatus,
} from "grpc-health-check";
import {
  CentralNodeConnection,
  file_sorcha_peer_v1_central_node_connection,
} from "../../gen/sorcha/peer/v1/central_node_connection_pb.ts";
import { file_sorcha_peer_v1_heartbeat, Heartbeat } from "../../gen/sorcha/peer/v1/heartbeat_pb.ts";
import {
  file_sorcha_peer_v1_system_register_sync,
  SystemRegisterSync,
} from "../../gen/sorcha/peer/v1/system_register_sync_pb.ts";
import { secretsEqual } from "../../shared/http/mod.ts";
import { AppError } from "../../shared/errors.ts";
import { bearerToken, type CallContext, GrpcServer } from "../../shared/grpc/mod.ts";
import { connectionService } from "./connection_service.ts";
import type { HubContext } from "./context.ts";
import { heartbeatService } from "./heartbeat_service.ts";
import { syncService } from "./sync_service.ts";

/** The contract's proto files, for reflection. */
export const CONTRACT_FILES: readonly DescFile[] = [
  file_sorcha_peer_v1_central_node_connection,
  file_sorcha_peer_v1_heartbeat,
  file_sorcha_peer_v1_system_register_sync,
];

/** The fully qualified names of the contract services. */
export const CONTRACT_SERVICES: readonly string[] = [
  CentralNodeConnection.typeName,
  Heartbeat.typeName,
  SystemRegisterSync.typeName,
];

/** Options of {@link createHubGrpcServer}. */
export interface HubGrpcServerOptions {
  /** When set, contract calls need it as a bearer token. */
  networkToken?: string | undefined;
  /** Where unexpected errors are logged. */
  logger?: Logger;
}

/** The hub's gRPC server and its health service. */
export interface HubGrpcServer {
  /** The server; listen on it. */
  server: GrpcServer;
  /** Sets the health of the whole server (`""`) and of each contract service. */
  setServing(serving: boolean): void;
}

/** Checks a call's bearer token against `token`. */
function requireNetworkToken(token: string) {
  return async (context: CallContext): Promise<void> => {
    const given = bearerToken(context.metadata);
    if (given === undefined || !await secretsEqual(given, token)) {
      throw new AppError(
        "unauthenticated",
        `Cannot call ${context.method.parent.typeName}/${context.method.name}: ${
          given === undefined ? "no" : "a wrong"
        } NETWORK_TOKEN in the authorization metadata (expected "Bearer <token>")`,
      );
    }
  };
}

/**
 * A reflection root in the shape @grpc/reflection reads from a proto-loader
 * package definition: the contract's files and grpc-health-check's own
 * `grpc.health.v1` file (its service definition is proto-loader's, whose
 * message types carry their files), so reflection lists Health too.
 */
function reflectionRoot(files: readonly DescFile[]) {
  const fileDescriptorProtos = files.map((file) => toBinary(FileDescriptorProtoSchema, file.proto));
  const health = healthService.Check?.requestType.fileDescriptorProtos ?? [];
  return { contract: { fileDescriptorProtos }, health: { fileDescriptorProtos: health } };
}

/** Builds the hub's gRPC server over `hub` (not listening yet). */
export function createHubGrpcServer(
  hub: HubContext,
  options: HubGrpcServerOptions = {},
): HubGrpcServer {
  const server = new GrpcServer({
    logger: options.logger,
    guard: options.networkToken ? requireNetworkToken(options.networkToken) : undefined,
    serverOptions: {
      "grpc.max_receive_message_length": 4 * 1024 * 1024,
      "grpc.max_send_message_length": 20 * 1024 * 1024,
      // Finds dead clients (stalled subscribers behind a lost connection).
      "grpc.keepalive_time_ms": 30_000,
      "grpc.keepalive_timeout_ms": 10_000,
      // Peers' own keepalive pings (every 10 s, every second in tests, also without calls) are
      // permitted: grpc-js's server (1.14.7, server.js) does not police pings. It has no
      // equivalent of C-core's grpc.http2.min_ping_interval_without_data_ms or max_ping_strikes,
      // never answers GOAWAY too_many_pings, and HTTP/2 acknowledges every PING. A GOAWAY to an
      // idle client can abort a Deno client process, so keep it that way on any other server
      // (tests/hub/keepalive_test.ts holds it).
    },
  })
    .add(CentralNodeConnection, connectionService(hub))
    .add(Heartbeat, heartbeatService(hub))
    .add(SystemRegisterSync, syncService(hub));
  const health = new HealthImplementation({ "": "SERVING" });
  health.addToServer(server.server);
  // @grpc/reflection types its argument as a proto-loader PackageDefinition; it reads only fileDescriptorProtos.
  new ReflectionService(reflectionRoot(CONTRACT_FILES) as never).addToServer(server.server);
  return {
    server,
    setServing(serving) {
      const status: ServingStatus = serving ? "SERVING" : "NOT_SERVING";
      health.setStatus("", status);
      for (const name of CONTRACT_SERVICES) health.setStatus(name, status);
    },
  };
}
