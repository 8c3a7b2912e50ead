/**
 * A register app wired to a peer app in the same process: the register's
 * peer client calls the peer app through `app.request()`, a switch makes the
 * peer unreachable, and a fake scheduler and manual clock drive time.
 *
 * @module
 */
import { getLogger, type Logger } from "@logtape/logtape";
import { PeerClient } from "../../shared/client/peer_client.ts";
import { ManualClock } from "../../shared/clock.ts";
import type { HttpApp } from "../../shared/http/app.ts";
import type { ServiceMetrics } from "../../shared/telemetry/mod.ts";
import { createRegisterApp } from "../../register/app.ts";
import { RegisterService } from "../../register/registers/service.ts";
import { PeerSync } from "../../register/resync/peer_sync.ts";
import { openSqliteRegisterStore } from "../../register/store/sqlite_store.ts";
import type { Register, RegisterStore } from "../../register/store/types.ts";
import { FakeScheduler } from "../fixtures/fake_scheduler.ts";
import { createTestPeer, type TestPeer } from "../peer/helpers.ts";
import { callApp, type CallResult } from "../fixtures/http.ts";

/** Options of {@link createTestNetwork}. */
export interface TestNetworkOptions {
  /** Start with the peer unreachable (default false). */
  peerDown?: boolean;
  /** The register service's API_TOKEN. */
  apiToken?: string;
  /** The peer's API_TOKEN. */
  peerApiToken?: string;
  /** The token the register sends to the peer. */
  tokenForPeer?: string;
  /** Reuse a register store (to test restarts). */
  store?: RegisterStore;
  /** Do not call `sync.start()` (default: started). */
  noStart?: boolean;
  /** Reconciliation interval in ms (default 300 000). */
  intervalMs?: number;
  /** Retry ceiling in ms (default 60 000). */
  retryMaxMs?: number;
  /** Most registers per request of a full sync (default: the service's). */
  partSize?: number;
  /** Answers a call to the peer instead of it, when it returns a response (a peer that refuses). */
  intercept?: (request: Request) => Response | undefined;
  /** Where the sync logs (default: a logger without a sink). */
  logger?: Logger;
  /** The register service's metrics, served at its `/metrics` (default: none). */
  metrics?: ServiceMetrics;
  /** The register service's METRICS_TOKEN. */
  metricsToken?: string;
}

/** A register service and a peer, in one process. */
export interface TestNetwork extends AsyncDisposable {
  peer: TestPeer;
  register: HttpApp;
  store: RegisterStore;
  sync: PeerSync;
  scheduler: FakeScheduler;
  clock: ManualClock;
  /** Requests the register sent to the peer: `METHOD /path`. */
  peerCalls: string[];
  /**
   * Holds every call to the peer until `release` is called; `arrived`
   * resolves when the first held call comes in.
   */
  holdPeer(): { release(): void; arrived: Promise<void> };
  /** Makes the peer unreachable (connection refused) or reachable again. */
  setPeerReachable(reachable: boolean): void;
  /** Calls the register app; returns status and parsed JSON. */
  call(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<CallResult>;
  /** Ids the peer lists as available. */
  availableIds(): Promise<string[]>;
}

/** Creates a register app and a peer app wired together. */
export async function createTestNetwork(options: TestNetworkOptions = {}): Promise<TestNetwork> {
  const clock = new ManualClock();
  const scheduler = new FakeScheduler(clock);
  const peer = await createTestPeer({
    clock,
    ...(options.peerApiToken ? { apiToken: options.peerApiToken } : {}),
  });
  let reachable = !options.peerDown;
  const peerCalls: string[] = [];
  let hold: Promise<void> | undefined;
  let onArrival: (() => void) | undefined;
  const client = new PeerClient({
    baseUrl: "http://peer.test",
    token: options.tokenForPeer ?? options.peerApiToken,
    fetch: async (request) => {
      if (hold) {
        onArrival?.();
        await hold;
      }
      if (!reachable) throw new TypeError("error sending request: Connection refused");
      peerCalls.push(`${request.method} ${new URL(request.url).pathname}`);
      return options.intercept?.(request) ?? await peer.app.request(request);
    },
  });
  const store = options.store ?? openSqliteRegisterStore(":memory:");
  const sync = new PeerSync(store, client, {
    scheduler,
    clock,
    intervalMs: options.intervalMs ?? 300_000,
    retryMaxMs: options.retryMaxMs ?? 60_000,
    retryJitter: 0,
    ...(options.partSize ? { partSize: options.partSize } : {}),
    logger: options.logger ?? getLogger(["sorcha", "test", "sync"]),
    ...(options.metrics ? { metrics: options.metrics } : {}),
  });
  const service = new RegisterService(store, { listener: sync, clock });
  const { metrics } = options;
  const register = createRegisterApp({
    service,
    store,
    sync,
    apiToken: options.apiToken,
    ...(metrics
      ? { metrics: { render: () => metrics.render(), token: options.metricsToken } }
      : {}),
  });
  if (!options.noStart) sync.start();
  return {
    peer,
    register,
    store,
    sync,
    scheduler,
    clock,
    peerCalls,
    holdPeer() {
      const { promise, resolve } = Promise.withResolvers<void>();
      const arrived = Promise.withResolvers<void>();
      hold = promise;
      onArrival = arrived.resolve;
      return {
        arrived: arrived.promise,
        release() {
          hold = undefined;
          onArrival = undefined;
          resolve();
        },
      };
    },
    setPeerReachable(value) {
      reachable = value;
    },
    call(method, path, body, headers) {
      return callApp(register, { method, path, body, ...(headers ? { headers } : {}) });
    },
    async availableIds() {
      return (await peer.call("GET", "/api/registers/available")).body.map(
        (r: { registerId: string }) => r.registerId,
      );
    },
    async [Symbol.asyncDispose]() {
      await sync.close();
      if (!options.store) await store.close();
      await peer[Symbol.asyncDispose]();
    },
  };
}

/** When the test registers were created (2026-01-01, UTC). */
export const T0 = Date.UTC(2026, 0, 1);

/** Register `n` (id `n` in 32 hex digits), advertised and public, version 0, made at {@link T0}. */
export function register(n: number, fields: Partial<Register> = {}): Register {
  return {
    id: n.toString(16).padStart(32, "0"),
    name: `register ${n}`,
    advertise: true,
    isPublic: true,
    latestVersion: 0,
    latestDocketVersion: 0,
    createdAt: new Date(T0).toISOString(),
    updatedAt: new Date(T0).toISOString(),
    ...fields,
  };
}

/** A line a {@link recordingLogger} kept. */
export interface RecordedLine {
  /** Its level. */
  level: string;
  /** Its message, the properties filled in. */
  message: string;
  /** Its properties. */
  properties: Record<string, unknown>;
}

/** A logger keeping each line's level, message (filled in) and properties. */
export function recordingLogger(): { logger: Logger; lines: RecordedLine[] } {
  const lines: RecordedLine[] = [];
  const at = (level: string) => (message: string, properties: Record<string, unknown> = {}) => {
    const filled = message.replace(/\{(\w+)\}/g, (_, key: string) => String(properties[key]));
    lines.push({ level, message: filled, properties });
  };
  const logger = {
    debug: at("debug"),
    info: at("info"),
    warn: at("warning"),
    warning: at("warning"),
    error: at("error"),
    fatal: at("fatal"),
  } as unknown as Logger; // only the methods the register service's code calls
  return { logger, lines };
}
