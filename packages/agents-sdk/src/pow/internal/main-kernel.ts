import { createPowKernel, type PowKernel } from './kernel.js';
import { SHA256_SIMD_WASM_BASE64 } from './sha256-simd.wasm.js';

let wasmModule: WebAssembly.Module | null | undefined;

/**
 * The compiled SIMD kernel, or null where WebAssembly SIMD is unavailable.
 * Compiled once per process; workers receive the compiled module (V8 shares
 * its code between threads) instead of compiling it again.
 */
export function powWasmModule(): WebAssembly.Module | null {
  if (wasmModule === undefined) {
    try {
      wasmModule = new WebAssembly.Module(Buffer.from(SHA256_SIMD_WASM_BASE64, 'base64'));
    } catch {
      wasmModule = null;
    }
  }
  return wasmModule;
}

let mainKernel: PowKernel | undefined;

/** The kernel used on the calling thread (inline solves, benchmarks). */
export function mainThreadKernel(): PowKernel {
  mainKernel ??= createPowKernel(powWasmModule());
  return mainKernel;
}
