import { getHeapStatistics } from 'node:v8';

/** How long one reading of the heap is trusted, in ms (reading it costs ~µs). */
const SAMPLE_MS = 100;

/**
 * Is the V8 heap above `maxHeapBytes`? Read at most every 100 ms, so it
 * can sit on the hot path of every create and approve.
 */
export class HeapGuard {
  private checkedAt = Number.NEGATIVE_INFINITY;
  private over = false;

  constructor(
    private readonly maxHeapBytes: number | false,
    private readonly onChange?: (over: boolean, usedBytes: number) => void,
  ) {}

  overloaded(): boolean {
    if (this.maxHeapBytes === false) return false;
    const now = performance.now();
    if (now - this.checkedAt >= SAMPLE_MS) {
      this.checkedAt = now;
      const used = getHeapStatistics().used_heap_size;
      const over = used > this.maxHeapBytes;
      if (over !== this.over) this.onChange?.(over, used);
      this.over = over;
    }
    return this.over;
  }
}
