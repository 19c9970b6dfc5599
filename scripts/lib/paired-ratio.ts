// Ratios of per-core speed on a shared, noisy machine, for the benchmarks.
//
// A best-of-N round per contender picks each contender's luckiest round, and
// lucky rounds are not equally likely: one that allocates more loses more
// rounds to garbage collection and to neighbours' bursts. Here one subject and
// one baseline run the same work back to back (order swapped every other
// pair, so a drift in load favours neither), each pair gives a ratio, and the
// median ratio is the figure, with the range beside it.

/** One unit of work, the same for every pair (e.g. one pass over a token pool). */
export type Work = () => Promise<unknown>;

/** A median ratio and the range of the ratios it came from. */
export interface PairedRatio {
  /** Baseline CPU time / subject CPU time: the subject's per-core speed as a fraction of the baseline's. */
  median: number;
  low: number;
  high: number;
  pairs: number;
}

async function cpuMs(work: Work): Promise<number> {
  const start = process.cpuUsage();
  await work();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

/**
 * The subject's per-core speed relative to each baseline, from `pairs` pairs
 * per baseline.
 *
 * @example
 * const [vsCeiling] = await pairedRatios(() => passOf(ours), [() => passOf(ceiling)], 20);
 * console.log(`${Math.round(vsCeiling.median * 100)} %`);
 */
export async function pairedRatios(
  subject: Work,
  baselines: readonly Work[],
  pairs: number,
): Promise<PairedRatio[]> {
  const ratios: number[][] = baselines.map(() => []);
  for (let p = 0; p < pairs; p++) {
    for (const [i, baseline] of baselines.entries()) {
      const subjectFirst = p % 2 === 0;
      const first = await cpuMs(subjectFirst ? subject : baseline);
      const second = await cpuMs(subjectFirst ? baseline : subject);
      const [mine, theirs] = subjectFirst ? [first, second] : [second, first];
      ratios[i]!.push(theirs / mine);
    }
  }
  return ratios.map((list) => {
    const sorted = list.sort((a, b) => a - b);
    const mid = (sorted[(sorted.length - 1) >> 1]! + sorted[sorted.length >> 1]!) / 2;
    return { median: mid, low: sorted[0]!, high: sorted.at(-1)!, pairs: sorted.length };
  });
}

/** `82 % (20 pairs, 71–95 %)`. */
export function formatRatio(r: PairedRatio): string {
  const pct = (x: number) => Math.round(x * 100);
  return `${pct(r.median)} % (median of ${r.pairs} paired passes, ${pct(r.low)}–${pct(r.high)} %)`;
}
