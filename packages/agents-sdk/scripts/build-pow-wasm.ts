/**
 * Builds the 4-lane WebAssembly SIMD SHA-256 kernel of the PoW solver.
 *
 *   pnpm tsx packages/agents-sdk/scripts/build-pow-wasm.ts          # write both files
 *   pnpm tsx packages/agents-sdk/scripts/build-pow-wasm.ts --check  # exit 1 if stale
 *
 * Two committed outputs, both derived from this file:
 * - `src/pow/internal/sha256-simd.wat`: the module as text. Eight SHA-256 rounds
 *   per loop turn, with the working variables renamed instead of moved, is what
 *   makes the kernel fast; writing those eight rounds (and the K table as a data
 *   segment) by hand is where typos hide, so they are generated here and the .wat
 *   is committed for review and diffing.
 * - `src/pow/internal/sha256-simd.wasm.ts`: the bytes wabt assembles from that
 *   text, as base64, so the package needs neither wabt nor a file read at run
 *   time (and the worker, which is built from a source string, can get them).
 *
 * Why text + wabt instead of emitting bytes from TS at load time: the .wat can
 * be read and diffed instruction by instruction, wabt validates it at build
 * time, and loading costs one base64 decode instead of running an assembler in
 * every process. `test/pow-wasm-build.test.ts` fails when either output is
 * stale relative to this generator.
 *
 * Memory layout (one 64 KiB page, shared with the JS driver in kernel.ts):
 *   0     K table: 64 round constants, each splatted to 4 lanes (1024 bytes)
 *   1024  midstate: 8 × i32, the SHA-256 state after the challenge's full blocks
 *   1088  tail message: 2 blocks × 16 words × 4 lanes, word j of lane k of block b
 *         at 1088 + ((b·16 + j)·4 + k)·4 holding the big-endian word value
 *   1600  message schedule scratch: 64 × v128
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

export const WAT_PATH = fileURLToPath(
  new URL('../src/pow/internal/sha256-simd.wat', import.meta.url),
);
export const WASM_TS_PATH = fileURLToPath(
  new URL('../src/pow/internal/sha256-simd.wasm.ts', import.meta.url),
);

const K = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

const MID = 1024;
const MSG = 1088;
const WS = 1600;

const get = (name: string) => `(local.get $${name})`;
const rotr = (x: string, n: number) =>
  `(v128.or (i32x4.shr_u ${x} (i32.const ${n})) (i32x4.shl ${x} (i32.const ${32 - n})))`;
const shr = (x: string, n: number) => `(i32x4.shr_u ${x} (i32.const ${n}))`;
const xor3 = (a: string, b: string, c: string) => `(v128.xor (v128.xor ${a} ${b}) ${c})`;
const add = (a: string, b: string) => `(i32x4.add ${a} ${b})`;
const bigSigma0 = (x: string) => xor3(rotr(x, 2), rotr(x, 13), rotr(x, 22));
const bigSigma1 = (x: string) => xor3(rotr(x, 6), rotr(x, 11), rotr(x, 25));
const smallSigma0 = (x: string) => xor3(rotr(x, 7), rotr(x, 18), shr(x, 3));
const smallSigma1 = (x: string) => xor3(rotr(x, 17), rotr(x, 19), shr(x, 10));

const WORK = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];

/** One round, `j` = 0..7 within the unrolled group; names rotate instead of moving. */
function round(j: number): string {
  const v = (x: number) => get(WORK[(x - j + 8) % 8]!);
  const name = (x: number) => WORK[(x - j + 8) % 8]!;
  const [a, b, c, d, e, f, g, h] = [0, 1, 2, 3, 4, 5, 6, 7].map(v) as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const kw = add(
    `(v128.load offset=${16 * j} (local.get $r))`,
    `(v128.load offset=${WS + 16 * j} (local.get $r))`,
  );
  return [
    `        ;; round 8i+${j}`,
    `        (local.set $t1 ${add(add(add(h, bigSigma1(e)), `(v128.bitselect ${f} ${g} ${e})`), kw)})`,
    `        (local.set $t2 ${add(bigSigma0(a), `(v128.bitselect ${b} ${c} (v128.xor ${a} ${c}))`)})`,
    `        (local.set $${name(3)} ${add(d, get('t1'))})`,
    `        (local.set $${name(7)} ${add(get('t1'), get('t2'))})`,
  ].join('\n');
}

function dataSegment(): string {
  let s = '';
  for (const k of K) {
    const le = [k & 0xff, (k >>> 8) & 0xff, (k >>> 16) & 0xff, k >>> 24]
      .map((b) => '\\' + b.toString(16).padStart(2, '0'))
      .join('');
    s += le.repeat(4);
  }
  return s;
}

