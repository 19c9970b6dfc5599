import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { AbortError, LimeError } from '@lime/wire';
import type { KernelKind } from './kernel.js';
import { powWasmModule } from './main-kernel.js';
import type { SolveJobMessage, WorkerReply } from './worker-main.js';
import { powWorkerSource } from './worker-source.js';

/** What one pooled solve needs. */
export interface PoolSolveRequest {
  challenge: Uint8Array;
  difficulty: number;
  /** First nonce to try. */
  start: number;
  /** Largest nonce allowed. */
  maxNonce: number;
  /** Workers sharing the nonce space. */
  workers: number;
  /** Nonces per chunk (between two polls of the stop flag). */
  chunk: number;
  /** Force a kernel (tests, bench); default: SIMD where available. */
  kind?: KernelKind;
}

/** A running pooled solve. */
export interface PoolSolve {
  /** Settles with the first nonce found, or rejects (cancel, worker failure, exhaustion). */
  readonly done: Promise<{ nonce: number; hashes: number }>;
  /** Hashes done so far by all its workers (completed chunks). */
  hashes(): number;
  /** True once it found, failed or was cancelled. */
  settled(): boolean;
  /** Tell its workers to stop at their next chunk boundary, and reject `done` with `reason`. */
  cancel(reason: Error): void;
}

interface Slot {
  worker: Worker;
  /** True once the worker has loaded its kernel and can take jobs at full speed. */
  ready: boolean;
  /** Ids of the jobs this worker is still running (not yet reported found/stopped). */
  jobs: Set<number>;
}

interface Job {
  id: number;
  flag: Int32Array;
  counter: BigInt64Array;
  workers: number;
  exhausted: number;
  settled: boolean;
  resolve(value: { nonce: number; hashes: number }): void;
  reject(error: Error): void;
}

/**
 * A lazily started, persistent pool of hashing workers. Workers are unref'd
 * while idle, so the pool never keeps a process alive, and ref'd while they
 * run a job, so `await solvePow(…)` in a script does not exit mid-solve.
 */
export class PowPool {
  private slots: Slot[] = [];
  private readonly jobs = new Map<number, Job>();
  private nextId = 1;
  private idleWaiters: Array<() => void> = [];
  private readyWaiters: Array<{ count: number; resolve: () => void }> = [];

  /** Workers currently started. */
  get size(): number {
    return this.slots.length;
  }

  /** Worker-job assignments not yet finished: 0 means every worker is idle. */
  get activeAssignments(): number {
    let n = 0;
    for (const slot of this.slots) n += slot.jobs.size;
    return n;
  }

