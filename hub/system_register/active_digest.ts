/**
 * The digest of the register's active set (see
 * `shared/contracts/active_set_digest.ts`), kept up beside the active
 * versions by the start-up scan and the watcher (every entry, in version
 * order, whichever hub appended it), and remembered after each of the last
 * {@link DEFAULT_DIGEST_HISTORY} versions, so a peer can ask for the digest
 * at the version it holds (`GetSyncCheckpoint`'s `digest_version`) while the
 * hub has moved on.
 *
 * Between two remembered versions nothing changed (a version not itself
 * remembered, in a store whose versions leave gaps, takes the digest of the
 * highest remembered one below it); above the last entry seen, or below the
 * oldest remembered once older ones were forgotten, the hub cannot tell.
 * About 120 bytes per remembered version: 4096 take half a megabyte.
 *
 * @module
 */
import { ActiveSetDigest, EMPTY_DIGEST } from "../../shared/contracts/active_set_digest.ts";
import { AppError } from "../../shared/errors.ts";

/** How many versions' digests are remembered by default. */
export const DEFAULT_DIGEST_HISTORY = 4096;

/** The active set at one version: its digest and its size. */
export interface ActiveSetState {
  /** The version described. */
  version: number;
  /** `sum-sha256:` and 64 hex digits. */
  digest: string;
  /** Active entries (one per blueprint). */
  blueprints: number;
}

/** Options of {@link ActiveDigest}. */
export interface ActiveDigestOptions {
  /** Versions remembered (default {@link DEFAULT_DIGEST_HISTORY}; at least 1). */
  history?: number;
}

/** The running digest of the active set and its recent history; see the module documentation. */
export class ActiveDigest {
  readonly #set = new ActiveSetDigest();
  readonly #capacity: number;
  /** A ring of the last versions recorded, oldest at `#start`. */
  readonly #versions: Float64Array;
  readonly #digests: string[];
  readonly #counts: Uint32Array;
  #start = 0;
  #length = 0;
  /** Whether versions were dropped from the ring (then nothing below its oldest is known). */
  #forgot = false;

  /** An empty set, remembering `history` versions. */
  constructor(options: ActiveDigestOptions = {}) {
    const capacity = options.history ?? DEFAULT_DIGEST_HISTORY;
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new AppError(
        "invalid_argument",
        `Cannot keep the active set's digest: history must be a whole number of versions of at least 1, got ${capacity}`,
      );
    }
    this.#capacity = capacity;
    this.#versions = new Float64Array(capacity);
    this.#digests = new Array<string>(capacity).fill(EMPTY_DIGEST);
    this.#counts = new Uint32Array(capacity);
  }

  /** The last version recorded (0 when none). */
  get version(): number {
    return this.#length === 0 ? 0 : this.#versions[this.#slot(this.#length - 1)]!;
  }

  /** The digest of the active set now (`sum-sha256:…`). */
  get digest(): string {
    return this.#set.digest;
  }

  /** Active entries now. */
  get size(): number {
    return this.#set.size;
  }

  /** The active set as of the last version recorded. */
  get current(): ActiveSetState {
    return { version: this.version, digest: this.#set.digest, blueprints: this.#set.size };
  }

  /**
   * Records an entry, read in version order: it becomes its blueprint's
   * active entry (replacing the one it supersedes) and its version is
   * remembered with the digest after it. An entry not above the last
   * version recorded changes nothing.
   */
  add(blueprintId: string, version: number, checksum: string): void {
    if (this.#length > 0 && version <= this.version) return;
    this.#set.add(blueprintId, version, checksum);
    let slot: number;
    if (this.#length < this.#capacity) {
      slot = this.#slot(this.#length++);
    } else {
      slot = this.#start;
      this.#start = (this.#start + 1) % this.#capacity;
      this.#forgot = true;
    }
    this.#versions[slot] = version;
    this.#digests[slot] = this.#set.digest;
    this.#counts[slot] = this.#set.size;
  }

  /**
   * The active set at `version`: after the highest version recorded at or
   * below it. Undefined when the hub cannot tell: above the last version
   * recorded, or below the oldest remembered once older ones were
   * forgotten. Below every version recorded (nothing forgotten), the set
   * was empty.
   */
  at(version: number): ActiveSetState | undefined {
    if (version > this.version) return undefined;
    const index = this.#lastAtOrBelow(version);
    if (index < 0) {
      return this.#forgot ? undefined : { version, digest: EMPTY_DIGEST, blueprints: 0 };
    }
    const slot = this.#slot(index);
    return {
      version,
      digest: this.#digests[slot]!,
      blueprints: this.#counts[slot]!,
    };
  }

  /** The ring slot of the `index`-th remembered version (0: the oldest). */
  #slot(index: number): number {
    return (this.#start + index) % this.#capacity;
  }

  /** The index of the highest remembered version at or below `version` (-1: none). */
  #lastAtOrBelow(version: number): number {
    let low = 0;
    let high = this.#length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.#versions[this.#slot(middle)]! <= version) low = middle + 1;
      else high = middle;
    }
    return low - 1;
  }
}
