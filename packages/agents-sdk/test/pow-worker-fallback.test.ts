// The PoW worker body where `receiveMessageOnPort` refuses the worker's port
// (Deno 2.9: "The "port" argument must be a MessagePort instance"): it must
// notice once, at start, and still run every job — concurrent ones included —
// by yielding between rounds, instead of failing the solve.

import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { meetsDifficulty } from '@lime/wire';
import { createPowKernel } from 'lime-agents-sdk/pow/internal/kernel';
import { powWasmModule } from 'lime-agents-sdk/pow/internal/main-kernel';
import { powWorkerMain, type WorkerReply } from 'lime-agents-sdk/pow/internal/worker-main';
import { describe, expect, it } from 'vitest';

class FakePort extends EventEmitter {
  replies: WorkerReply[] = [];
  postMessage(reply: WorkerReply) {
    this.replies.push(reply);
    this.emit('reply', reply);
  }
}

function job(id: number, challenge: string, difficulty: number) {
  return {
    type: 'solve' as const,
    id,
    challenge: new TextEncoder().encode(challenge),
    difficulty,
    start: 0,
    index: 0,
    count: 1,
    chunk: 4096,
    maxNonce: Number.MAX_SAFE_INTEGER,
    kind: undefined,
    shared: new SharedArrayBuffer(16),
  };
}

const found = (port: FakePort, id: number) =>
  new Promise<Extract<WorkerReply, { type: 'found' }>>((resolve, reject) => {
    port.on('reply', (r: WorkerReply) => {
      if (r.type === 'found' && r.id === id) resolve(r);
      if (r.type === 'failed' && r.id === id) reject(new Error(r.message));
    });
  });

describe('pow worker without receiveMessageOnPort', () => {
  it('probes once, then solves concurrent jobs by yielding between rounds', async () => {
    const port = new FakePort();
    let probes = 0;
    const refusing = () => {
      probes++;
      throw new TypeError('The "port" argument must be a MessagePort instance');
    };
    powWorkerMain(createPowKernel, port as never, powWasmModule(), refusing);
    expect(port.replies[0]).toMatchObject({ type: 'ready' });
    const [a, b] = [randomBytes(32).toString('hex'), randomBytes(32).toString('hex')];
    const first = found(port, 1);
    const second = found(port, 2);
    port.emit('message', job(1, a, 16));
    // Queued behind job 1; with no synchronous drain it is taken between rounds.
    port.emit('message', job(2, b, 8));
    const [r1, r2] = await Promise.all([first, second]);
    for (const [c, r, d] of [
      [a, r1, 16],
      [b, r2, 8],
    ] as const) {
      const digest = createHash('sha256')
        .update(c + String(r.nonce), 'utf8')
        .digest();
      expect(meetsDifficulty(digest, d)).toBe(true);
    }
    expect(probes).toBe(1);
  });

  it('keeps a message the start-up probe drained where the drain works', async () => {
    const port = new FakePort();
    const c = randomBytes(32).toString('hex');
    const queued = [{ message: job(7, c, 8) }];
    const done = found(port, 7);
    powWorkerMain(createPowKernel, port as never, powWasmModule(), () => queued.shift());
    await expect(done).resolves.toMatchObject({ type: 'found', id: 7 });
  });
});