  /** Resolves once no worker has a job (immediately when none has). */
  whenIdle(): Promise<void> {
    if (this.activeAssignments === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** True when the first `count` workers are started and loaded. */
  isReady(count: number): boolean {
    return this.slots.length >= count && this.slots.slice(0, count).every((slot) => slot.ready);
  }

  /** Resolves when the first `count` workers are loaded (or the pool shut down). */
  whenReady(count: number): Promise<void> {
    if (this.isReady(count) || this.slots.length < count) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push({ count, resolve }));
  }

  /** Start workers until there are `count`. */
  ensure(count: number): void {
    while (this.slots.length < count) this.slots.push(this.spawn());
  }

  solve(request: PoolSolveRequest): PoolSolve {
    this.ensure(request.workers);
    const shared = new SharedArrayBuffer(16);
    const id = this.nextId++;
    let resolve!: Job['resolve'];
    let reject!: Job['reject'];
    const done = new Promise<{ nonce: number; hashes: number }>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const job: Job = {
      id,
      flag: new Int32Array(shared, 0, 1),
      counter: new BigInt64Array(shared, 8, 1),
      workers: request.workers,
      exhausted: 0,
      settled: false,
      resolve,
      reject,
    };
    this.jobs.set(id, job);
    for (let index = 0; index < request.workers; index++) {
      const slot = this.slots[index]!;
      const message: SolveJobMessage = {
        type: 'solve',
        id,
        challenge: request.challenge,
        difficulty: request.difficulty,
        start: request.start,
        index,
        count: request.workers,
        chunk: request.chunk,
        maxNonce: request.maxNonce,
        kind: request.kind,
        shared,
      };
      slot.jobs.add(id);
      slot.worker.ref();
      slot.worker.postMessage(message);
    }
    return {
      done,
      hashes: () => Number(Atomics.load(job.counter, 0)),
      settled: () => job.settled,
      cancel: (reason) => this.settle(job, reason),
    };
  }

  /** Stop every worker; pending solves reject with an AbortError. */
  async shutdown(): Promise<void> {
    const slots = this.slots;
    this.slots = [];
    for (const job of this.jobs.values()) {
      this.settle(job, new AbortError('the proof-of-work pool was shut down during the solve'));
    }
    this.jobs.clear();
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
    this.notifyIdle();
    this.notifyReady(true);
  }

  private spawn(): Slot {
    const worker = new Worker(powWorkerSource(), {
      eval: true,
      workerData: { wasmModule: powWasmModule() },
      // The worker runs only its own source: no loaders or flags of the parent
      // (tsx, --inspect, …), which also keeps its start-up short.
      execArgv: [],
    });
    const slot: Slot = { worker, ready: false, jobs: new Set() };
    worker.on('message', (reply: WorkerReply) => this.onReply(slot, reply));
    worker.on('error', (error) => this.onWorkerLost(slot, error));
    worker.on('exit', (code) =>
      this.onWorkerLost(slot, new Error(`proof-of-work worker exited with code ${code}`)),
    );
    // After the listeners: adding a 'message' listener refs the worker again.
    worker.unref();
    return slot;
  }

  private onReply(slot: Slot, reply: WorkerReply): void {
    if (reply.type === 'ready') {
      slot.ready = true;
      this.notifyReady();
      return;
    }
    const job = this.jobs.get(reply.id);
    slot.jobs.delete(reply.id);
    if (slot.jobs.size === 0) slot.worker.unref();
    if (job !== undefined) {
      if (reply.type === 'found') {
        this.settle(job, undefined, { nonce: reply.nonce, hashes: this.counted(job) });
      } else if (reply.type === 'exhausted') {
        job.exhausted++;
        if (job.exhausted === job.workers) {
          this.settle(
            job,
            new LimeError(
              'POW_EXHAUSTED',
              `no nonce up to ${Number.MAX_SAFE_INTEGER} meets difficulty; the challenge cannot be solved`,
            ),
          );
        }
      } else if (reply.type === 'failed') {
        this.settle(
          job,
          new LimeError('POW_WORKER_FAILED', `a proof-of-work worker failed: ${reply.message}`),
        );
      }
      if (!this.slots.some((s) => s.jobs.has(job.id))) this.jobs.delete(job.id);
    }
    this.notifyIdle();
  }

  private onWorkerLost(slot: Slot, error: Error): void {
    const index = this.slots.indexOf(slot);
    if (index === -1) return; // already removed (shutdown, or error then exit)
    this.slots.splice(index, 1);
    for (const id of slot.jobs) {
      const job = this.jobs.get(id);
      if (job !== undefined) {
        this.settle(
          job,
          new LimeError('POW_WORKER_FAILED', `a proof-of-work worker stopped: ${error.message}`, {
            cause: error,
          }),
        );
      }
    }
    slot.jobs.clear();
    this.notifyIdle();
    this.notifyReady(true);
  }

  private counted(job: Job): number {
    return Number(Atomics.load(job.counter, 0));
  }

  private settle(job: Job, error: Error | undefined, value?: { nonce: number; hashes: number }) {
    // Whatever the outcome, the job's other workers stop at their next chunk.
    Atomics.store(job.flag, 0, 1);
    if (job.settled) return;
    job.settled = true;
    if (error !== undefined) job.reject(error);
    else job.resolve(value!);
  }

  private notifyReady(all = false): void {
    this.readyWaiters = this.readyWaiters.filter(({ count, resolve }) => {
      if (!all && !this.isReady(count)) return true;
      resolve();
      return false;
    });
  }

  private notifyIdle(): void {
    if (this.idleWaiters.length === 0 || this.activeAssignments !== 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }
}

let pool: PowPool | undefined;

/** The process-wide pool, created on first use (no worker starts until a solve needs one). */
export function powPool(): PowPool {
  pool ??= new PowPool();
  return pool;
}

/** Workers per solve unless the caller says otherwise: one per available core. */
export function defaultPowWorkers(): number {
  return Math.max(1, availableParallelism());
}
