/**
 * Typed clients of protobuf-es services over a {@link GrpcChannel}: a unary
 * method returns a promise of its response, a server-streaming method a
 * {@link ServerStream} of responses (an async iterable with flow control, or
 * a listener called as each response arrives), and a bidirectional method
 * returns a {@link BidiCall} to send and read on. Every failure is an
 * {@link AppError} (see `status.ts`); a call cancelled through its `signal`
 * rejects with the signal's reason.
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
import {
  type CallOptions,
  type ClientDuplexStream,
  type ClientReadableStream,
  type ServiceError,
  status as Status,
  type StatusObject,
} from "@grpc/grpc-js";
import { AppError } from "../errors.ts";
import type { GrpcChannel } from "./channel.ts";
import type { MethodType, ServiceMethods } from "./method_types.ts";
import { deserializer, type MessageDecoder, methodPath, serializer } from "./definition.ts";
import { errorFromStatus } from "./status.ts";
import { readMessages, writeMessage } from "./streams.ts";

/** Per-call options of every client method. */
export interface GrpcCallOptions {
  /** Cancels the call; it then rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * This call's deadline in ms from its start (any kind of call); unset, a
   * unary call takes the channel's `timeoutMs` and a stream has none.
   */
  timeoutMs?: number;
  /** Metadata of this call, added to the channel's. */
  metadata?: Readonly<Record<string, string>>;
  /**
   * A stream's messages taken ahead of being asked for (default
   * `READ_AHEAD_MESSAGES`): a reader slower than its stream pauses and
   * resumes it each time that many are waiting, which costs the reading
   * thread more the more often it happens (a peer's full sync takes 1,024).
   */
  readAhead?: number;
}

/**
 * An open bidirectional call: send requests, read responses (`for await`),
 * end or cancel. Leaving the loop does not cancel the call; `cancel()` or
 * disposing it (`using`) does, unless it has already ended.
 */
export interface BidiCall<I extends DescMessage, O extends DescMessage>
  extends AsyncIterable<MessageShape<O>>, Disposable {
  /**
   * Sends one request; resolves once grpc-js has taken it (waiting while its
   * buffer is full). Rejects with the call's error once the call has failed,
   * or when it was ended or cancelled.
   */
  send(request: MessageInitShape<I>): Promise<void>;
  /** No more requests (the server sees the end of its request stream); responses keep coming. */
  end(): void;
  /** Cancels the call (reading then ends with the cancellation). */
  cancel(): void;
}

/** Calls a unary method. */
export type UnaryMethod<I extends DescMessage, O extends DescMessage> = (
  request: MessageInitShape<I>,
  options?: GrpcCallOptions,
) => Promise<MessageShape<O>>;

/**
 * The responses of a server-streaming call, read one of two ways (one per
 * call): `for await`, with flow control (the client reads only a little
 * ahead, see `streams.ts`; leaving the loop cancels the call), or
 * {@link ServerStream.listen}, a function called as each response arrives.
 * The call starts when either starts.
 */
export interface ServerStream<T> extends AsyncIterable<T> {
  /**
   * Calls `onMessage` with each response, in order, as soon as it arrives
   * (no promise or turn of the event loop per response, and no flow
   * control: for streams of small messages a consumer keeps up with, such
   * as notifications). Resolves when the server ends the stream; rejects
   * with the call's error, with the signal's reason when cancelled through
   * the call's `signal`, or with what `onMessage` threw (the call is then
   * cancelled). Throws (synchronously) when the call was already started.
   */
  listen(onMessage: (message: T) => void): Promise<void>;
}

/** Calls a server-streaming method (see {@link ServerStream}). */
export type ServerStreamingMethod<I extends DescMessage, O extends DescMessage> = (
  request: MessageInitShape<I>,
  options?: GrpcCallOptions,
) => ServerStream<MessageShape<O>>;

/** Opens a bidirectional call. */
export type BidiStreamingMethod<I extends DescMessage, O extends DescMessage> = (
  options?: GrpcCallOptions,
) => BidiCall<I, O>;

/** The client method type of one method of a generated service descriptor. */
export type ClientMethod<M> = MethodType<M, "client">;

/** A typed client of service `S` (a generated `GenService`), one function per method. */
export type ServiceClient<S extends DescService> = ServiceMethods<S, "client">;

/** grpc-js call options with a deadline `timeoutMs` from now, when set. */
function callOptions(timeoutMs: number | undefined): CallOptions {
  return timeoutMs === undefined ? {} : { deadline: Date.now() + timeoutMs };
}

/** Runs `cancel` when `signal` aborts, until the returned function is called. */
function onAbort(signal: AbortSignal | undefined, cancel: () => void): () => void {
  signal?.addEventListener("abort", cancel, { once: true });
  return () => signal?.removeEventListener("abort", cancel);
}

/** The error a failed call rejects with: the signal's reason when the caller cancelled. */
function failure(
  error: unknown,
  call: { path: string; signal: AbortSignal | undefined },
): unknown {
  if (call.signal?.aborted) return call.signal.reason;
  return errorFromStatus(error, call.path);
}

