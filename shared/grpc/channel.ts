/**
 * A connection to one gRPC server, shared by the typed clients of all its
 * services (see `client.ts`), with what every call on it sends: a bearer
 * token, default metadata, a default deadline for unary calls.
 *
 * @module
 */
import {
  type ChannelCredentials,
  type ChannelOptions,
  Client,
  credentials as grpcCredentials,
  type Metadata,
} from "@grpc/grpc-js";
import { traceHeaders } from "../telemetry/mod.ts";
import { toMetadata } from "./metadata.ts";

/**
 * An HTTP/2 flow-control window for channels that stream bulk data, such as
 * a peer's full sync from a hub (see {@link GrpcChannelOptions.flowControlWindowBytes}).
 */
export const BULK_FLOW_CONTROL_WINDOW_BYTES = 1024 * 1024;

/** Options of {@link GrpcChannel}. */
export interface GrpcChannelOptions {
  /** TLS credentials; plaintext when unset. */
  credentials?: ChannelCredentials;
  /** Sent with every call as `authorization: Bearer <token>` when set. */
  token?: string | undefined;
  /** Sent with every call (a call's own metadata adds to it and wins). */
  metadata?: Readonly<Record<string, string>>;
  /** Deadline of each unary call, in ms from its start, unless the call sets its own (default none). */
  timeoutMs?: number;
  /**
   * The HTTP/2 flow-control window, per stream and for the connection: how
   * much a server may send before this side has taken it (default: HTTP/2's
   * 64 KiB). A server streaming many messages (a full sync) waits on window
   * updates with the default; {@link BULK_FLOW_CONTROL_WINDOW_BYTES} lets it
   * run. A reader that stops holds the server back all the same, once a
   * window is in flight, but a stalled subscriber is then noticed that much
   * later.
   */
  flowControlWindowBytes?: number;
  /** grpc-js channel options (message size limits, keepalive ...). */
  channelOptions?: ChannelOptions;
}

/** One connection to a gRPC server at `host:port`; close it (or `using`) when done. */
export class GrpcChannel implements Disposable {
  /** The server's address, `host:port`. */
  readonly address: string;
  /** Deadline of unary calls in ms, when set. */
  readonly timeoutMs: number | undefined;
  /** The underlying grpc-js client (it calls any method path). */
  readonly client: Client;
  readonly #metadata: Readonly<Record<string, string>>;

  /** Opens a channel to `address` (`host:port`); it connects on the first call. */
  constructor(address: string, options: GrpcChannelOptions = {}) {
    this.address = address;
    this.timeoutMs = options.timeoutMs;
    this.client = new Client(
      address,
      options.credentials ?? grpcCredentials.createInsecure(),
      {
        ...(options.flowControlWindowBytes === undefined
          ? {}
          : { "grpc-node.flow_control_window": options.flowControlWindowBytes }),
        ...options.channelOptions,
      },
    );
    this.#metadata = {
      ...options.metadata,
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    };
  }

  /** The metadata of one call: the channel's, the active trace context, then the call's own. */
  metadata(own?: Readonly<Record<string, string>>): Metadata {
    return toMetadata({ ...this.#metadata, ...traceHeaders(), ...own });
  }

  /** Closes the connection; calls still running are cancelled. */
  close(): void {
    this.client.close();
  }

  /** Closes the connection. */
  [Symbol.dispose](): void {
    this.close();
  }
}
