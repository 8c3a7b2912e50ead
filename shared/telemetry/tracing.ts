/**
 * Spans through the OpenTelemetry API, exported by Deno's built-in support
 * when `OTEL_DENO=true` (no-ops otherwise), and W3C trace context carried
 * where Deno does not carry it by itself: gRPC metadata and messages. Deno's
 * `fetch` and `Deno.serve` carry `traceparent` over HTTP on their own.
 *
 * @module
 */
import {
  type Attributes,
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { errorMessage } from "../errors.ts";
import { VERSION } from "../version.ts";

export { type Attributes, type Context, ROOT_CONTEXT, type Span, SpanKind };

/** The project's tracer. */
const tracer = trace.getTracer("sorcha", VERSION);

/** Options of {@link inSpan}. */
export interface SpanOptions {
  /** The span's attributes. */
  attributes?: Attributes;
  /** Its kind (default internal). */
  kind?: SpanKind;
  /** Its parent (default the active context). */
  parent?: Context;
}

/**
 * Runs `work` in a new active span `name`, ended when `work` settles; a
 * failure is recorded on the span (status error, the exception) and thrown on.
 */
export function inSpan<T>(
  name: string,
  work: (span: Span) => Promise<T> | T,
  options: SpanOptions = {},
): Promise<T> {
  const parent = options.parent ?? context.active();
  return tracer.startActiveSpan(
    name,
    {
      kind: options.kind ?? SpanKind.INTERNAL,
      ...(options.attributes ? { attributes: options.attributes } : {}),
    },
    parent,
    async (span) => {
      try {
        return await work(span);
      } catch (error) {
        failSpan(span, error);
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/**
 * Starts a span `name` that the caller ends (`span.end()`), for work that
 * outlives one call (a stream served across its generator's yields). It is
 * not made active.
 */
export function startSpan(name: string, options: SpanOptions = {}): Span {
  return tracer.startSpan(
    name,
    {
      kind: options.kind ?? SpanKind.INTERNAL,
      ...(options.attributes ? { attributes: options.attributes } : {}),
    },
    options.parent ?? context.active(),
  );
}

/** The active context (to run work in later with {@link withContext}). */
export function activeContext(): Context {
  return context.active();
}

/** Whether `parent` holds a valid span context (a trace to continue). */
export function hasTrace(parent: Context): boolean {
  const ids = trace.getSpanContext(parent);
  return ids !== undefined && trace.isSpanContextValid(ids);
}

/** Marks `span` failed with `error`. */
export function failSpan(span: Span, error: unknown): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) });
  if (error instanceof Error) span.recordException(error);
}

/** The ids of the active span, when one is recording (for log lines). */
export function activeSpanIds(): { traceId: string; spanId: string } | undefined {
  const span = trace.getActiveSpan();
  if (!span) return undefined;
  const ids = span.spanContext();
  if (!trace.isSpanContextValid(ids)) return undefined;
  return { traceId: ids.traceId, spanId: ids.spanId };
}

/** The trace context of the active span as headers (`traceparent`, `tracestate`); empty when none. */
export function traceHeaders(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

/** The `traceparent` naming `span` (undefined when tracing is off). */
export function traceparentOf(span: Span): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(ROOT_CONTEXT, span), carrier);
  return carrier.traceparent;
}

/** The context a `traceparent` (and `tracestate`) names; the root context when there is none. */
export function contextOf(headers: {
  traceparent?: string | undefined;
  tracestate?: string | undefined;
}): Context {
  if (!headers.traceparent) return ROOT_CONTEXT;
  const carrier: Record<string, string> = { traceparent: headers.traceparent };
  if (headers.tracestate) carrier.tracestate = headers.tracestate;
  return propagation.extract(ROOT_CONTEXT, carrier);
}

/** Runs `work` with `parent` as the active context. */
export function withContext<T>(parent: Context, work: () => T): T {
  return context.with(parent, work);
}
