/**
 * A grpc-js server for protobuf-es services: add services with their
 * implementations, listen on a host and port, and close (gracefully, then by
 * force after a grace period). Its interceptors coalesce the socket writes
 * of responses (`coalescing.ts`, checked when it first listens) and
 * pipeline the responses of streams (`pipelining.ts`).
 *
 * @module
 */
import type { DescService } from "@bufbuild/protobuf";
import { Server, ServerCredentials, type ServerOptions } from "@grpc/grpc-js";
import { listenError } from "../listen_failure.ts";
import { completeHttp2Constants } from "./http2_constants.ts";
import { serviceDefinition } from "./definition.ts";
import {
  type ServiceImplementation,
  serviceImplementation,
  type ServiceOptions,
} from "./handlers.ts";
import { assertCoalescing, coalescedWrites } from "./coalescing.ts";
import { DEFAULT_RESPONSE_WINDOW_BYTES, pipelinedResponses } from "./pipelining.ts";

/** Options of {@link GrpcServer}. */
export interface GrpcServerOptions extends ServiceOptions {
  /** grpc-js server options (message size limits, keepalive, interceptors ...). */
  serverOptions?: ServerOptions;
  /**
   * Bytes of responses a server stream may have handed to HTTP/2 and not yet
   * written out (default 64 KiB; 0: one response at a time, as grpc-js
   * does). See `pipelining.ts`.
   */
  responseWindowBytes?: number;
}

/** Options of {@link GrpcServer.listen}. */
export interface ListenOptions {
  /** Bind address (default 127.0.0.1). */
  host?: string;
  /** Port (default 0: any free port). */
  port?: number;
  /** TLS credentials; plaintext when unset. */
  credentials?: ServerCredentials;
}

/** Options of {@link GrpcServer.close}. */
export interface CloseOptions {
  /** How long running calls may take to finish before they are cancelled, in ms (default 5000). */
  graceMs?: number;
}

/** A grpc-js server serving protobuf-es services through the adapter. */
export class GrpcServer implements AsyncDisposable {
  /** The underlying grpc-js server (for services added by other means, such as health). */
  readonly server: Server;
  readonly #options: GrpcServerOptions;
  #listening = false;

  /** Creates a server; add services, then {@link listen}. */
  constructor(options: GrpcServerOptions = {}) {
    // Non-gRPC requests are answered 415 (see http2_constants.ts).
    completeHttp2Constants();
    const windowBytes = options.responseWindowBytes ?? DEFAULT_RESPONSE_WINDOW_BYTES;
    this.server = new Server({
      ...options.serverOptions,
      interceptors: [
        // First: it is handed grpc-js's own call (see coalescing.ts).
        coalescedWrites(),
        ...(windowBytes > 0 ? [pipelinedResponses(windowBytes)] : []),
        ...(options.serverOptions?.interceptors ?? []),
      ],
    });
    this.#options = options;
  }

  /** Serves `service` with `implementation`; its missing methods answer UNIMPLEMENTED. */
  add<S extends DescService>(
    service: S,
    implementation: Partial<ServiceImplementation<S>>,
  ): this {
    this.server.addService(
      serviceDefinition(service),
      serviceImplementation(service, implementation, this.#options),
    );
    return this;
  }

  /**
   * Starts listening; resolves with the bound port. Rejects with the error
   * of `listen_failure.ts` (`unavailable`, saying why) when it cannot, and
   * with `internal` when write coalescing cannot work with this grpc-js
   * (`coalescing.ts`: checked once per process, before the first listen).
   */
  async listen(options: ListenOptions = {}): Promise<number> {
    await assertCoalescing();
    const host = options.host ?? "127.0.0.1";
    const address = `${host.includes(":") ? `[${host}]` : host}:${options.port ?? 0}`;
    return await new Promise((resolve, reject) => {
      this.server.bindAsync(
        address,
        options.credentials ?? ServerCredentials.createInsecure(),
        (error, port) => {
          if (error) reject(listenError(error, { host, port: options.port ?? 0 }, "gRPC"));
          else {
            this.#listening = true;
            resolve(port);
          }
        },
      );
    });
  }

  /**
   * Stops taking calls, lets running ones finish for up to `graceMs`, then
   * cancels the rest.
   */
  async close(options: CloseOptions = {}): Promise<void> {
    if (!this.#listening) return;
    this.#listening = false;
    const graceMs = options.graceMs ?? 5000;
    if (graceMs <= 0) {
      this.server.forceShutdown();
      return;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    await new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => resolve());
    });
    clearTimeout(timer);
  }

  /** Closes at once, cancelling running calls. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close({ graceMs: 0 });
  }
}
