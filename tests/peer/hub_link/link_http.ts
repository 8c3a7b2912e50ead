/**
 * HTTP helpers of the hub link's process tests: publish on a hub, read a
 * peer's link status, checkpoint and replica, and list either's active
 * entries page by page; every request has a deadline and reads its answer
 * whole.
 *
 * @module
 */
import type { z } from "@hono/zod-openapi";
import type {
  CheckpointSchema,
  ConnectionStatusSchema,
  HeartbeatStatusSchema,
} from "../../../peer/hub_link/http_schemas.ts";

/** A service reachable over HTTP (a hub or a peer). */
export interface Reachable {
  /** Its base URL, `http://127.0.0.1:<port>`. */
  readonly url: string;
}

/** A status and the parsed JSON body. */
export interface JsonAnswer {
  /** The HTTP status. */
  status: number;
  /** The body, parsed (the text when it is not JSON). */
  body: unknown;
}

/** Sends a request (a body is sent as JSON) and reads the whole answer, within `timeoutMs`. */
export async function requestJson(
  url: string,
  init: { method?: string; body?: unknown; timeoutMs?: number } = {},
): Promise<JsonAnswer> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), init.timeoutMs ?? 5000);
  try {
    const res = await fetch(url, {
      method: init.method ?? "GET",
      signal: abort.signal,
      ...(init.body === undefined ? {} : {
        body: JSON.stringify(init.body),
        headers: { "content-type": "application/json" },
      }),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch { /* not JSON */ }
    return { status: res.status, body };
  } finally {
    clearTimeout(timer);
  }
}

/** `GET url` within `timeoutMs`. */
export function getJson(url: string, timeoutMs = 5000): Promise<JsonAnswer> {
  return requestJson(url, { timeoutMs });
}

/** `GET url`, which must answer 200; its body as `T`. */
export async function getOk<T>(url: string, timeoutMs = 5000): Promise<T> {
  const answer = await getJson(url, timeoutMs);
  if (answer.status !== 200) {
    throw new Error(`GET ${url} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  }
  return answer.body as T;
}

/** `GET /api/connection/status` of a peer. */
export type ConnectionStatus = z.output<typeof ConnectionStatusSchema>;
/** `GET /api/sync/checkpoint` of a peer. */
export type Checkpoint = z.output<typeof CheckpointSchema>;
/** `GET /api/heartbeat/status` of a peer. */
export type HeartbeatStatus = z.output<typeof HeartbeatStatusSchema>;

/** A peer's connection status. */
export function connectionStatus(peer: Reachable): Promise<ConnectionStatus> {
  return getOk<ConnectionStatus>(`${peer.url}/api/connection/status`);
}

/** A peer's replica checkpoint. */
export function checkpoint(peer: Reachable): Promise<Checkpoint> {
  return getOk<Checkpoint>(`${peer.url}/api/sync/checkpoint`);
}

/** A hub's `currentVersion` (`GET /api/system-register`). */
export async function hubVersion(hub: Reachable): Promise<number> {
  return (await getOk<{ currentVersion: number }>(`${hub.url}/api/system-register`, 3000))
    .currentVersion;
}

/** One active entry as compared between hubs and replicas. */
export interface ListedEntry {
  /** The blueprint. */
  blueprintId: string;
  /** Its active entry's version. */
  version: number;
  /** Its document's checksum. */
  checksum: string;
}

/**
 * Every entry of `GET /api/system-register/blueprints` at `baseUrl` (a hub's
 * active set, or a peer's replica), all pages, in version order.
 */
export async function listAll(baseUrl: string): Promise<ListedEntry[]> {
  const entries: ListedEntry[] = [];
  let since = 0;
  while (true) {
    const page = await getOk<{ blueprints: ListedEntry[]; nextSinceVersion: number | null }>(
      `${baseUrl}/api/system-register/blueprints?sinceVersion=${since}&limit=1000`,
    );
    for (const { blueprintId, version, checksum } of page.blueprints) {
      entries.push({ blueprintId, version, checksum });
    }
    if (page.nextSinceVersion === null) return entries;
    since = page.nextSinceVersion;
  }
}

/** A publication's answer. */
export interface Published {
  /** The blueprint. */
  blueprintId: string;
  /** The version it got. */
  version: number;
  /** Its checksum. */
  checksum: string;
}

/** Publishes `document` as `blueprintId` on `hub`; throws unless it answers 201. */
export async function publish(
  hub: Reachable,
  blueprintId: string,
  document: unknown,
  timeoutMs = 5000,
): Promise<Published> {
  const answer = await requestJson(`${hub.url}/api/system-register/blueprints`, {
    method: "POST",
    body: { blueprintId, document },
    timeoutMs,
  });
  if (answer.status !== 201) {
    throw new Error(
      `publishing ${blueprintId} answered ${answer.status}: ${JSON.stringify(answer.body)}`,
    );
  }
  return answer.body as Published;
}
