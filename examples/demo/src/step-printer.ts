/** Prints the demo's steps: time since start, who acted, what happened, how long it took. */
export interface StepPrinter {
  /** Milliseconds since the printer was created. */
  now(): number;
  /** Milliseconds since `start` (a value of {@link StepPrinter.now}). */
  since(start: number): number;
  header(text: string): void;
  /** One step by `actor`, with its own duration when known. */
  step(actor: string, text: string, durationMs?: number): void;
  /** Indented `key  value` lines under the previous step. */
  detail(fields: Record<string, unknown>): void;
  footer(text: string): void;
}

const ACTOR_WIDTH = 6;

/**
 * @example
 * const out = createStepPrinter(console.log);
 * out.step('site', 'created login request lr_…', 3.2);
 * // "   +12 ms  site    created login request lr_…  (3 ms)"
 */
export function createStepPrinter(print: (line: string) => void): StepPrinter {
  const origin = performance.now();
  const now = () => performance.now() - origin;
  return {
    now,
    since: (start) => now() - start,
    header(text) {
      print(text);
      print('');
    },
    step(actor, text, durationMs) {
      const at = `+${Math.round(now())} ms`.padStart(9);
      const took = durationMs === undefined ? '' : `  (${Math.max(0, Math.round(durationMs))} ms)`;
      print(`${at}  ${actor.padEnd(ACTOR_WIDTH)}  ${text}${took}`);
    },
    detail(fields) {
      const width = Math.max(...Object.keys(fields).map((k) => k.length));
      for (const [key, value] of Object.entries(fields)) {
        print(`${' '.repeat(9 + 2 + ACTOR_WIDTH + 2)}  ${key.padEnd(width)}  ${String(value)}`);
      }
    },
    footer(text) {
      print('');
      print(text);
    },
  };
}
