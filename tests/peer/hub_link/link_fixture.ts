/**
 * Hub links in the test process, against real hubs on loopback: short
 * timings, an in-memory replica unless a store is given, and a wait for the
 * link's own progress.
 *
 * @module
 */
import type { HubLinkConfig } from "../../../peer/config.ts";
import { parseHubList } from "../../../peer/hub_link/hub_address.ts";
import {
  type HubClient,
  type HubTls,
  MAX_BLUEPRINT_BYTES,
  openHubClient,
} from "../../../peer/hub_link/hub_client.ts";
import { HubLink } from "../../../peer/hub_link/link.ts";
import type { LinkRecorder } from "../../../peer/hub_link/recorder.ts";
import type { HubLinkStatus } from "../../../peer/hub_link/status.ts";
import { MemoryReplicaStore } from "../../../peer/replica/memory_store.ts";
import type { ReplicaStore } from "../../../peer/replica/types.ts";
import { systemClock } from "../../../shared/clock.ts";
import { log } from "../../../shared/logging.ts";
import { createSystemScheduler } from "../../../shared/schedule.ts";
import { until } from "../../fixtures/wait.ts";

/** Timings that make a test quick and still tolerate a loaded machine. */
export const FAST_TIMINGS = {
  heartbeatIntervalMs: 200,
  heartbeatTimeoutMs: 600,
  heartbeatMaxMissed: 2,
  retryMaxMs: 500,
  connectTimeoutMs: 1500,
  syncIntervalMs: 600_000,
  failbackIntervalMs: 400,
} as const;

/** A link configuration for `addresses` with {@link FAST_TIMINGS} and `overrides`. */
export function linkConfig(
  addresses: readonly string[],
  overrides: Partial<HubLinkConfig> = {},
): HubLinkConfig {
  return {
    hubs: parseHubList(addresses.join(",")),
    ...FAST_TIMINGS,
    tlsCaPath: undefined,
    tlsServerName: undefined,
    ...overrides,
  };
}

/** Options of {@link startLink}. */
export interface StartLinkOptions {
  /** Timings and hubs beyond the defaults. */
  config?: Partial<HubLinkConfig>;
  /** The replica (default: a new in-memory one); the test owns a given one. */
  store?: ReplicaStore;
  /** NETWORK_TOKEN. */
  token?: string;
  /** TLS to the hubs. */
  tls?: HubTls;
  /** The largest document this peer takes. */
  maxBlueprintBytes?: number;
  /** This peer's id (default `peer-test`). */
  peerId?: string;
  /** Sees (and may wrap) every channel the link opens. */
  onOpen?: (client: HubClient) => HubClient;
  /** Records heartbeats and syncs (the link process's metrics). */
  recorder?: LinkRecorder;
  /** HTTP/2 keepalive of the channels: ping interval and timeout in ms (default 1000 each). */
  keepaliveMs?: number;
}

/** A link started by {@link startLink}; disposing it closes it. */
export interface TestLink extends AsyncDisposable {
  /** The link. */
  readonly link: HubLink;
  /** Its replica. */
  readonly store: ReplicaStore;
  /** Its status now. */
  status(): HubLinkStatus;
  /** Waits until `check` holds of its status (polling; for the link's own progress). */
  until(what: string, check: (status: HubLinkStatus) => boolean, timeoutMs?: number): Promise<void>;
}

/** Starts a link to `addresses` (in priority order). */
export function startLink(addresses: readonly string[], options: StartLinkOptions = {}): TestLink {
  const store = options.store ?? new MemoryReplicaStore();
  const config = linkConfig(addresses, options.config);
  const link = new HubLink({
    peerId: options.peerId ?? "peer-test",
    publicUrl: "http://127.0.0.1:8080",
    config,
    store,
    openClient: (address) => {
      const client = openHubClient(address, {
        token: options.token,
        tls: options.tls,
        keepaliveMs: options.keepaliveMs ?? 1000,
        keepaliveTimeoutMs: options.keepaliveMs ?? 1000,
        ...(options.maxBlueprintBytes ? { maxBlueprintBytes: options.maxBlueprintBytes } : {}),
      });
      return options.onOpen ? options.onOpen(client) : client;
    },
    maxBlueprintBytes: options.maxBlueprintBytes ?? MAX_BLUEPRINT_BYTES,
    clock: systemClock,
    scheduler: createSystemScheduler({ timersOnly: true }),
    logger: log("test", "hub-link"),
    ...(options.recorder ? { recorder: options.recorder } : {}),
  });
  link.start();
  return {
    link,
    store,
    status: () => link.status(),
    until: (what, check, timeoutMs = 15_000) =>
      until(what, () => Promise.resolve(check(link.status())), timeoutMs),
    async [Symbol.asyncDispose]() {
      await link.close();
      if (!options.store) await store.close();
    },
  };
}

/** Whether `status` is connected to the hub at `address`. */
export function connectedTo(status: HubLinkStatus, address: string): boolean {
  return status.state === "Connected" && status.session?.address === address;
}
