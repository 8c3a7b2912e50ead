/**
 * A peer's hub-link endpoints, read by the hub-link benchmarks over HTTP
 * (`GET /api/connection/status`, `GET /api/sync/checkpoint`), typed by the
 * peer's own schemas, and polling at a fine grain until a condition holds
 * (the fixtures' `until` polls every 50 ms, too coarse to time a failover).
 *
 * @module
 */
import type { z } from "@hono/zod-openapi";
import type { CheckpointSchema, ConnectionStatusSchema } from "../../peer/hub_link/http_schemas.ts";

/** `GET /api/connection/status`. */
export type ConnectionStatus = z.infer<typeof ConnectionStatusSchema>;

/** `GET /api/sync/checkpoint`. */
export type Checkpoint = z.infer<typeof CheckpointSchema>;

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url);
  if (!response.ok) {
    throw new Error(`GET ${url}: HTTP ${response.status}: ${await response.text()}`);
  }
  return await response.json() as T;
}

/** The peer at `peerUrl`'s connection status. */
export function connectionStatus(peerUrl: string): Promise<ConnectionStatus> {
  return getJson(`${peerUrl}/api/connection/status`);
}

/** The peer at `peerUrl`'s replica checkpoint. */
export function checkpoint(peerUrl: string): Promise<Checkpoint> {
  return getJson(`${peerUrl}/api/sync/checkpoint`);
}

/** Whether `status` says Connected to the hub at `address` (`host:port`). */
export function connectedTo(status: ConnectionStatus, address: string): boolean {
  return status.status === "Connected" && status.connectedHub === address;
}

/** Options of {@link pollUntil}. */
export interface PollOptions {
  /** What is awaited, for the timeout's message. */
  what: string;
  /** Time between two checks, in ms (default 10; 0: back to back). */
  intervalMs?: number;
  /** How long to wait, in ms (default 30 000). */
  timeoutMs?: number;
}

/**
 * Checks `check` until it returns a value other than undefined, and returns
 * it. A check that throws (a process not serving yet) counts as not holding;
 * its error is in the timeout's message.
 */
export async function pollUntil<T>(
  check: () => Promise<T | undefined>,
  options: PollOptions,
): Promise<T> {
  const { what, intervalMs = 10, timeoutMs = 30_000 } = options;
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  while (true) {
    try {
      const value = await check();
      if (value !== undefined) return value;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (performance.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting until ${what}` +
          (lastError === undefined ? "" : ` (last error: ${lastError})`),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
