/**
 * Coalesced socket writes of a server's responses: the one place where the
 * gRPC layer reads a private field of grpc-js, and why.
 *
 * Under Deno, node:http2 hands each HTTP/2 frame to its connection's socket
 * as a write of its own: one notification published to 50 subscribers on
 * one connection is 50 system calls on the hub, and as many small reads on
 * the client. {@link coalescedWrites} corks a call's socket whenever a
 * response (headers, a message or the status) is handed to HTTP/2, and
 * uncorks it on the next tick: HTTP/2 writes out what the current turn
 * queued (Deno defers it to the next tick too, queued before the uncork),
 * and the socket sends it all in one `writev`. Nothing waits longer than the
 * current turn. Without it, the hub benchmark's push figure (a publication
 * delivered to 500 streams, p99 against etcd's watchers) missed its target
 * in 3 of 7 runs, against 1 of 11 with it (README, Benchmarks).
 *
 * grpc-js has no public way to the socket of a call: {@link callSocket}
 * reads the private `stream` of the call grpc-js hands its first server
 * interceptor (a `BaseServerInterceptingCall` in grpc-js 1.x), then the
 * HTTP/2 session's `socket`. (Its public connection injector would let the
 * server own its sockets, but under Deno 2.9.6 a TLS server does not take
 * injected connections.) So that an upgrade cannot drop coalescing without
 * a word, {@link assertCoalescing} checks at start, with one call to a
 * loopback server of its own, that the field is where it is read, and
 * throws, stopping the service, when it is not.
 *
 * @module
 */
import process from "node:process";
import { Buffer } from "node:buffer";
import {
  Client,
  credentials,
  Metadata,
  Server,
  ServerCredentials,
  ServerInterceptingCall,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
} from "@grpc/grpc-js";
import { AppError, errorMessage } from "../errors.ts";

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
 * cannot be found (the connection is gone, or another grpc-js: see
 * {@link assertCoalescing}).
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

/**
 * A grpc-js server interceptor coalescing the socket writes of every call's
 * responses (see the module). It must come first among the server's
 * interceptors, to be handed grpc-js's own call.
 */
export function coalescedWrites(): ServerInterceptor {
  return (_method, call) => {
    const socket = callSocket(call);
    if (socket === undefined) return new ServerInterceptingCall(call);
    const coalesce = () => corkUntilNextTick(socket);
    return new ServerInterceptingCall(call, {
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

const PROBE_PATH = "/sorcha.grpc.CoalescingProbe/Probe";

/**
 * Whether `find` finds the socket of a call as grpc-js hands it to its first
 * server interceptor: one unary call to a server of its own on loopback.
 */
export async function findsCallSocket(
  find: (call: ServerInterceptingCallInterface) => CorkableSocket | undefined = callSocket,
): Promise<boolean> {
  let found = false;
  const server = new Server({
    interceptors: [(_method, call) => {
      found = find(call) !== undefined;
      return new ServerInterceptingCall(call);
    }],
  });
  const bytes = (value: Buffer) => value;
  server.addService({
    probe: {
      path: PROBE_PATH,
      requestStream: false,
      responseStream: false,
      requestSerialize: bytes,
      requestDeserialize: bytes,
      responseSerialize: bytes,
      responseDeserialize: bytes,
    },
  }, {
    probe: (_call: unknown, done: (error: null, answer: Buffer) => void) =>
      done(null, Buffer.alloc(0)),
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, bound) => {
        if (error) reject(error);
        else resolve(bound);
      });
    });
    const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
    try {
      await new Promise<void>((resolve, reject) => {
        client.makeUnaryRequest(
          PROBE_PATH,
          bytes,
          bytes,
          Buffer.alloc(0),
          new Metadata(),
          { deadline: Date.now() + 10_000 },
          (error) => error ? reject(error) : resolve(),
        );
      });
    } finally {
      client.close();
    }
  } finally {
    server.forceShutdown();
  }
  return found;
}

let checked: Promise<void> | undefined;

/**
 * Resolves once it is known that {@link coalescedWrites} finds the sockets
 * of calls (checked once per process, see {@link findsCallSocket}); rejects
 * with an `internal` error saying what is missing otherwise, or when the
 * check itself could not run.
 */
export function assertCoalescing(): Promise<void> {
  checked ??= findsCallSocket().then(
    (found) => {
      if (found) return;
      throw new AppError(
        "internal",
        "gRPC write coalescing (shared/grpc/coalescing.ts) cannot find a call's socket: this grpc-js no longer keeps the private `stream` (an HTTP/2 stream whose `session.socket` has cork() and uncork()) on the call it hands its first server interceptor; adapt callSocket() to it, or pin the grpc-js it was written for (1.14)",
      );
    },
    (error: unknown) => {
      throw new AppError(
        "internal",
        `gRPC write coalescing (shared/grpc/coalescing.ts) could not be checked with a call over loopback: ${
          errorMessage(error)
        }`,
        { cause: error },
      );
    },
  );
  return checked;
}
