/**
 * Coalesced socket writes of a server's responses. Under Deno, node:http2
 * hands each HTTP/2 frame to its connection's socket as a write of its own:
 * one notification published to 50 subscribers on one connection is 50
 * system calls on the hub, and as many small reads on the client.
 *
 * {@link coalescedWrites} corks a call's socket whenever a response (headers,
 * a message or the status) is handed to HTTP/2, and uncorks it on the next
 * tick: HTTP/2 writes out what the current turn queued (Deno defers it to
 * the next tick too, queued before the uncork), and the socket sends it all
 * in one `writev`. Nothing waits longer than the current turn.
 *
 * The response lanes of `response_lanes.ts` are opened here too, this
 * being the one interceptor handed grpc-js's own call.
 *
 * grpc-js keeps a call's HTTP/2 stream private; {@link callSocket} reads it
 * where grpc-js 1.x keeps it (a test holds the pinned version to it), and
 * finds nothing (writes go uncoalesced, as before) if that changes.
 *
 * @module
 */
import process from "node:process";
import {
  ServerInterceptingCall,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
} from "@grpc/grpc-js";
import { openResponseLane, registerResponseLane } from "./response_lanes.ts";

/** What coalescing needs of a socket. */
export interface CorkableSocket {
  /** Holds writes back until {@link CorkableSocket.uncork}. */
  cork(): void;
  /** Writes what was held back, at once. */
  uncork(): void;
}

/** The sockets corked in the current turn. */
const corked = new Set<CorkableSocket>();

/**
 * The socket of a grpc-js server call's connection: `call` is the call
 * grpc-js hands the first (innermost) server interceptor. Undefined when it
 * cannot be found (another grpc-js, or the connection is gone).
 */
export function callSocket(call: ServerInterceptingCallInterface): CorkableSocket | undefined {
  try {
    // grpc-js's BaseServerInterceptingCall keeps its http2.ServerHttp2Stream in the private
    // `stream`; the session's `socket` is a proxy that allows cork and uncork.
    const { stream } = call as unknown as { stream?: { session?: { socket?: unknown } } };
    const socket = stream?.session?.socket as Partial<CorkableSocket> | undefined;
    if (typeof socket?.cork === "function" && typeof socket.uncork === "function") {
      return socket as CorkableSocket;
    }
  } catch {
    // The session has no socket any more (closed): nothing to coalesce.
  }
  return undefined;
}

/**
 * Corks `socket` until the next tick, unless it already is for this turn;
 * call it right after handing HTTP/2 something to write (see the module).
 */
export function corkUntilNextTick(socket: CorkableSocket): void {
  if (corked.has(socket)) return;
  try {
    socket.cork();
  } catch {
    return; // the connection is gone (its session no longer has a socket): nothing to hold back
  }
  corked.add(socket);
  process.nextTick(() => {
    corked.delete(socket);
    try {
      socket.uncork();
    } catch {
      // The connection went in the meantime, and its socket with it.
    }
  });
}

/** Options of {@link coalescedWrites}. */
export interface CoalescedWritesOptions {
  /**
   * Gives the calls of response-streaming methods a response lane
   * (`response_lanes.ts`) with this window, in bytes; 0 or unset: none.
   */
  laneWindowBytes?: number;
  /** Largest response a lane writes, in bytes (the server's `grpc.max_send_message_length`). */
  maxMessageBytes?: number;
}

/**
 * A grpc-js server interceptor coalescing the socket writes of every call's
 * responses (see the module), and opening the response lanes of streaming
 * calls when asked. It must come first among the server's interceptors, to
 * be handed grpc-js's own call.
 */
export function coalescedWrites(options: CoalescedWritesOptions = {}): ServerInterceptor {
  const { laneWindowBytes = 0, maxMessageBytes } = options;
  return (method, call) => {
    const socket = callSocket(call);
    if (socket === undefined) return new ServerInterceptingCall(call);
    const coalesce = () => corkUntilNextTick(socket);
    const lane = laneWindowBytes > 0 && method.responseStream
      ? openResponseLane(call, {
        windowBytes: laneWindowBytes,
        afterWrite: coalesce,
        ...(maxMessageBytes !== undefined && { maxMessageBytes }),
      })
      : undefined;
    return new ServerInterceptingCall(call, {
      ...(lane && {
        start(next) {
          next({
            onReceiveMetadata(metadata, nextMetadata) {
              registerResponseLane(metadata, lane);
              nextMetadata(metadata);
            },
          });
        },
      }),
      sendMetadata(metadata, next) {
        next(metadata);
        coalesce();
      },
      sendMessage(message, next) {
        next(message);
        coalesce();
      },
      sendStatus(status, next) {
        next(status);
        coalesce();
      },
    });
  };
}
