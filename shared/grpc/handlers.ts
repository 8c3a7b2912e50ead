/**
 * grpc-js handlers for a protobuf-es service from an implementation object
 * typed by the service descriptor: a unary handler returns the response, a
 * server-streaming handler is an async generator of responses (or returns
 * {@link pushed} responses, written as they happen through a sink, for
 * fan-out), and a
 * bidirectional handler reads its requests as an async iterable and is an
 * async generator of responses. Messages are encoded by protobuf-es (see
 * `definition.ts`; a streaming handler may also yield responses already
 * encoded, see {@link Encoded}); a handler that throws ends the call with its
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
  toBinary,
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
import type { Writable } from "node:stream";
import { AppError } from "../errors.ts";
import { methodPath } from "./definition.ts";
import { statusForError } from "./status.ts";
import { type ResponseLane, responseLane } from "./response_lanes.ts";
import { drained, readMessages } from "./streams.ts";

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

declare const encodedSchema: unique symbol;

/**
 * A response of schema `O` already encoded (protobuf binary), which a
 * streaming handler may yield instead of the message: sent as it is. For
 * responses encoded once and sent many times, or by a faster encoder than
 * protobuf-es's reflection. See {@link encoded}.
 */
export type Encoded<O extends DescMessage> = Uint8Array & { readonly [encodedSchema]?: O };

/** `bytes`, the protobuf binary of a message of `schema`, as a response to yield as it is. */
export function encoded<O extends DescMessage>(_schema: O, bytes: Uint8Array): Encoded<O> {
  return bytes as Encoded<O>;
}

/** A response of a streaming handler: the message, or its encoding. */
export type StreamedResponse<O extends DescMessage> = MessageInitShape<O> | Encoded<O>;

/**
 * Answers one request with a stream of responses: an async generator,
 * typically, or {@link pushed} responses (sent as they happen, from
 * callbacks, as a fan-out sends them).
 */
export type ServerStreamingHandler<I extends DescMessage, O extends DescMessage> = (
  request: MessageShape<I>,
  context: CallContext,
) => AsyncIterable<StreamedResponse<O>> | PushedResponses<O>;

/** Where {@link pushed} responses go: the call's stream. */
export interface ResponseSink<O extends DescMessage> {
  /**
   * Sends one response now. Returns false when the client is not keeping up
   * (the response is still sent, after the others): send no more until the
   * callback given to {@link ResponseSink.whenReady} is called.
   */
  send(response: StreamedResponse<O>): boolean;
  /** Calls `ready` (never synchronously) once the client can take responses again. */
  whenReady(ready: () => void): void;
}

declare const pushedSchema: unique symbol;

/** A server stream's responses sent through a {@link ResponseSink}; see {@link pushed}. */
export interface PushedResponses<O extends DescMessage> {
  /** Sends the responses; the stream ends when the promise settles (with its error, if any). */
  readonly push: (sink: ResponseSink<O>) => Promise<void>;
  readonly [pushedSchema]?: O;
}

/**
 * Responses of a server-streaming handler that are sent as they happen
 * rather than pulled one by one: `push` is given the call's sink and sends
 * through it, synchronously, from any callback (with no task or promise per
 * response, which is what a fan-out to many streams needs). The call ends OK
 * once the promise `push` returns resolves, and with its error when it
 * rejects; when the client goes away, `context.signal` aborts and `push`
 * should settle.
 */
export function pushed<O extends DescMessage>(
  push: (sink: ResponseSink<O>) => Promise<void>,
): PushedResponses<O> {
  return { push };
}

function isPushed(value: unknown): value is PushedResponses<DescMessage> {
  return typeof value === "object" && value !== null && "push" in value &&
    typeof value.push === "function";
}

/** Answers a stream of requests with a stream of responses. */
export type BidiStreamingHandler<I extends DescMessage, O extends DescMessage> = (
  requests: AsyncIterable<MessageShape<I>>,
  context: CallContext,
) => AsyncIterable<StreamedResponse<O>>;

/** The handler type of one method of a generated service descriptor. */
export type MethodHandler<M> = M extends {
  methodKind: infer K;
  input: infer I extends DescMessage;
  output: infer O extends DescMessage;
} ? K extends "unary" ? UnaryHandler<I, O>
  : K extends "server_streaming" ? ServerStreamingHandler<I, O>
  : K extends "bidi_streaming" ? BidiStreamingHandler<I, O>
  : never
  : never;

/**
 * An implementation of service `S` (a generated `GenService`), keyed by each
 * method's local name: `{ sendHeartbeat(request, context) {...} }`.
 */
