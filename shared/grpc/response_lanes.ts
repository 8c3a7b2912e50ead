/**
 * Response lanes: a server stream's responses, already encoded, written
 * straight to its HTTP/2 stream. Through grpc-js, each response passes an
 * object-mode Writable, the chain of interceptors and grpc-js's own
 * `sendMessage` (with a callback per response) before it reaches the HTTP/2
 * stream: about a third of the hub's work in a fan-out of one notification
 * to 500 streams, and in a full sync of 10,000 entries.
 *
 * A lane frames each response as gRPC does (a 5-byte prefix: not
 * compressed, then the length) and writes it to the call's HTTP/2 stream,
 * after the response headers (sent once, through grpc-js, so the call knows
 * they are). The call still ends through grpc-js (its status follows the
 * responses on the same HTTP/2 stream, in order). Backpressure: `write`
 * returns false once `windowBytes` are waiting in the HTTP/2 stream (a
 * client that does not read leaves them there, HTTP/2 flow control holding
 * them back); `whenDrained` waits until all of it is written out.
 *
 * A response larger than the server's `grpc.max_send_message_length` is
 * refused as grpc-js refuses it: `write` throws resource_exhausted, and the
 * call ends with it. (What a lane leaves out of grpc-js's work: its channelz
 * count of messages sent.)
 *
 * Lanes are made by the server's first interceptor (`coalescing.ts`), the
 * only one that is handed grpc-js's own call, and only when the server has
 * no interceptors of its own (a lane would go around them). A handler finds
 * its call's lane by the request metadata grpc-js hands it
 * ({@link responseLane}); without one (another grpc-js, say) responses take
 * the usual way. A test holds the pinned grpc-js to what lanes need of it.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { Metadata, type ServerInterceptingCallInterface } from "@grpc/grpc-js";
import { AppError } from "../errors.ts";

/** Where a server stream's encoded responses can be written directly. */
export interface ResponseLane {
  /**
   * Frames and writes `message` (an encoded response). Returns false when
   * the client is not keeping up or the stream is gone: wait for
   * {@link ResponseLane.whenDrained} before writing more.
   */
  write(message: Uint8Array): boolean;
  /** Calls `drained` once what was written is written out (never synchronously). */
  whenDrained(drained: () => void): void;
}

/** What a lane needs of the HTTP/2 stream of grpc-js's call. */
interface LaneStream {
  readonly destroyed: boolean;
  readonly writableEnded: boolean;
  readonly writableLength: number;
  readonly writableHighWaterMark: number;
  write(chunk: Uint8Array): boolean;
  on(event: "error", listener: () => void): unknown;
  once(event: "drain" | "close", listener: () => void): unknown;
  off(event: "drain" | "close", listener: () => void): unknown;
}

/** Lanes by the request metadata of their call (the object grpc-js hands the handler too). */
const lanes = new WeakMap<Metadata, ResponseLane>();

/** The lane of the call whose request metadata is `metadata`, if it has one. */
export function responseLane(metadata: Metadata): ResponseLane | undefined {
  return lanes.get(metadata);
}

/** Options of {@link openResponseLane}. */
export interface ResponseLaneOptions {
  /** Bytes that may wait in the HTTP/2 stream before `write` says to wait (at least its high-water mark). */
  windowBytes: number;
  /** Called after each write (the coalescing of socket writes). */
  afterWrite?: () => void;
  /** Largest response, in bytes (the server's `grpc.max_send_message_length`; default none). */
  maxMessageBytes?: number;
}

/**
 * A lane for `call`, the call grpc-js hands its first server interceptor;
 * undefined when its HTTP/2 stream cannot be found (another grpc-js).
 */
export function openResponseLane(
  call: ServerInterceptingCallInterface,
  options: ResponseLaneOptions,
): ResponseLane | undefined {
  // grpc-js's BaseServerInterceptingCall keeps its http2.ServerHttp2Stream in the private `stream`.
  const { stream } = call as unknown as { stream?: Partial<LaneStream> };
  if (
    typeof stream?.write !== "function" || typeof stream.once !== "function" ||
    typeof stream.off !== "function" || typeof stream.on !== "function" ||
    typeof stream.writableLength !== "number" || typeof stream.writableHighWaterMark !== "number"
  ) {
    return undefined;
  }
  const http2 = stream as LaneStream;
  // A write racing the stream's end fails there; the call ends through grpc-js's close handling.
  http2.on("error", () => {});
  const { afterWrite, maxMessageBytes } = options;
  // Past the stream's own high-water mark, so that a full window always ends with "drain".
  const windowBytes = Math.max(options.windowBytes, http2.writableHighWaterMark);
  let headersSent = false;
  return {
    write(message) {
      if (http2.destroyed || http2.writableEnded) return false;
      if (maxMessageBytes !== undefined && message.byteLength > maxMessageBytes) {
        throw new AppError(
          "resource_exhausted",
          `Sent message larger than max (${message.byteLength} vs. ${maxMessageBytes})`,
        );
      }
      if (!headersSent) {
        call.sendMetadata(new Metadata());
        headersSent = true;
      }
      const framed = Buffer.allocUnsafe(5 + message.byteLength);
      framed[0] = 0;
      framed.writeUInt32BE(message.byteLength, 1);
      framed.set(message, 5);
      http2.write(framed);
      afterWrite?.();
      return http2.writableLength < windowBytes;
    },
    whenDrained(drained) {
      if (http2.destroyed || http2.writableLength === 0) {
        queueMicrotask(drained);
        return;
      }
      const done = () => {
        http2.off("drain", done);
        http2.off("close", done);
        drained();
      };
      http2.once("drain", done);
      http2.once("close", done);
    },
  };
}

/** Makes `lane` the lane of the call whose request metadata is `metadata`. */
export function registerResponseLane(metadata: Metadata, lane: ResponseLane): void {
  lanes.set(metadata, lane);
}
