// The demo orchestrator, importable by the tests.
export type { DemoOptions, DemoResult, HostedCore } from './run-demo.js';
export { runDemo } from './run-demo.js';
export type { StepPrinter } from './step-printer.js';
export { createStepPrinter } from './step-printer.js';