export type ServiceImplementation<S extends DescService> = {
  [K in keyof S["method"]]: MethodHandler<S["method"][K]>;
};

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

/** A streamed response as its bytes: encoded by protobuf-es unless it already is. */
function responseBytes(output: DescMessage, response: StreamedResponse<DescMessage>): Uint8Array {
  return response instanceof Uint8Array ? response : toBinary(output, create(output, response));
}

/**
 * Writes every response with backpressure, then ends the call. Leaving the
 * loop early (the call was cancelled) closes the generator. Responses are
 * encoded here and go through the call's response lane when it has one
 * (`response_lanes.ts`); otherwise through grpc-js, where the pipelining
 * interceptor (`pipelining.ts`) knows their size and lets them be written
 * without waiting while grpc-js takes them.
 */
async function writeAll(
  call: StreamingCall,
  responses: AsyncIterable<StreamedResponse<DescMessage>>,
  options: { output: DescMessage; signal: AbortSignal },
): Promise<void> {
  const { output, signal } = options;
  const writable: Writable = call;
  const lane = responseLane(call.metadata);
  for await (const response of responses) {
    if (signal.aborted || writable.destroyed || writable.writableEnded) return;
    const bytes = responseBytes(output, response);
    if (lane) {
      if (!lane.write(bytes) && !await laneDrained(lane, { signal })) return;
    } else if (!writable.write(bytes) && !await drained(writable, { signal })) {
      return;
    }
  }
  if (!signal.aborted) call.end();
}

/** Resolves true once `lane` drained, false if `signal` aborts first. */
function laneDrained(lane: ResponseLane, options: { signal: AbortSignal }): Promise<boolean> {
  const { signal } = options;
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => resolve(false);
    signal.addEventListener("abort", onAbort, { once: true });
    lane.whenDrained(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    });
  });
}

/**
 * Runs pushed responses over the call's stream (its response lane when it
 * has one), then ends the call. The sink writes each response at once;
 * `whenReady` waits for the stream to drain.
 */
async function pushAll(
  call: StreamingCall,
  responses: PushedResponses<DescMessage>,
  options: { output: DescMessage; signal: AbortSignal },
): Promise<void> {
  const { output, signal } = options;
  const writable: Writable = call;
  const lane = responseLane(call.metadata);
  if (lane) {
    let refused = false;
    await responses.push({
      send(response) {
        if (refused || signal.aborted || writable.destroyed || writable.writableEnded) return false;
        try {
          return lane.write(responseBytes(output, response));
        } catch (error) {
          // Not thrown at the sender (a fan-out to other streams): this call ends with it.
          refused = true;
          call.emit("error", statusForError(error));
          return false;
        }
      },
      whenReady: (callback) => lane.whenDrained(callback),
    });
    if (refused) return;
    if (!signal.aborted && !writable.destroyed && !writable.writableEnded) call.end();
    return;
  }
  const waiting: (() => void)[] = [];
  const ready = () => {
    for (const callback of waiting.splice(0)) callback();
  };
  writable.on("drain", ready);
  try {
    await responses.push({
      send(response) {
        if (signal.aborted || writable.destroyed || writable.writableEnded) return false;
        return writable.write(responseBytes(output, response));
      },
      whenReady(callback) {
        if (writable.writableNeedDrain) waiting.push(callback);
        else queueMicrotask(callback);
      },
    });
  } finally {
    writable.off("drain", ready);
  }
  if (!signal.aborted && !writable.destroyed && !writable.writableEnded) call.end();
}

function unaryCall(
  method: DescMethod,
  handler: AnyHandler,
  options: ServiceOptions,
): UntypedHandleCall {
  return (call: UnaryCall, callback: sendUnaryData<Message>) => {
    const context = callContext(method, call);
    Promise.resolve()
      .then(() => options.guard?.(context))
      .then(() => handler(call.request, context) as MessageInitShape<DescMessage>)
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
    Promise.resolve()
      .then(() => options.guard?.(context))
      .then(() => {
        const responses = handler(input, context);
        const options = { output: method.output, signal: context.signal };
        return isPushed(responses)
          ? pushAll(call, responses, options)
          : writeAll(call, responses as AsyncIterable<StreamedResponse<DescMessage>>, options);
      })
      .catch((error: unknown) => {
        logUnexpected(error, { method, logger: options.logger });
        // grpc-js ends the call with this status once the responses written are flushed.
        if (!context.signal.aborted) call.emit("error", statusForError(error));
      })
      .finally(() => context[Symbol.dispose]());
  };
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
