/**
 * Pipelined responses of server streams. grpc-js hands a stream's responses
 * to HTTP/2 one at a time: the next one only once the previous one has been
 * written out, which takes a turn of the event loop, and (under Deno) a
 * socket write, per response. Thousands of small responses (a full sync)
 * then cost far more in turns and system calls than in bytes.
 *
 * {@link pipelinedResponses} lets a stream have up to a window of bytes of
 * responses handed to HTTP/2 and not yet written out: they queue in the
 * HTTP/2 stream, which writes what has queued at once. Backpressure holds:
 * once a window is in flight, the call's writable side waits (its `write()`
 * returns false once its own buffer fills), and HTTP/2 flow control holds
 * the window itself back from a client that does not read.
 *
 * @module
 */
import {
  ServerInterceptingCall,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
} from "@grpc/grpc-js";

/** Bytes of responses a server stream may have in flight by default. */
export const DEFAULT_RESPONSE_WINDOW_BYTES = 64 * 1024;

/**
 * A grpc-js server interceptor pipelining the responses of server-streaming
 * and bidirectional methods, up to `windowBytes` in flight per call (see the
 * module). Only responses already encoded (`Uint8Array`s, as the adapter of
 * `handlers.ts` writes them) are pipelined, as only their size is known;
 * others go one at a time, in order with the rest.
 */
export function pipelinedResponses(windowBytes: number): ServerInterceptor {
  return (method, call) =>
    new ServerInterceptingCall(method.responseStream ? pipelined(call, windowBytes) : call);
}

function pipelined(
  call: ServerInterceptingCallInterface,
  windowBytes: number,
): ServerInterceptingCallInterface {
  let inFlight = 0;
  /** The writer's callback, held while a window is in flight. */
  let held: (() => void) | undefined;
  const written = (bytes: number) => () => {
    inFlight -= bytes;
    if (held !== undefined && inFlight <= windowBytes) {
      const release = held;
      held = undefined;
      release();
    }
  };
  return {
    sendMessage(message: unknown, callback: () => void) {
      if (!(message instanceof Uint8Array)) {
        call.sendMessage(message, callback);
        return;
      }
      const bytes = message.byteLength;
      inFlight += bytes;
      // Taken now: the next response may follow while this one is written out.
      call.sendMessage(message, written(bytes));
      if (inFlight <= windowBytes) callback();
      else held = callback;
    },
    start: (listener) => call.start(listener),
    sendMetadata: (metadata) => call.sendMetadata(metadata),
    sendStatus: (status) => call.sendStatus(status),
    startRead: () => call.startRead(),
    getPeer: () => call.getPeer(),
    getDeadline: () => call.getDeadline(),
    getHost: () => call.getHost(),
    getAuthContext: () => call.getAuthContext(),
    getConnectionInfo: () => call.getConnectionInfo(),
    getMetricsRecorder: () => call.getMetricsRecorder(),
  };
}
