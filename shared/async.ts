/**
 * Small helpers for promises.
 *
 * @module
 */

/**
 * Resolves `true` when `promise` settles (either way) within `ms`, `false`
 * otherwise. The timer is always cleared, so it never outlives the call.
 */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
