/**
 * The immediate notification a register's change needs: advertise it (with
 * its real `isPublic` and versions), withdraw it, or nothing.
 *
 * @module
 */
import type { PeerClient } from "../../shared/client/mod.ts";
import type { Register } from "../store/mod.ts";

/**
 * The peer call telling it about a change (`before` undefined for a creation, `after` for a
 * deletion), or undefined when the peer need not know (nothing it holds changed).
 */
export function notificationFor(
  peer: PeerClient,
  change: { before: Register | undefined; after: Register | undefined; signal: AbortSignal },
): (() => Promise<unknown>) | undefined {
  const { before, after, signal } = change;
  const id = (after ?? before)!.id;
  if (after?.advertise) {
    const same = before?.advertise && before.isPublic === after.isPublic &&
      before.latestVersion === after.latestVersion &&
      before.latestDocketVersion === after.latestDocketVersion;
    if (same) return undefined;
    return () =>
      peer.advertise(id, {
        isPublic: after.isPublic,
        latestVersion: after.latestVersion,
        latestDocketVersion: after.latestDocketVersion,
      }, { signal });
  }
  if (before?.advertise) return () => peer.withdraw(id, { signal });
  return undefined;
}
