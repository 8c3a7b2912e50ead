/**
 * Fan-out benchmarks: one publication delivered to many subscribed streams,
 * timed from just before the publication to its arrival on each stream.
 * Each side (our hub, etcd) prepares a {@link FanoutProbe} with its streams
 * in place; {@link fanoutInTurn} then publishes on the probes in turn, one
 * publication at a time, so that every side sees the same load of a shared
 * machine (a probe may live in this process or in one of its own, see
 * `probe_process.ts`).
 *
 * @module
 */

/** One side's subscribed streams, ready to time publications. */
export interface FanoutProbe extends AsyncDisposable {
  /** Subscribed streams. */
  readonly subscribers: number;
  /**
   * Publishes once (publication `n`, named after it) and resolves, once
   * every stream has it, with each stream's delay in ms from just before
   * the publication.
   */
  publishOnce(n: number): Promise<number[]>;
}

/** What a fan-out benchmark measured of one side. */
export interface FanoutResult {
  /** Every stream's delay of every timed publication, in ms. */
  latenciesMs: number[];
  /** Subscribed streams. */
  subscribers: number;
  /** Timed publications. */
  publications: number;
}

/** Options of {@link fanoutInTurn}. */
export interface FanoutInTurnOptions {
  /** Timed publications on each probe. */
  publications: number;
  /** Publications on each probe before the timed ones (JIT warm-up), not timed. */
  warmUps: number;
}

/**
 * `warmUps` then `publications` rounds; in each round every probe publishes
 * once, in turn, the next waiting for the previous one's deliveries. Returns
 * each probe's timed latencies, in the order of `probes`.
 */
export async function fanoutInTurn(
  probes: FanoutProbe[],
  options: FanoutInTurnOptions,
): Promise<FanoutResult[]> {
  const latencies = probes.map((): number[] => []);
  for (let n = 0; n < options.warmUps + options.publications; n++) {
    for (const [i, probe] of probes.entries()) {
      const delays = await probe.publishOnce(n);
      if (n >= options.warmUps) latencies[i]!.push(...delays);
    }
  }
  return probes.map((probe, i) => ({
    latenciesMs: latencies[i]!,
    subscribers: probe.subscribers,
    publications: options.publications,
  }));
}
