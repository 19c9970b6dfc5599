#!/usr/bin/env node
// Print vitest's JSON report as one plain closing line, `label: N passed, N failed`,
// so any CI log reader sees how many tests ran. Usage: vitest-summary.mjs LABEL FILE
import { readFileSync } from 'node:fs';

const [label, file] = process.argv.slice(2);
const report = JSON.parse(readFileSync(file, 'utf8'));
const skipped = report.numPendingTests + report.numTodoTests;
console.log(
  `${label}: ${report.numPassedTests} passed, ${report.numFailedTests} failed` +
    (skipped ? `, ${skipped} skipped` : ''),
);
