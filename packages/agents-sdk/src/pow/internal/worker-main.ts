import type { MessagePort } from 'node:worker_threads';
import type { createPowKernel, KernelKind, PreparedChallenge } from './kernel.js';

/** Main → worker: search a share of the nonce space for one solve. */
export interface SolveJobMessage {
  type: 'solve';
  id: number;
  challenge: Uint8Array;
  difficulty: number;
  /** First nonce of the whole search (after what was tried inline). */
  start: number;
  /** This worker's share: chunks index, index + count, index + 2·count, … */
  index: number;
  count: number;
  /** Nonces per chunk; the stop flag is polled between chunks. */
  chunk: number;
  /** Largest nonce allowed (MAX_NONCE of @lime/wire). */
  maxNonce: number;
  kind: KernelKind | undefined;
  /** Int32 stop flag at byte 0, BigInt64 hash counter at byte 8, shared by the job's workers. */
  shared: SharedArrayBuffer;
}

/** Worker → main. */
export type WorkerReply =
  | { type: 'ready'; simd: boolean }
  | { type: 'found'; id: number; nonce: number; hashes: number }
  | { type: 'stopped'; id: number; hashes: number }
  | { type: 'exhausted'; id: number; hashes: number }
  | { type: 'failed'; id: number; message: string };

/**
 * The worker's body. Serialized with `toString()` into the worker source, so
 * it gets its dependencies as parameters and uses nothing from module scope.
 *
 * Jobs are scanned round-robin, one chunk each per turn, so concurrent solves
 * share every worker fairly. Between chunks the worker checks each job's
 * shared stop flag and drains new jobs with `receiveMessageOnPort`, which is
 * how a cancel or a new solve takes effect within one chunk (≈ 1.5 ms with the
 * SIMD kernel) without returning to the event loop.
 *
 * Where `receiveMessageOnPort` refuses the worker's port (Deno: "The "port"
 * argument must be a MessagePort instance" for `parentPort`), found by one
 * probe at start, the worker instead runs one round of chunks per macrotask,
 * so new jobs arrive as ordinary `message` events between rounds. Cancels
 * are unaffected (they go through the shared stop flag either way).
 */
export function powWorkerMain(
  createKernel: typeof createPowKernel,
  port: MessagePort,
  wasmModule: WebAssembly.Module | null,
  receive: (port: MessagePort) => { message: unknown } | undefined,
): void {
  interface Job {
    id: number;
    prep: PreparedChallenge;
    difficulty: number;
    next: number;
    stride: number;
    chunk: number;
    maxNonce: number;
    kind: KernelKind | undefined;
    flag: Int32Array;
    counter: BigInt64Array;
    hashes: number;
  }
  const kernel = createKernel(wasmModule);
  const jobs: Job[] = [];
  let running = false;
  // Probe the synchronous drain once; a message it already took is kept.
  let drain: typeof receive | undefined = receive;
  let early: { message: unknown } | undefined;
  try {
    early = receive(port);
  } catch {
    drain = undefined;
  }
  const later: (fn: () => void) => void =
    typeof setImmediate === 'function' ? (fn) => setImmediate(fn) : (fn) => setTimeout(fn, 0);

  const post = (reply: WorkerReply) => port.postMessage(reply);

  function accept(message: unknown): void {
    const m = message as SolveJobMessage;
    if (m.type !== 'solve') return;
    jobs.push({
      id: m.id,
      prep: kernel.prepare(m.challenge),
      difficulty: m.difficulty,
      next: m.start + m.index * m.chunk,
      stride: m.count * m.chunk,
      chunk: m.chunk,
      maxNonce: m.maxNonce,
      kind: m.kind,
      flag: new Int32Array(m.shared, 0, 1),
      counter: new BigInt64Array(m.shared, 8, 1),
      hashes: 0,
    });
  }

  /** One chunk of one job; true when the job is finished. */
  function step(job: Job): boolean {
    if (Atomics.load(job.flag, 0) !== 0) {
      post({ type: 'stopped', id: job.id, hashes: job.hashes });
      return true;
    }
    if (job.next > job.maxNonce) {
      post({ type: 'exhausted', id: job.id, hashes: job.hashes });
      return true;
    }
    const end = Math.min(job.next + job.chunk, job.maxNonce + 1);
    let result: { nonce: number; hashes: number };
    try {
      result = kernel.scan(job.prep, job.difficulty, job.next, end, job.kind);
    } catch (error) {
      post({ type: 'failed', id: job.id, message: String(error) });
      return true;
    }
    job.hashes += result.hashes;
    Atomics.add(job.counter, 0, BigInt(result.hashes));
    if (result.nonce >= 0) {
      // Stop the other workers now, before the main thread even hears of it.
      Atomics.store(job.flag, 0, 1);
      post({ type: 'found', id: job.id, nonce: result.nonce, hashes: job.hashes });
      return true;
    }
    job.next += job.stride;
    return false;
  }

  function run(): void {
    running = true;
    try {
      while (jobs.length > 0) {
        for (let i = 0; i < jobs.length; ) {
          if (step(jobs[i]!)) jobs.splice(i, 1);
          else i++;
        }
        if (!drain) {
          // No synchronous drain: yield, and let `message` events add jobs.
          if (jobs.length > 0) {
            later(run);
            return;
          }
          break;
        }
        for (let m = drain(port); m !== undefined; m = drain(port)) accept(m.message);
      }
      running = false;
    } catch (error) {
      running = false;
      throw error;
    }
  }

  port.on('message', (message: unknown) => {
    accept(message);
    if (!running) run();
  });
  post({ type: 'ready', simd: kernel.simd });
  if (early) {
    accept(early.message);
    if (!running) run();
  }
}
