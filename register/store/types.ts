/**
 * What the register service keeps: registers, and the store interface every
 * adapter (embedded SQLite, MongoDB) implements. One contract test suite
 * (`tests/register/store_contract.ts`) runs against each adapter.
 *
 * @module
 */

/** A register as the register service keeps it: the ground truth. */
export interface Register {
  /** 32 lower-case hex characters, generated at creation. */
  id: string;
  /** A name for people; 1 to 200 characters. */
  name: string;
  /** Whether the register is advertised to the peer network. */
  advertise: boolean;
  /** Whether an advertised register is listed as available; false keeps it private. */
  isPublic: boolean;
  /** Latest transaction version. */
  latestVersion: number;
  /** Latest docket version. */
  latestDocketVersion: number;
  /** Creation time, ISO 8601 (UTC). */
  createdAt: string;
  /** Last change, ISO 8601 (UTC). */
  updatedAt: string;
}

export { UPDATABLE_FIELDS } from "../../shared/contracts/registers.ts";

/** The fields a change may set. */
export type RegisterChanges = Partial<
  Pick<Register, "name" | "advertise" | "isPublic" | "latestVersion" | "latestDocketVersion">
>;

/** What the peer needs of an advertised register. */
export interface AdvertisedRegister {
  /** The register's id. */
  id: string;
  /** Its `isPublic`. */
  isPublic: boolean;
  /** Its latest version. */
  latestVersion: number;
  /** Its latest docket version. */
  latestDocketVersion: number;
}

/** Filters of {@link RegisterStore.list}. */
export interface ListOptions {
  /** Only registers whose `advertise` is this. */
  advertise?: boolean;
}

/**
 * Where registers live. Every method either does what it says or throws an
 * `AppError` (`unavailable` when the database cannot be reached,
 * `already_exists` for a duplicate id).
 */
export interface RegisterStore {
  /** `sqlite` or `mongodb`: shown in `/readyz`. */
  readonly kind: string;
  /** Adds a new register; `already_exists` if its id is taken. */
  insert(register: Register): Promise<void>;
  /** The register with this id, or undefined. */
  get(id: string): Promise<Register | undefined>;
  /** Registers sorted by id. */
  list(options?: ListOptions): Promise<Register[]>;
  /**
   * Every register with `advertise: true`, sorted by id, with only what the
   * peer needs: what a reconciliation sends.
   */
  listAdvertised(): Promise<AdvertisedRegister[]>;
  /**
   * Applies `changes` and sets `updatedAt`; returns the register as it was
   * before and as it is now, or undefined when there is no such register.
   */
  update(
    id: string,
    changes: RegisterChanges,
    updatedAt: string,
  ): Promise<{ before: Register; after: Register } | undefined>;
  /** Removes a register; returns it, or undefined when there was none. */
  delete(id: string): Promise<Register | undefined>;
  /** Resolves when the database answers; throws `unavailable` otherwise. */
  ping(): Promise<void>;
  /** Releases connections and files. */
  close(): Promise<void>;
}
