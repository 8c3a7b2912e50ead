/**
 * What the peer's HTTP process and its hub-link process say to each other,
 * one JSON object per line: the link's status (child → parent, on every
 * change, at most every {@link STATUS_INTERVAL_MS}), sync requests (parent →
 * child) and their results (child → parent), and requests for the link's
 * metrics (parent → child, for the peer's `/metrics`) and their Prometheus
 * text (child → parent). The child's standard input carries the requests;
 * its end means the parent is gone.
 *
 * @module
 */
import type { ErrorCode } from "../../shared/errors.ts";
import type { HubLinkStatus, SyncResult } from "./status.ts";

/** Least time between two status messages, in ms. */
export const STATUS_INTERVAL_MS = 25;

/** Child → parent. */
export type LinkMessage =
  | { type: "status"; status: HubLinkStatus }
  | { type: "result"; id: number; ok: true; result: SyncResult }
  | { type: "result"; id: number; ok: false; error: { code: ErrorCode; message: string } }
  | { type: "metrics"; id: number; text: string };

/** Parent → child. */
export type LinkCommand =
  | {
    type: "sync";
    id: number;
    full: boolean;
    /** The requester's W3C trace context (the sync continues its trace), when tracing is on. */
    traceparent?: string;
  }
  | { type: "metrics"; id: number };

const encoder = new TextEncoder();

/** One message as a line of bytes. */
export function encodeLine(message: LinkMessage | LinkCommand): Uint8Array {
  return encoder.encode(`${JSON.stringify(message)}\n`);
}

/** A line as a message of one of `types`; undefined when it is not one. */
export function decodeLine<T extends { type: string }>(
  line: string,
  types: readonly T["type"][],
): T | undefined {
  try {
    const value: unknown = JSON.parse(line);
    if (
      typeof value === "object" && value !== null &&
      types.includes((value as { type?: unknown }).type as T["type"])
    ) {
      return value as T;
    }
  } catch {
    // Not JSON: a stray line (the parent ignores it).
  }
  return undefined;
}
