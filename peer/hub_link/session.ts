/**
 * A session with one hub: opened by `ConnectToCentralNode` within the
 * connection deadline, on the hub's channel (kept open across sessions: see
 * `hub_clients.ts`), ended by `DisconnectFromCentralNode` with a short
 * deadline that nobody waits on (a hung hub must not hold the peer).
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import { DisconnectReason } from "../../gen/sorcha/peer/v1/central_node_connection_pb.ts";
import type { Clock } from "../../shared/clock.ts";
import { deadline } from "../../shared/deadline.ts";
import { AppError, errorMessage } from "../../shared/errors.ts";
import type { Scheduler } from "../../shared/schedule.ts";
import type { HubClient } from "./hub_client.ts";
import type { HubRecord } from "./hubs.ts";

export { DisconnectReason };

/** How long a disconnection may take before the channel is closed anyway, in ms. */
export const DISCONNECT_TIMEOUT_MS = 1000;

/** An open session. */
export interface Session {
  /** The hub. */
  hub: HubRecord;
  /** Its clients (a channel of this session's own). */
  client: HubClient;
  /** The session id the hub gave. */
  sessionId: string;
  /** The hub's id. */
  centralNodeId: string;
  /** When it opened. */
  connectedAt: number;
  /** The hub's version, as it last said. */
  hubVersion: number;
  /** The network identity the hub announced ("" when it does not say). */
  genesisChecksum: string;
  /** The heartbeat interval the hub asked for, in ms (0: it did not say). */
  hubHeartbeatIntervalMs: number;
  /** Aborted when the session ends; everything done for it stops. */
  readonly stop: AbortController;
}

/** What opening and closing sessions needs. */
export interface SessionContext {
  /** This peer's id. */
  peerId: string;
  /** How other peers reach this one (its host and port are told to the hub). */
  publicUrl: string;
  /** The largest document this peer takes, announced to the hub. */
  maxBlueprintBytes: number;
  /** The channel to a hub (one per hub, kept open: see `hub_clients.ts`). */
  client: (address: string) => HubClient;
  /** The deadline of `ConnectToCentralNode`, in ms. */
  connectTimeoutMs: number;
  /** Time. */
  clock: Clock;
  /** Deadlines. */
  scheduler: Scheduler;
  /** Where it logs. */
  logger: Logger;
}

/** The host and port of a URL, for `PeerInfo`. */
function addressOf(url: string): { address: string; port: number } {
  try {
    const parsed = new URL(url);
    const port = parsed.port ? Number(parsed.port) : parsed.protocol === "https:" ? 443 : 80;
    return { address: parsed.hostname.replace(/^\[|\]$/g, ""), port };
  } catch {
    return { address: "", port: 0 };
  }
}

/**
 * Opens a session with `hub` as a peer at `cursor`. Throws the failure (an
 * AppError: `deadline_exceeded` when the hub did not answer in time,
 * `resource_exhausted` when it rate-limited the peer).
 */
export async function openSession(
  hub: HubRecord,
  options: { context: SessionContext; cursor: number; signal: AbortSignal },
): Promise<Session> {
  const { context } = options;
  const client = context.client(hub.address);
  using time = deadline(context.scheduler, context.connectTimeoutMs, {
    what: `Connecting to hub ${hub.address}`,
    signal: options.signal,
  });
  const answer = await client.connection.connectToCentralNode({
    peerId: context.peerId,
    peerInfo: {
      ...addressOf(context.publicUrl),
      nodeType: "Peer",
      supportedProtocols: ["grpc", "http"],
      capabilities: {
        supportsPushNotifications: true,
        supportsIncrementalSync: true,
        maxBlueprintSize: context.maxBlueprintBytes,
        isNatRestricted: false,
      },
    },
    lastKnownVersion: BigInt(options.cursor),
    connectionTime: BigInt(context.clock.now()),
  }, { signal: time.signal });
  if (!answer.success || !answer.sessionId) {
    throw new AppError(
      "unavailable",
      `Hub ${hub.address} refused the connection: ${answer.message || "no session given"}`,
    );
  }
  return {
    hub,
    client,
    sessionId: answer.sessionId,
    centralNodeId: answer.centralNodeId || hub.address,
    connectedAt: context.clock.now(),
    hubVersion: Number(answer.currentSystemRegisterVersion),
    genesisChecksum: answer.genesisChecksum,
    hubHeartbeatIntervalMs: answer.heartbeatIntervalSeconds * 1000,
    stop: new AbortController(),
  };
}

/**
 * Ends `session`: everything done for it stops at once; the hub is told
 * (`DisconnectFromCentralNode`, {@link DISCONNECT_TIMEOUT_MS}) without the
 * caller waiting. The returned promise settles when that is done (for a
 * clean shutdown); it never rejects.
 */
export function closeSession(
  session: Session,
  options: { context: SessionContext; reason: DisconnectReason },
): Promise<void> {
  session.stop.abort();
  const { context } = options;
  return (async () => {
    using time = deadline(context.scheduler, DISCONNECT_TIMEOUT_MS, {
      what: `Disconnecting from hub ${session.hub.address}`,
    });
    try {
      await session.client.connection.disconnectFromCentralNode({
        peerId: context.peerId,
        sessionId: session.sessionId,
        reason: options.reason,
        disconnectTime: BigInt(context.clock.now()),
      }, { signal: time.signal });
    } catch (error) {
      context.logger.debug("Hub {hub} was not told of the disconnection: {error}", {
        hub: session.hub.address,
        error: errorMessage(error),
      });
    }
  })();
}
