/**
 * The versions of the register's active entries, in order, kept in memory:
 * each blueprint's highest version. Built by the start-up scan and kept up
 * by the watcher (which sees every entry, whichever hub appended it), so a
 * sync knows which entries to stream without asking the store for them.
 * A few numbers per blueprint: 10,000 blueprints take well under a megabyte.
 *
 * @module
 */

/** Active versions in order, one per blueprint; see the module documentation. */
export class ActiveVersions {
  /** Ascending; a superseded version is removed. */
  readonly #versions: number[] = [];
  readonly #byBlueprint = new Map<string, number>();

  /** Blueprints (active entries). */
  get size(): number {
    return this.#versions.length;
  }

  /** The highest active version (0 when empty). */
  get last(): number {
    return this.#versions.at(-1) ?? 0;
  }

  /** Whether `blueprintId` has a version. */
  has(blueprintId: string): boolean {
    return this.#byBlueprint.has(blueprintId);
  }

  /**
   * Records an entry, read in version order: it becomes its blueprint's
   * active version, and the one it supersedes is removed. An entry not above
   * its blueprint's current version changes nothing.
   */
  add(blueprintId: string, version: number): void {
    const previous = this.#byBlueprint.get(blueprintId);
    if (previous !== undefined) {
      if (previous >= version) return;
      const at = this.#indexAfter(previous - 1);
      if (this.#versions[at] === previous) this.#versions.splice(at, 1);
    }
    this.#byBlueprint.set(blueprintId, version);
    if (version > this.last) this.#versions.push(version);
    else this.#versions.splice(this.#indexAfter(version), 0, version);
  }

  /** The active versions above `version`, in order, at most `limit` (a copy). */
  after(version: number, limit = Number.POSITIVE_INFINITY): number[] {
    const from = this.#indexAfter(version);
    return this.#versions.slice(from, Math.min(this.#versions.length, from + limit));
  }

  /** The position of the first version above `version`. */
  #indexAfter(version: number): number {
    let low = 0;
    let high = this.#versions.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.#versions[middle]! <= version) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
