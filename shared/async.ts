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

/**
 * `promise`'s outcome, or a rejection saying `timed out after {ms} ms:
 * {what}` when it has not settled within `ms`. The timer is always cleared.
 */
export async function within<T>(
  promise: Promise<T>,
  options: { ms: number; what: string },
): Promise<T> {
  const { ms, what } = options;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
