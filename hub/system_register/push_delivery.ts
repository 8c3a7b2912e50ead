/**
 * The trace of a publication's notifications: this hub's publications
 * remember their trace context until the watcher announces their entries
 * (whichever check of the store reads them), and each announcement is
 * handed to the subscribers in a `hub.push.deliver` span, a child of its
 * publication's, whose `traceparent` the notifications carry.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import { errorMessage } from "../../shared/errors.ts";
import {
  contextOf,
  failSpan,
  ROOT_CONTEXT,
  startSpan,
  traceHeaders,
  traceparentOf,
  withContext,
} from "../../shared/telemetry/mod.ts";
import type { BlueprintEvent } from "../notifications/events.ts";

/** The trace context of this hub's publications not yet announced, by version. */
export class PublicationTraces {
  readonly #byVersion = new Map<number, string>();

  /** Runs `announce` (the check that announces `version`) remembering the active trace for it. */
  async during<T>(version: number, announce: () => Promise<T>): Promise<T> {
    const { traceparent } = traceHeaders();
    if (traceparent) this.#byVersion.set(version, traceparent);
    try {
      return await announce();
    } finally {
      this.#byVersion.delete(version);
    }
  }

  /** The `traceparent` of the publication of `version`, while it is being announced by this hub. */
  of(version: number): string | undefined {
    return this.#byVersion.get(version);
  }
}

/** Options of {@link deliverInSpan}. */
export interface DeliveryOptions {
  /** The publication's `traceparent`, when this hub published the entry. */
  publication: string | undefined;
  /** Hands the event to the subscribers; returns how many there are. */
  publish: (event: BlueprintEvent) => number;
  /** Where a failure is logged. */
  logger?: Logger | undefined;
}

/**
 * Hands `event` to the subscribers in a `hub.push.deliver` span. The span is
 * not made active: the subscribers' streams, woken by the notification, do
 * not run in its context (nor in the publication's), which would cost every
 * write of the fan-out. A failure is recorded on the span and logged.
 */
export function deliverInSpan(event: BlueprintEvent, options: DeliveryOptions): void {
  const { entry } = event;
  const span = startSpan("hub.push.deliver", {
    attributes: {
      "sorcha.blueprint.id": entry.blueprintId,
      "sorcha.blueprint.version": entry.version,
    },
    ...(options.publication ? { parent: contextOf({ traceparent: options.publication }) } : {}),
  });
  try {
    const traceparent = traceparentOf(span);
    const subscribers = withContext(
      ROOT_CONTEXT,
      () => options.publish(traceparent ? { ...event, traceparent } : event),
    );
    span.setAttribute("sorcha.push.subscribers", subscribers);
  } catch (error) {
    failSpan(span, error);
    options.logger?.error("Cannot notify subscribers of version {version}: {error}", {
      version: entry.version,
      error: errorMessage(error),
    });
  } finally {
    span.end();
  }
}
