/**
 * gRPC with grpc-js for protobuf-es v2 services (generated into `gen/` by
 * `deno task gen`): service definitions and handlers from service
 * descriptors, a server, typed clients over a channel, and errors crossing
 * calls as {@link AppError}s with standard gRPC status codes.
 *
 * ```ts
 * await using server = new GrpcServer().add(Heartbeat, { sendHeartbeat: (beat) => ({ success: true }) });
 * const port = await server.listen({ port: 0 });
 * using channel = new GrpcChannel(`127.0.0.1:${port}`, { token: "secret" });
 * const ack = await createClient(Heartbeat, channel).sendHeartbeat({ peerId: "p1" });
 * ```
 *
 * @module
 */
export * from "./channel.ts";
export * from "./client.ts";
export * from "./coalescing.ts";
export * from "./definition.ts";
export * from "./handlers.ts";
export * from "./metadata.ts";
export * from "./pipelining.ts";
export * from "./response_writers.ts";
export * from "./server.ts";
export * from "./status.ts";
export * from "./streams.ts";
export { routeGrpcLogs } from "./logging.ts";
