/**
 * The life of a replica replacement, shared by every store: open until it is
 * committed, aborted, dropped by a newer replacement, or broken by a failed
 * step. A failed `add` or `commit` ends it (the new replica may hold part of
 * what was sent, so it must not be committed); an `abort`, or disposing it,
 * drops what it holds and never fails.
 *
 * @module
 */
import { AppError, errorMessage } from "../../shared/errors.ts";
import type { ReplicaCheckpoint, ReplicaEntry, ReplicaReplacement } from "./types.ts";

/** Where a replacement is in its life. */
export type ReplacementState =
  | "open"
  | "committing"
  | "committed"
  | "aborted"
  | "dropped"
  | "failed";

/**
 * A {@link ReplicaReplacement} whose store-specific steps a subclass gives: {@link write},
 * {@link swap} and {@link discard}. Subclasses call {@link checkCurrent} right before sending
 * anything, after their last `await`, so that nothing of a dropped replacement is written.
 */
export abstract class ReplacementBase implements ReplicaReplacement {
  /** The store, for messages (`SQLite at …`, `Redis at …`). */
  readonly where: string;
  #state: ReplacementState = "open";
  #why = "";
  #superseded = false;

  /** A new, open replacement of the store at `where`. */
  protected constructor(where: string) {
    this.where = where;
  }

  /** Where the replacement is in its life. */
  get state(): ReplacementState {
    return this.#state;
  }

  /** Adds entries to the new replica (each replaces an earlier one of its blueprint). */
  async add(entries: readonly ReplicaEntry[]): Promise<void> {
    if (this.#state !== "open") throw this.#ended("add entries to");
    try {
      await this.write(entries);
    } catch (error) {
      this.#fail(error);
      throw error;
    }
  }

  /** Makes the new replica the replica, with `checkpoint`, atomically. */
  async commit(checkpoint: ReplicaCheckpoint): Promise<void> {
    if (this.#state !== "open") throw this.#ended("commit");
    this.#state = "committing";
    try {
      await this.swap(checkpoint);
    } catch (error) {
      this.#fail(error);
      throw error;
    }
    this.#state = "committed";
  }

  /** Drops the new replica; the old one stays. Does nothing once committed, dropped or aborted. */
  async abort(): Promise<void> {
    if (this.#state !== "open" && this.#state !== "failed") return;
    this.#state = "aborted";
    await this.discard();
  }

  /** Aborts the replacement unless it was committed. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.abort();
  }

  /**
   * Marks the replacement dropped by a newer one of its store: whatever it still tries to write
   * is refused (the newer one clears what it wrote).
   */
  drop(): void {
    this.#superseded = true;
    if (this.#state === "committed" || this.#state === "aborted") return;
    this.#state = "dropped";
  }

  /**
   * Whether a newer replacement of the store started since this one (even once this one was
   * aborted): what this one left is the newer one's to clear, and must not be touched.
   */
  protected get superseded(): boolean {
    return this.#superseded;
  }

  /**
   * Throws a `failed_precondition` {@link AppError} when the replacement was dropped, aborted or
   * committed, or an earlier step failed (`what`: the action, as in `cannot {what} …`).
   */
  protected checkCurrent(what: string): void {
    if (this.#state !== "open" && this.#state !== "committing") throw this.#ended(what);
  }

  /** Writes entries into the new replica. */
  protected abstract write(entries: readonly ReplicaEntry[]): Promise<void>;

  /** Makes the new replica the replica, with its checkpoint, in one atomic step. */
  protected abstract swap(checkpoint: ReplicaCheckpoint): Promise<void>;

  /** Drops what the new replica holds; must not fail (leftovers are cleared by the next replacement). */
  protected abstract discard(): Promise<void>;

  #fail(error: unknown): void {
    if (this.#state !== "open" && this.#state !== "committing") return;
    this.#state = "failed";
    this.#why = errorMessage(error);
  }

  #ended(what: string): AppError {
    const why = {
      open: "it is open",
      committing: "it is being committed",
      committed: "it was committed",
      aborted: "it was aborted",
      dropped: "a newer replacement dropped it",
      failed: `an earlier step failed (${this.#why}); start a new replacement`,
    }[this.#state];
    return new AppError(
      "failed_precondition",
      `${this.where}: cannot ${what} the replica replacement: ${why}`,
    );
  }
}
