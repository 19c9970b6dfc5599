/** What examples/runtime-matrix ran, per runtime. */
export interface MatrixResults {
  runtimes: Partial<
    Record<
      'node' | 'bun' | 'deno' | 'workerd',
      { version: string; checks: Record<string, boolean>; hashRate?: number }
    >
  >;
}
export const RUNTIMES: readonly ('node' | 'bun' | 'deno' | 'workerd')[];
export function renderMatrix(results: MatrixResults): string;
export function readmeMatrix(readme: string): string | undefined;
export function withMatrix(readme: string, table: string): string;