/** The module text. Deterministic: same generator, same text. */
export function generatePowWat(): string {
  const lines: string[] = [];
  const emit = (s: string): void => {
    lines.push(s);
  };
  emit(
    ';; GENERATED by packages/agents-sdk/scripts/build-pow-wasm.ts — edit the generator, not this.',
  );
  emit(
    ';; 4-lane SHA-256 PoW scan: lane k hashes its own nonce; see the generator for the layout.',
  );
  emit('(module');
  emit('  (memory (export "memory") 1)');
  emit(`  (data (i32.const 0) "${dataSegment()}")`);
  emit('');
  emit(
    ';; scan(nblocks, last, iters, mask) -> (iteration << 4 | lane bitmask) of the first hit, or -1.',
  );
  emit(
    ';;   nblocks: tail blocks per hash (1 or 2); last: byte index of the last nonce digit in the',
  );
  emit(';;   tail; iters: nonces per lane; mask: bits of the first digest word that must be zero.');
  emit(';; After each hash the decimal nonce of every lane is incremented in place (ASCII).');
  emit(
    '  (func (export "scan") (param $nblocks i32) (param $last i32) (param $iters i32) (param $mask i32) (result i32)',
  );
  emit('    (local $m0 v128) (local $m1 v128) (local $m2 v128) (local $m3 v128)');
  emit('    (local $m4 v128) (local $m5 v128) (local $m6 v128) (local $m7 v128)');
  emit('    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)');
  emit('    (local $s4 v128) (local $s5 v128) (local $s6 v128) (local $s7 v128)');
  emit('    (local $a v128) (local $b v128) (local $c v128) (local $d v128)');
  emit('    (local $e v128) (local $f v128) (local $g v128) (local $h v128)');
  emit('    (local $t1 v128) (local $t2 v128) (local $x v128) (local $y v128)');
  emit('    (local $maskv v128) (local $inc v128)');
  emit('    (local $it i32) (local $blk i32) (local $src i32) (local $r i32) (local $bm i32)');
  emit('    (local $lw i32) (local $lb i32) (local $k i32) (local $p i32) (local $addr i32)');
  for (let i = 0; i < 8; i++) {
    emit(`    (local.set $m${i} (v128.load32_splat offset=${MID + 4 * i} (i32.const 0)))`);
  }
  emit('    (local.set $maskv (i32x4.splat (local.get $mask)))');
  emit(';; the vector word holding the last digit, its lane-0 byte, and +1 at that byte');
  emit(
    `    (local.set $lw (i32.add (i32.const ${MSG}) (i32.shl (i32.shr_u (local.get $last) (i32.const 2)) (i32.const 4))))`,
  );
  emit(
    '    (local.set $lb (i32.sub (i32.add (local.get $lw) (i32.const 3)) (i32.and (local.get $last) (i32.const 3))))',
  );
  emit('    (local.set $inc (i32x4.splat (i32.shl (i32.const 1)');
  emit(
    '      (i32.shl (i32.sub (i32.const 3) (i32.and (local.get $last) (i32.const 3))) (i32.const 3)))))',
  );
  emit('    (block $done');
  emit('      (loop $nonce');
  for (let i = 0; i < 8; i++) emit(`        (local.set $s${i} (local.get $m${i}))`);
  emit('        (local.set $blk (i32.const 0))');
  emit('        (loop $block');
  emit(
    `          (local.set $src (i32.add (i32.const ${MSG}) (i32.shl (local.get $blk) (i32.const 8))))`,
  );
  emit(';; W[0..15] from the lane-interleaved message');
  for (let j = 0; j < 16; j++) {
    emit(
      `          (v128.store offset=${WS + 16 * j} (i32.const 0) (v128.load offset=${16 * j} (local.get $src)))`,
    );
  }
  emit(';; W[16..63]');
  emit('          (local.set $r (i32.const 256))');
  emit('          (loop $schedule');
  emit(`            (local.set $x (v128.load offset=${WS - 32} (local.get $r)))`);
  emit(`            (local.set $y (v128.load offset=${WS - 240} (local.get $r)))`);
  emit(
    `            (v128.store offset=${WS} (local.get $r) ${add(
      add(smallSigma1(get('x')), `(v128.load offset=${WS - 112} (local.get $r))`),
      add(smallSigma0(get('y')), `(v128.load offset=${WS - 256} (local.get $r))`),
    )})`,
  );
  emit('            (local.set $r (i32.add (local.get $r) (i32.const 16)))');
  emit('            (br_if $schedule (i32.lt_u (local.get $r) (i32.const 1024))))');
  WORK.forEach((w, i) => {
    emit(`          (local.set $${w} (local.get $s${i}))`);
  });
  emit(';; 64 rounds, 8 per turn; $r is the byte offset of round 8i in K and W');
  emit('          (local.set $r (i32.const 0))');
  emit('          (loop $rounds');
  for (let j = 0; j < 8; j++) emit(round(j));
  emit('            (local.set $r (i32.add (local.get $r) (i32.const 128)))');
  emit('            (br_if $rounds (i32.lt_u (local.get $r) (i32.const 1024))))');
  WORK.forEach((w, i) => {
    emit(`          (local.set $s${i} (i32x4.add (local.get $s${i}) (local.get $${w})))`);
  });
  emit('          (local.set $blk (i32.add (local.get $blk) (i32.const 1)))');
  emit('          (br_if $block (i32.lt_u (local.get $blk) (local.get $nblocks))))');
  emit(';; a lane whose first digest word has no bit under the mask is a hit');
  emit(
    '        (local.set $bm (i32x4.bitmask (i32x4.eq (v128.and (local.get $s0) (local.get $maskv)) (v128.const i32x4 0 0 0 0))))',
  );
  emit('        (if (local.get $bm)');
  emit(
    '          (then (return (i32.or (i32.shl (local.get $it) (i32.const 4)) (local.get $bm)))))',
  );
  emit('        (local.set $it (i32.add (local.get $it) (i32.const 1)))');
  emit('        (br_if $done (i32.ge_u (local.get $it) (local.get $iters)))');
  emit(';; next nonce: all lanes share the last digit (the driver aligns them), so +1 is one');
  emit(";; vector add unless it is '9'; then each lane carries on its own bytes");
  emit('        (if (i32.ne (i32.load8_u (local.get $lb)) (i32.const 0x39))');
  emit(
    '          (then (v128.store (local.get $lw) (i32x4.add (v128.load (local.get $lw)) (local.get $inc))))',
  );
  emit('          (else');
  emit('            (local.set $k (i32.const 0))');
  emit('            (loop $lane');
  emit('              (local.set $p (local.get $last))');
  emit('              (block $carried');
  emit('                (loop $carry');
  emit(`                  (local.set $addr (i32.add (i32.add (i32.const ${MSG + 3})`);
  emit('                    (i32.shl (i32.shr_u (local.get $p) (i32.const 2)) (i32.const 4)))');
  emit(
    '                    (i32.sub (i32.shl (local.get $k) (i32.const 2)) (i32.and (local.get $p) (i32.const 3)))))',
  );
  emit(
    '                  (br_if $carried (i32.ne (i32.load8_u (local.get $addr)) (i32.const 0x39)))',
  );
  emit('                  (i32.store8 (local.get $addr) (i32.const 0x30))');
  emit('                  (local.set $p (i32.sub (local.get $p) (i32.const 1)))');
  emit('                  (br $carry)))');
  emit(
    '              (i32.store8 (local.get $addr) (i32.add (i32.load8_u (local.get $addr)) (i32.const 1)))',
  );
  emit('              (local.set $k (i32.add (local.get $k) (i32.const 1)))');
  emit('              (br_if $lane (i32.lt_u (local.get $k) (i32.const 4))))))');
  emit('        (br $nonce)))');
  emit('    (i32.const -1))');
  emit(')');
  return lines.join('\n') + '\n';
}

