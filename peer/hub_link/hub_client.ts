/**
 * One connection to one hub: a gRPC channel, on a TCP connection of its
 * own, with the contract's three clients. The link keeps one per hub
 * (`hub_clients.ts`). After a hub failure a channel reconnects by itself
 * within a short backoff (0.5 s doubling to 2 s; grpc-js's default grows to
 * 2 minutes: a channel connected before a hub crash came back only after
 * 5-8 s). It never goes idle (an idle channel closes its connection, with a
 * GOAWAY the hub may not survive: see `hub_clients.ts`).
 *
 * The channel pings the hub over HTTP/2 (`keepaliveMs`, also while no call
 * runs), so a hub whose network silently drops packets is found even
 * between heartbeats; heartbeat deadlines find a hub that is up but hung.
 *
 * @module
 */
import { credentials } from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import { CentralNodeConnection } from "../../gen/sorcha/peer/v1/central_node_connection_pb.ts";
import { Heartbeat } from "../../gen/sorcha/peer/v1/heartbeat_pb.ts";
import { SystemRegisterSync } from "../../gen/sorcha/peer/v1/system_register_sync_pb.ts";
import { blueprintNotificationDecoder } from "../../shared/contracts/blueprint_notification_decoder.ts";
import { systemRegisterEntryDecoder } from "../../shared/contracts/system_register_entry_decoder.ts";
import {
  BULK_FLOW_CONTROL_WINDOW_BYTES,
  createClient,
  GrpcChannel,
  type ServiceClient,
} from "../../shared/grpc/mod.ts";

/** The largest document a peer takes, and announces as `max_blueprint_size` (16 MiB, the contract's). */
export const MAX_BLUEPRINT_BYTES = 16 * 1024 * 1024;

/** An idle timeout longer than any run (about 23 days; timers take at most 2^31 - 1 ms). */
const NEVER_IDLE_MS = 2_000_000_000;

/** Room for an entry's other fields (ids, metadata under 4 KiB, digest) beside its document. */
const ENTRY_OVERHEAD_BYTES = 64 * 1024;

/** TLS to hubs. */
export interface HubTls {
  /** PEM root certificates the hubs' certificates are verified with. */
  ca: Uint8Array;
  /** The name to verify on the certificate instead of the host (hubs listed by IP address). */
  serverName?: string | undefined;
}

/** Options of {@link openHubClient}. */
export interface HubClientOptions {
  /** Sent as `authorization: Bearer <token>` with every call (`NETWORK_TOKEN`). */
  token?: string | undefined;
  /** TLS; plaintext when unset. */
  tls?: HubTls | undefined;
  /** Idle time before an HTTP/2 ping, in ms. */
  keepaliveMs: number;
  /** How long a ping may go unanswered before the connection is dropped, in ms. */
  keepaliveTimeoutMs: number;
  /** The largest document this peer takes (default {@link MAX_BLUEPRINT_BYTES}). */
  maxBlueprintBytes?: number;
}

/** A hub's three services over one channel; close it when leaving the hub. */
export interface HubClient extends Disposable {
  /** The hub's `host:port`. */
  readonly address: string;
  /** CentralNodeConnection. */
  readonly connection: ServiceClient<typeof CentralNodeConnection>;
  /** Heartbeat. */
  readonly heartbeat: ServiceClient<typeof Heartbeat>;
  /** SystemRegisterSync (entries and notifications decoded by the contract's fast decoders). */
  readonly sync: ServiceClient<typeof SystemRegisterSync>;
  /** Closes the channel; calls still running are cancelled. */
  close(): void;
}

/** Opens a new channel to the hub at `address` (it connects on the first call). */
export function openHubClient(address: string, options: HubClientOptions): HubClient {
  const maxBlueprintBytes = options.maxBlueprintBytes ?? MAX_BLUEPRINT_BYTES;
  const channel = new GrpcChannel(address, {
    token: options.token,
    ...(options.tls ? { credentials: credentials.createSsl(Buffer.from(options.tls.ca)) } : {}),
    // A full sync streams thousands of entries: a large window lets the hub run.
    flowControlWindowBytes: BULK_FLOW_CONTROL_WINDOW_BYTES,
    channelOptions: {
      "grpc.max_receive_message_length": maxBlueprintBytes + ENTRY_OVERHEAD_BYTES,
      "grpc.keepalive_time_ms": options.keepaliveMs,
      "grpc.keepalive_timeout_ms": options.keepaliveTimeoutMs,
      "grpc.keepalive_permit_without_calls": 1,
      // A channel of its own connection: grpc-js otherwise shares one connection (subchannel)
      // among channels to the same address with the same options, so a "fresh" channel after a
      // hub failure would wait on the old connection's reconnect backoff.
      "grpc.use_local_subchannel_pool": 1,
      // Back soon after a hub failure: 0.5 s doubling to 2 s.
      "grpc.initial_reconnect_backoff_ms": 500,
      "grpc.max_reconnect_backoff_ms": 2000,
      // Never idle (grpc-js's default: 30 minutes without calls), so never a GOAWAY from here.
      "grpc.client_idle_timeout_ms": NEVER_IDLE_MS,
      ...(options.tls?.serverName
        ? { "grpc.ssl_target_name_override": options.tls.serverName }
        : {}),
    },
  });
  return {
    address,
    connection: createClient(CentralNodeConnection, channel),
    heartbeat: createClient(Heartbeat, channel),
    sync: createClient(SystemRegisterSync, channel, {
      decoders: [systemRegisterEntryDecoder, blueprintNotificationDecoder],
    }),
    close: () => channel.close(),
    [Symbol.dispose]: () => channel.close(),
  };
}
