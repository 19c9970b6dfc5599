import { createPowKernel } from './kernel.js';
import { powWorkerMain } from './worker-main.js';

/**
 * The worker is built from a source string (`new Worker(code, { eval: true })`)
 * rather than a file next to this module: a file path would have to resolve
 * the same way from the ESM build, the CJS build, a user's bundle and vitest
 * running the TS sources, and it cannot in all four. The kernel and the
 * worker body are serialized with `toString()` (both are self-contained by
 * design), so the code the worker runs is the code the tests check on the
 * main thread.
 *
 * Transpilers may wrap functions in a naming helper (esbuild's `keepNames`,
 * used by tsx and many bundles, emits `__name(fn, "fn")`), which would not
 * exist in the worker: the source defines an identity stand-in first.
 */
let source: string | undefined;

export function powWorkerSource(): string {
  source ??= [
    "'use strict';",
    'var __name = (target) => target;',
    "const { parentPort, workerData, receiveMessageOnPort } = require('node:worker_threads');",
    `const createPowKernel = ${createPowKernel.toString()};`,
    `(${powWorkerMain.toString()})(createPowKernel, parentPort, workerData.wasmModule, receiveMessageOnPort);`,
  ].join('\n');
  return source;
}
