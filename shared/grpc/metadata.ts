/**
 * gRPC metadata (request headers and trailers) to and from plain records,
 * the bearer token of `authorization: Bearer <token>`, and the W3C trace
 * context of `traceparent`.
 *
 * @module
 */
import { Metadata } from "@grpc/grpc-js";
import { type Context, contextOf } from "../telemetry/mod.ts";

/** Metadata holding `values`; keys are lowercased, as gRPC requires. */
export function toMetadata(values: Readonly<Record<string, string>>): Metadata {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(values)) metadata.set(key.toLowerCase(), value);
  return metadata;
}

/** The first text value of `key` (case-insensitive), if any. */
export function metadataValue(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key.toLowerCase())[0];
  return typeof value === "string" ? value : undefined;
}

/** The token of `authorization: Bearer <token>`, if the metadata carries one. */
export function bearerToken(metadata: Metadata): string | undefined {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(metadataValue(metadata, "authorization") ?? "");
  return match?.[1];
}

/** The trace context a call's `traceparent` metadata names (the root context without one). */
export function traceContextOf(metadata: Metadata): Context {
  return contextOf({
    traceparent: metadataValue(metadata, "traceparent"),
    tracestate: metadataValue(metadata, "tracestate"),
  });
}
