/**
 * How a streaming call's responses are written: one {@link ResponseSink}
 * over grpc-js's writable side of the call, used both ways a handler gives
 * its responses. Pulled responses (an async generator) are taken one by one
 * while the sink says the client keeps up, and wait for it otherwise;
 * {@link pushed} responses are sent through the sink as they happen, from
 * callbacks (a fan-out), with no task or promise per response. Either way
 * the call ends OK after the last response, unless it was cancelled or
 * failed.
 *
 * Responses are encoded here (or come encoded, see {@link Encoded}) and go
 * through grpc-js's public interceptor chain, where the pipelining
 * interceptor (`pipelining.ts`) knows their size and lets them be written
 * without waiting while grpc-js takes them.
 *
 * @module
 */
import { create, type DescMessage, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import type { Writable } from "node:stream";
import { statusForError } from "./status.ts";
import { drained } from "./streams.ts";

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

/** Where a stream's responses go: the call's stream. */
export interface ResponseSink<O extends DescMessage> {
  /**
   * Sends one response now. Returns false when the client is not keeping up
   * (the response is still sent, after the others): send no more until the
   * callback given to {@link ResponseSink.whenReady} is called. Also false
   * once the call has ended.
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

/** Whether a handler's result is {@link pushed} responses (else it is an async iterable). */
export function isPushed(value: unknown): value is PushedResponses<DescMessage> {
  return typeof value === "object" && value !== null && "push" in value &&
    typeof value.push === "function";
}

/** The writable side of a grpc-js streaming call, as the writers use it. */
export interface ResponseCall extends Writable {
  /** Ends the call with an error status (how grpc-js's server streams take one). */
  emit(event: "error", status: unknown): boolean;
}

/** Options of {@link writeResponses}. */
export interface WriteResponsesOptions {
  /** The responses' message type. */
  output: DescMessage;
  /** Aborted when the call ends early (cancelled, past its deadline, connection lost). */
  signal: AbortSignal;
}

/** A call's sink, and what the writers need besides: waiting, and ending. */
interface CallSink extends ResponseSink<DescMessage>, Disposable {
  /** Whether the call still takes responses. */
  readonly open: boolean;
  /** Resolves true once the client can take more, false once the call ended or was cancelled. */
  ready(): Promise<boolean>;
  /** Ends the call OK, if it still takes responses. */
  end(): void;
}

/** A streamed response as its bytes: encoded by protobuf-es unless it already is. */
function responseBytes(output: DescMessage, response: StreamedResponse<DescMessage>): Uint8Array {
  return response instanceof Uint8Array ? response : toBinary(output, create(output, response));
}

function callSink(call: ResponseCall, options: WriteResponsesOptions): CallSink {
  const { output, signal } = options;
  let failed = false;
  const waiting: (() => void)[] = [];
  const drain = () => {
    for (const callback of waiting.splice(0)) callback();
  };
  call.on("drain", drain);
  const sink: CallSink = {
    get open() {
      return !failed && !signal.aborted && !call.destroyed && !call.writableEnded;
    },
    send(response) {
      if (!sink.open) return false;
      try {
        return call.write(responseBytes(output, response));
      } catch (error) {
        // Not thrown at the sender (a fan-out to other streams): this call ends with it.
        failed = true;
        call.emit("error", statusForError(error));
        return false;
      }
    },
    whenReady(ready) {
      if (call.writableNeedDrain) waiting.push(ready);
      else queueMicrotask(ready);
    },
    ready() {
      return sink.open ? drained(call, { signal }) : Promise.resolve(false);
    },
    end() {
      if (sink.open) call.end();
    },
    [Symbol.dispose]() {
      call.off("drain", drain);
    },
  };
  return sink;
}

/**
 * Writes a streaming handler's responses to `call`, pulled from an async
 * iterable (with backpressure: the next is asked for only while the client
 * keeps up; leaving early, when the call ends, closes the generator) or
 * {@link pushed}; then ends the call OK unless it ended otherwise. Rejects
 * with what the handler threw (the caller ends the call with it).
 */
export async function writeResponses(
  call: ResponseCall,
  responses: AsyncIterable<StreamedResponse<DescMessage>> | PushedResponses<DescMessage>,
  options: WriteResponsesOptions,
): Promise<void> {
  using sink = callSink(call, options);
  if (isPushed(responses)) {
    await responses.push(sink);
  } else {
    for await (const response of responses) {
      if (!sink.send(response) && !await sink.ready()) return;
    }
  }
  sink.end();
}
