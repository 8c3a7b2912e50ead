/**
 * Genesis (FR-021): the system register starts with the seeded blueprint
 * `register-creation-v1`. Created once, atomically, however many hubs start
 * on the same store at once; skipped when present.
 *
 * @module
 */
import type { Clock } from "../../shared/clock.ts";
import type { PublishResult, SystemRegisterStore } from "./types.ts";
import { SYSTEM_REGISTER_ID } from "./types.ts";

/** The blueprint every system register starts with. */
export const GENESIS_BLUEPRINT_ID = "register-creation-v1";

/** The seeded blueprint's document. */
export const GENESIS_DOCUMENT = {
  id: GENESIS_BLUEPRINT_ID,
  title: "Register creation",
  description: "Creates a register: the first blueprint of every system register.",
  version: 1,
  registerId: SYSTEM_REGISTER_ID,
  actions: [
    { id: 0, title: "Request register creation", sender: "requester" },
    { id: 1, title: "Confirm register creation", sender: "network" },
  ],
};

/** Options of {@link ensureGenesis}. */
export interface GenesisOptions {
  /** Time source. */
  clock: Clock;
  /** The hub creating it (recorded as publisher). */
  hubId: string;
}

/** Seeds `register-creation-v1` when the register lacks it; `created` says whether this call did. */
export async function ensureGenesis(
  store: SystemRegisterStore,
  options: GenesisOptions,
): Promise<PublishResult> {
  return await store.publish({
    blueprintId: GENESIS_BLUEPRINT_ID,
    document: new TextEncoder().encode(JSON.stringify(GENESIS_DOCUMENT)),
    publishedAt: options.clock.now(),
    publishedBy: `hub:${options.hubId}`,
    metadata: { kind: "genesis" },
    publicationTransactionId: `genesis-${SYSTEM_REGISTER_ID}`,
  }, { ifAbsent: true });
}
