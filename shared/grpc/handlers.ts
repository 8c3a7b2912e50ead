/**
 * grpc-js handlers for a protobuf-es service from an implementation object
 * typed by the service descriptor: a unary handler returns the response, a
 * server-streaming handler is an async generator of responses (or returns
 * `pushed` responses, written as they happen through a sink, for fan-out),
 * and a bidirectional handler reads its requests as an async iterable and is
 * an async generator of responses. Messages are encoded by protobuf-es (see
 * `definition.ts`; a streaming handler may also yield responses already
 * encoded, see `Encoded`); how streamed responses are written is
 * `response_writers.ts`. A handler that throws ends the call with its
 * {@link AppError}'s status (see `status.ts`); a method without a handler
 * answers UNIMPLEMENTED. Client-streaming methods are not supported (no
 * contract uses one): a service with one is refused.
 *
 * Streams respect backpressure: the adapter asks a generator for its next
 * response only once grpc-js has taken the previous one (while grpc-js's
 * buffer is full, the generator waits at its `yield`), and requests are read
 * only as fast as the handler takes them. When the client cancels or the
 * deadline passes, `context.signal` aborts and the generator is closed (its
 * `finally` blocks run).
 *
 * @module
 */
import {
  create,
  type DescMessage,
  type DescMethod,
  type DescService,
  type Message,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import type {
  Metadata,
  sendUnaryData,
  ServerDuplexStream,
  ServerUnaryCall,
  ServerWritableStream,
  UntypedHandleCall,
  UntypedServiceImplementation,
} from "@grpc/grpc-js";
import type { Logger } from "@logtape/logtape";
import type { EventEmitter } from "node:events";
import { AppError } from "../errors.ts";
import { inSpan, SpanKind, withContext } from "../telemetry/mod.ts";
import { methodPath } from "./definition.ts";
import { traceContextOf } from "./metadata.ts";
import type { MethodType, ServiceMethods } from "./method_types.ts";
import { type PushedResponses, type StreamedResponse, writeResponses } from "./response_writers.ts";
import { statusForError } from "./status.ts";
import { readMessages } from "./streams.ts";

/** What a handler knows about its call besides the request. */
export interface CallContext {
  /** The method called. */
  readonly method: DescMethod;
  /** The request's metadata (headers), such as `authorization`. */
  readonly metadata: Metadata;
  /** Aborted when the call ends early: cancelled by the client, past its deadline, connection lost. */
  readonly signal: AbortSignal;
  /** The client's address, as grpc-js reports it (`127.0.0.1:54321`). */
  readonly peer: string;
  /** The call's deadline in ms since the epoch, or `undefined` when it has none. */
  readonly deadline: number | undefined;
}

/** Answers one request with one response. */
export type UnaryHandler<I extends DescMessage, O extends DescMessage> = (
  request: MessageShape<I>,
  context: CallContext,
) => MessageInitShape<O> | Promise<MessageInitShape<O>>;

/**
 * Answers one request with a stream of responses: an async generator,
 * typically, or `pushed` responses (sent as they happen, from
 * callbacks, as a fan-out sends them).
 */
export type ServerStreamingHandler<I extends DescMessage, O extends DescMessage> = (
  request: MessageShape<I>,
  context: CallContext,
) => AsyncIterable<StreamedResponse<O>> | PushedResponses<O>;

/** Answers a stream of requests with a stream of responses. */
export type BidiStreamingHandler<I extends DescMessage, O extends DescMessage> = (
  requests: AsyncIterable<MessageShape<I>>,
  context: CallContext,
) => AsyncIterable<StreamedResponse<O>>;

/** The handler type of one method of a generated service descriptor. */
export type MethodHandler<M> = MethodType<M, "handler">;

/**
 * An implementation of service `S` (a generated `GenService`), keyed by each
 * method's local name: `{ sendHeartbeat(request, context) {...} }`.
 */
export type ServiceImplementation<S extends DescService> = ServiceMethods<S, "handler">;

/** Options of {@link serviceImplementation}. */
export interface ServiceOptions {
  /** Where unexpected errors (those answered INTERNAL) are logged. */
  logger?: Logger | undefined;
  /**
   * Runs before every handler (authentication, for one); when it throws, the
   * call ends with its error and the handler is not called.
   */
  guard?: ((context: CallContext) => void | Promise<void>) | undefined;
}

/** Any handler, as the adapter calls it (the types above are checked at the implementation). */
type AnyHandler = (
  input: Message | AsyncIterable<Message>,
  context: CallContext,
) => unknown;

type UnaryCall = ServerUnaryCall<Message, Message>;
type StreamingCall = ServerWritableStream<Message, Message> | ServerDuplexStream<Message, Message>;

function callContext(
  method: DescMethod,
  call: UnaryCall | StreamingCall,
): CallContext & Disposable {
  const controller = new AbortController();
  const onCancel = () => {
    controller.abort(new AppError("unavailable", `${methodPath(method)}: the call was cancelled`));
  };
  const events: EventEmitter = call;
  if (call.cancelled) onCancel();
  else events.on("cancelled", onCancel);
  const deadline = call.getDeadline();
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  return {
    method,
    metadata: call.metadata,
    signal: controller.signal,
    peer: call.getPeer(),
    deadline: Number.isFinite(ms) ? ms : undefined,
    [Symbol.dispose]() {
      events.off("cancelled", onCancel);
    },
  };
}

/** Logs an error answered INTERNAL (an expected AppError is the caller's business). */
function logUnexpected(
  error: unknown,
  options: { method: DescMethod; logger: Logger | undefined },
): void {
  if (error instanceof AppError && error.code !== "internal") return;
  options.logger?.error("Unexpected error in {path}: {error}", {
    path: methodPath(options.method),
    error: error instanceof Error ? (error.stack ?? error.message) : String(error),
  });
}

function unaryCall(
  method: DescMethod,
  handler: AnyHandler,
  options: ServiceOptions,
): UntypedHandleCall {
  return (call: UnaryCall, callback: sendUnaryData<Message>) => {
    const context = callContext(method, call);
    // A span per call, child of the caller's trace context when it sent one.
    inSpan(methodPath(method), async () => {
      await options.guard?.(context);
      return await (handler(call.request, context) as Promise<MessageInitShape<DescMessage>>);
    }, {
      kind: SpanKind.SERVER,
      parent: traceContextOf(call.metadata),
      attributes: rpcAttributes(method),
    })
      .then(
        (response) => callback(null, create(method.output, response)),
        (error: unknown) => {
          logUnexpected(error, { method, logger: options.logger });
          callback(statusForError(error));
        },
      )
      .finally(() => context[Symbol.dispose]());
  };
}

function streamingCall(
  method: DescMethod,
  handler: AnyHandler,
  options: ServiceOptions,
): UntypedHandleCall {
  return (call: StreamingCall) => {
    const context = callContext(method, call);
    const input = method.methodKind === "server_streaming"
      ? (call as ServerWritableStream<Message, Message>).request
      : readMessages<Message>(call as ServerDuplexStream<Message, Message>, {
        signal: context.signal,
      });
    // The handler runs in the caller's trace context, when it sent one.
    withContext(traceContextOf(call.metadata), () =>
      Promise.resolve()
        .then(() => options.guard?.(context))
        .then(() => {
          const responses = handler(input, context) as
            | AsyncIterable<StreamedResponse<DescMessage>>
            | PushedResponses<DescMessage>;
          return writeResponses(call, responses, {
            output: method.output,
            signal: context.signal,
          });
        })
        .catch((error: unknown) => {
          logUnexpected(error, { method, logger: options.logger });
          // grpc-js ends the call with this status once the responses written are flushed.
          if (!context.signal.aborted) call.emit("error", statusForError(error));
        })
        .finally(() => context[Symbol.dispose]()));
  };
}

/** The OpenTelemetry attributes of a call of `method`. */
function rpcAttributes(method: DescMethod): Record<string, string> {
  return { "rpc.system": "grpc", "rpc.service": method.parent.typeName, "rpc.method": method.name };
}

function unimplemented(method: DescMethod): AnyHandler {
  return () => {
    throw new AppError("unimplemented", `${methodPath(method)} is not implemented by this server`);
  };
}

/**
 * The grpc-js handlers of `service` calling `implementation`, keyed like
 * `serviceDefinition(service)`; methods it lacks answer UNIMPLEMENTED.
 * Handlers are called with the implementation as `this`. Throws for a
 * client-streaming method (not supported).
 */
export function serviceImplementation<S extends DescService>(
  service: S,
  implementation: Partial<ServiceImplementation<S>>,
  options: ServiceOptions = {},
): UntypedServiceImplementation {
  const handlers: UntypedServiceImplementation = {};
  const methods = implementation as Record<string, AnyHandler | undefined>;
  for (const method of service.methods) {
    const own = methods[method.localName];
    const handler: AnyHandler = own
      ? (input, context) => own.call(implementation, input, context)
      : unimplemented(method);
    if (method.methodKind === "client_streaming") {
      throw new Error(`${methodPath(method)}: client-streaming methods are not supported`);
    }
    handlers[method.localName] = method.methodKind === "unary"
      ? unaryCall(method, handler, options)
      : streamingCall(method, handler, options);
  }
  return handlers;
}
