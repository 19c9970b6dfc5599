export const REPOSITORY: string;
export const REQUIRED_FILES: string[];
export const RESOLUTION_MODES: string[];
export function manifestProblems(pkg: Record<string, unknown>, dir: string): string[];
export function relativeLinks(markdown: string): string[];
export function relativeReferences(source: string): string[];
export function unreachedFiles(files: Record<string, string>): {
  unexpected: string[];
  missing: string[];
};
// biome-ignore lint/suspicious/noExplicitAny: attw's JSON report
export function attwProblems(report: any, subpaths: string[]): string[];
export function exportedSubpaths(exportsField: unknown): string[];
