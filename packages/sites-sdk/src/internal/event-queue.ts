/**
 * A bounded push → pull queue behind one `events()` iterator. A slow consumer
 * never slows the stream or other consumers: when full, the oldest item is
 * dropped and `onOverflow` is told.
 */
export class EventQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private readonly pulls: Array<{
    resolve: (result: IteratorResult<T>) => void;
    reject: (error: unknown) => void;
  }> = [];
  private ended = false;
  private failure: unknown;

  constructor(
    private readonly capacity: number,
    private readonly onOverflow: () => void,
    private readonly onReturn: () => void,
  ) {}

  push(item: T): void {
    if (this.ended) return;
    const pull = this.pulls.shift();
    if (pull) {
      pull.resolve({ value: item, done: false });
      return;
    }
    if (this.items.length >= this.capacity) {
      this.items.shift();
      this.onOverflow();
    }
    this.items.push(item);
  }

  /** End the iteration: buffered items are still delivered, then `done` (or `error`). */
  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = error;
    for (const pull of this.pulls.splice(0)) {
      if (error === undefined) pull.resolve({ value: undefined, done: true });
      else pull.reject(error);
    }
    if (error !== undefined) this.items.length = 0;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) return Promise.resolve({ value: this.items.shift()!, done: false });
    if (this.ended) {
      if (this.failure !== undefined) {
        const failure = this.failure;
        this.failure = undefined;
        return Promise.reject(failure);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => this.pulls.push({ resolve, reject }));
  }

  return(): Promise<IteratorResult<T>> {
    this.items.length = 0;
    this.end();
    this.onReturn();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
