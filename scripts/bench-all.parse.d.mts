/** One figure read from a benchmark's output. */
export interface BenchRow {
  label: string;
  value?: number;
  unit?: string;
  baseline?: number;
  ratio?: number;
  /** A ratio as printed (`22.3× naive`), or a ratios-only line. */
  ratioText?: string;
}

/** Figures and target verdicts of one benchmark's output. */
export function parse(out: string): { rows: BenchRow[]; notes: string[] };
