/**
 * Subscription filters: which notifications a subscriber wants. Every given
 * criterion must hold; within one criterion, any listed value matches; an
 * empty criterion matches everything.
 *
 * @module
 */
import type { BlueprintEvent, NotificationKind } from "./events.ts";

/** What a subscriber asked for (contracts.md SubscriptionFilters). */
export interface NotificationFilters {
  /** Only these blueprints. */
  blueprintIds: readonly string[];
  /** Only these publishers. */
  publisherIds: readonly string[];
  /** Only these kinds. */
  kinds: readonly NotificationKind[];
  /** Only entries whose metadata has every one of these key/value pairs. */
  metadata: Readonly<Record<string, string>>;
}

/** Filters that let everything through. */
export const NO_FILTERS: NotificationFilters = {
  blueprintIds: [],
  publisherIds: [],
  kinds: [],
  metadata: {},
};

/** A compiled filter: sets for quick membership tests. */
export type EventFilter = (event: BlueprintEvent) => boolean;

/** Compiles `filters` into a predicate over events. */
export function compileFilters(filters: NotificationFilters): EventFilter {
  const ids = filters.blueprintIds.length ? new Set(filters.blueprintIds) : undefined;
  const publishers = filters.publisherIds.length ? new Set(filters.publisherIds) : undefined;
  const kinds = filters.kinds.length ? new Set(filters.kinds) : undefined;
  const metadata = Object.entries(filters.metadata);
  return ({ entry, kind }) =>
    (!ids || ids.has(entry.blueprintId)) &&
    (!publishers || publishers.has(entry.publishedBy)) &&
    (!kinds || kinds.has(kind)) &&
    metadata.every(([key, value]) => entry.metadata[key] === value);
}