/** Assemble WAT text with wabt (SIMD enabled) and return the module bytes. */
export async function compilePowWat(wat: string): Promise<Uint8Array<ArrayBuffer>> {
  const wabt = await wabtInit();
  const mod = wabt.parseWat('sha256-simd.wat', wat, { simd: true });
  try {
    mod.validate();
    return Uint8Array.from(mod.toBinary({ log: false, write_debug_names: false }).buffer);
  } finally {
    mod.destroy();
  }
}

/** The committed TS module carrying the bytes. */
export function renderWasmModule(bytes: Uint8Array): string {
  const b64 = Buffer.from(bytes).toString('base64');
  const wrapped = b64
    .match(/.{1,96}/g)!
    .map((l) => `  '${l}'`)
    .join(' +\n');
  return [
    '// GENERATED by packages/agents-sdk/scripts/build-pow-wasm.ts from sha256-simd.wat — do not edit.',
    '/** The 4-lane SIMD SHA-256 PoW kernel (sha256-simd.wat), assembled by wabt, as base64. */',
    'export const SHA256_SIMD_WASM_BASE64 =',
    `${wrapped};`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const wat = generatePowWat();
  const ts = renderWasmModule(await compilePowWat(wat));
  if (process.argv.includes('--check')) {
    const [oldWat, oldTs] = await Promise.all([
      readFile(WAT_PATH, 'utf8').catch(() => ''),
      readFile(WASM_TS_PATH, 'utf8').catch(() => ''),
    ]);
    if (oldWat !== wat || oldTs !== ts) {
      console.error('PoW WASM kernel is stale: run scripts/build-pow-wasm.ts');
      process.exitCode = 1;
    }
    return;
  }
  await writeFile(WAT_PATH, wat);
  await writeFile(WASM_TS_PATH, ts);
  console.log(`wrote ${WAT_PATH} and ${WASM_TS_PATH}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main();
}