function unary(channel: GrpcChannel, method: DescMethod, decoder?: MessageDecoder) {
  const path = methodPath(method);
  return (request: MessageInitShape<DescMessage>, options: GrpcCallOptions = {}) => {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<Message>((resolve, reject) => {
      const call = channel.client.makeUnaryRequest<Message, Message>(
        path,
        serializer(method.input),
        deserializer(method.output, decoder),
        create(method.input, request),
        channel.metadata(options.metadata),
        callOptions(options.timeoutMs ?? channel.timeoutMs),
        (error: ServiceError | null, response?: Message) => {
          release();
          if (error) reject(failure(error, { path, signal }));
          else if (response) resolve(response);
          else reject(new AppError("internal", `${path}: the server answered without a message`));
        },
      );
      const release = onAbort(signal, () => call.cancel());
    });
  };
}

function serverStreaming(channel: GrpcChannel, method: DescMethod, decoder?: MessageDecoder) {
  const path = methodPath(method);
  return (
    request: MessageInitShape<DescMessage>,
    options: GrpcCallOptions = {},
  ): ServerStream<Message> => {
    const { signal } = options;
    let started = false;
    const start = (): ClientReadableStream<Message> => {
      if (started) throw new AppError("failed_precondition", `${path}: the call was already read`);
      started = true;
      signal?.throwIfAborted();
      return channel.client.makeServerStreamRequest(
        path,
        serializer(method.input),
        deserializer(method.output, decoder),
        create(method.input, request),
        channel.metadata(options.metadata),
        callOptions(options.timeoutMs),
      );
    };
    return {
      // The call starts when the iteration does, as a generator's would.
      [Symbol.asyncIterator](): AsyncIterator<Message> {
        const call = start();
        call.on("error", () => {}); // read by readMessages; without a listener, an error would be thrown
        const release = onAbort(signal, () => call.cancel());
        return readMessages<Message>(call, {
          readAhead: options.readAhead,
          mapError: (error) => failure(error, { path, signal }),
          onFinish(complete) {
            release();
            if (!complete) call.cancel();
          },
        });
      },
      listen(onMessage) {
        const call = start();
        return new Promise<void>((resolve, reject) => {
          let thrown: { error: unknown } | undefined;
          let error: unknown;
          const release = onAbort(signal, () => call.cancel());
          call.on("data", (message: Message) => {
            if (thrown) return;
            try {
              onMessage(message);
            } catch (e) {
              thrown = { error: e };
              call.cancel();
            }
          });
          call.on("error", (e: unknown) => error ??= e);
          // grpc-js emits "status" last, once, whether the call succeeded or not.
          call.on("status", (status: StatusObject) => {
            release();
            if (thrown) reject(thrown.error);
            else if (status.code === Status.OK) resolve();
            else reject(failure(error ?? status, { path, signal }));
          });
        });
      },
    };
  };
}

function bidiStreaming(channel: GrpcChannel, method: DescMethod, decoder?: MessageDecoder) {
  const path = methodPath(method);
  return (options: GrpcCallOptions = {}): BidiCall<DescMessage, DescMessage> => {
    const { signal } = options;
    signal?.throwIfAborted();
    const call: ClientDuplexStream<Message, Message> = channel.client.makeBidiStreamRequest(
      path,
      serializer(method.input),
      deserializer(method.output, decoder),
      channel.metadata(options.metadata),
      callOptions(options.timeoutMs),
    );
    let error: unknown;
    let done = false;
    const finished = new AbortController();
    call.on("error", (e: unknown) => {
      error ??= failure(e, { path, signal });
    });
    call.on("status", () => {
      done = true;
      release();
      finished.abort();
    });
    const release = onAbort(signal, () => call.cancel());
    return {
      async send(request) {
        if (error !== undefined) throw error;
        if (done || call.writableEnded) {
          throw new AppError("failed_precondition", `${path}: the call has ended`);
        }
        if (!await writeMessage(call, create(method.input, request), { signal: finished.signal })) {
          throw error ?? new AppError("failed_precondition", `${path}: the call has ended`);
        }
      },
      end() {
        if (!call.writableEnded) call.end();
      },
      cancel() {
        call.cancel();
      },
      async *[Symbol.asyncIterator]() {
        try {
          for await (const message of readMessages<Message>(call)) yield message;
        } catch (e) {
          throw error ?? failure(e, { path, signal });
        }
      },
      [Symbol.dispose]() {
        if (!done) call.cancel();
      },
    };
  };
}

/** Options of {@link createClient}. */
export interface ClientOptions {
  /**
   * Faster decoders of some response types (used for every method answering
   * with one of them); the others are decoded by protobuf-es.
   */
  decoders?: readonly MessageDecoder[];
}

/**
 * A typed client of `service` over `channel` (see {@link ServiceClient}).
 * Throws for a client-streaming method (not supported: no contract uses one).
 */
export function createClient<S extends DescService>(
  service: S,
  channel: GrpcChannel,
  options: ClientOptions = {},
): ServiceClient<S> {
  const client: Record<string, unknown> = {};
  const decoders = new Map((options.decoders ?? []).map((d) => [d.schema.typeName, d]));
  for (const method of service.methods) {
    const decoder = decoders.get(method.output.typeName);
    switch (method.methodKind) {
      case "unary":
        client[method.localName] = unary(channel, method, decoder);
        break;
      case "server_streaming":
        client[method.localName] = serverStreaming(channel, method, decoder);
        break;
      case "client_streaming":
        throw new Error(`${methodPath(method)}: client-streaming methods are not supported`);
      case "bidi_streaming":
        client[method.localName] = bidiStreaming(channel, method, decoder);
        break;
    }
  }
  return client as ServiceClient<S>;
}
