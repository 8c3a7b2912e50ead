/**
 * A peer app over an in-memory store and a manual clock, for tests through
 * `app.request()`.
 *
 * @module
 */
import { ManualClock } from "../../shared/clock.ts";
import { AdvertisementRegistry } from "../../peer/advertisements/mod.ts";
import { createPeerApp } from "../../peer/app.ts";
import { MemoryAdvertisementStore } from "../../peer/store/memory_store.ts";
import type { HttpApp } from "../../shared/http/app.ts";
import type { Scheduler } from "../../shared/schedule.ts";
import type { ServiceMetrics } from "../../shared/telemetry/mod.ts";
import { callApp, type CallResult } from "../fixtures/http.ts";

/** Options of {@link createTestPeer}. */
export interface TestPeerOptions {
  /** Reuse a store (to test restarts); a new one by default. */
  store?: MemoryAdvertisementStore;
  /** Reuse a clock; a new one by default. */
  clock?: ManualClock;
  /** TTL in seconds (default 300). */
  ttlSeconds?: number;
  /** Grace in seconds (default 75). */
  graceSeconds?: number;
  /** API token, if any. */
  apiToken?: string;
  /** Whether to wait for the registry's start (default true). */
  start?: boolean;
  /** Wakes the expiry of full syncs sent in parts (default: the system scheduler). */
  scheduler?: Scheduler;
  /** Metrics recorded by the registry and served at `/metrics` (default: none, no `/metrics`). */
  metrics?: ServiceMetrics;
}

/** A peer under test. */
export interface TestPeer extends AsyncDisposable {
  app: HttpApp;
  registry: AdvertisementRegistry;
  store: MemoryAdvertisementStore;
  clock: ManualClock;
  /** Sends a request with an optional JSON body and headers; returns status and parsed JSON. */
  call(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<CallResult>;
}

/** Creates a peer app over a memory store. */
export async function createTestPeer(options: TestPeerOptions = {}): Promise<TestPeer> {
  const clock = options.clock ?? new ManualClock();
  const store = options.store ?? new MemoryAdvertisementStore({ clock });
  const registry = new AdvertisementRegistry(store, {
    ttlMs: (options.ttlSeconds ?? 300) * 1000,
    graceMs: (options.graceSeconds ?? 75) * 1000,
    clock,
    ...(options.scheduler ? { scheduler: options.scheduler } : {}),
    ...(options.metrics ? { metrics: options.metrics } : {}),
  });
  if (options.start !== false) await registry.start();
  const metrics = options.metrics;
  const app = createPeerApp({
    registry,
    apiToken: options.apiToken,
    ...(metrics ? { metrics: { render: () => metrics.render() } } : {}),
  });
  return {
    app,
    registry,
    store,
    clock,
    call(method, path, body, headers) {
      return callApp(app, { method, path, body, ...(headers ? { headers } : {}) });
    },
    async [Symbol.asyncDispose]() {
      await registry.close();
    },
  };
}

/** A register id made from a number: 32 hex characters. */
export function rid(n: number): string {
  return n.toString(16).padStart(32, "0");
}

/** A bulk item. */
export function item(
  n: number,
  fields: { isPublic?: boolean; latestVersion?: number; latestDocketVersion?: number } = {},
) {
  return { registerId: rid(n), isPublic: fields.isPublic ?? true, ...fields };
}
