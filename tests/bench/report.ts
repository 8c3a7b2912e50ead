/**
 * Printing benchmark figures beside their targets.
 *
 * @module
 */

/** One benchmark figure and whether it meets its target. */
export interface Figure {
  /** What was measured. */
  name: string;
  /** The figure, with its unit. */
  value: string;
  /** The target, in words. */
  target: string;
  /** Whether the figure meets the target; undefined for a figure reported for information. */
  met: boolean | undefined;
}

/** Prints a figure as one line: name, value, target, verdict. */
export function report(figure: Figure): Figure {
  console.log(
    `${
      figure.met === undefined ? "INFO" : figure.met ? "PASS" : "MISS"
    }  ${figure.name}: ${figure.value}   (target: ${figure.target})`,
  );
  return figure;
}

/** The median of some numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Times an async function in milliseconds. */
export async function time(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** The `p`th percentile (0 to 100) of some numbers, by the nearest-rank method. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}
