import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  compilePowWat,
  generatePowWat,
  renderWasmModule,
  WASM_TS_PATH,
  WAT_PATH,
} from '../scripts/build-pow-wasm.js';

describe('committed WebAssembly PoW kernel', () => {
  it('sha256-simd.wat is what the generator writes (run scripts/build-pow-wasm.ts if not)', async () => {
    expect(await readFile(WAT_PATH, 'utf8')).toBe(generatePowWat());
  });

  it('sha256-simd.wasm.ts holds the bytes wabt assembles from the committed .wat', async () => {
    const wat = await readFile(WAT_PATH, 'utf8');
    const bytes = await compilePowWat(wat);
    expect(WebAssembly.validate(bytes)).toBe(true);
    expect(await readFile(WASM_TS_PATH, 'utf8')).toBe(renderWasmModule(bytes));
  });
});
