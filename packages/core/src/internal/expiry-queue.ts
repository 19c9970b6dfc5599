/** A binary min-heap of (time, id): the next login request to expire. */
export class ExpiryQueue {
  private readonly times: number[] = [];
  private readonly ids: string[] = [];

  get size(): number {
    return this.times.length;
  }

  push(time: number, id: string): void {
    let i = this.times.length;
    this.times.push(time);
    this.ids.push(id);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.times[parent]! <= time) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Time of the earliest entry, or Infinity. */
  peekTime(): number {
    return this.times.length > 0 ? this.times[0]! : Number.POSITIVE_INFINITY;
  }

  /** Remove and return the earliest id. */
  pop(): string | undefined {
    const n = this.times.length;
    if (n === 0) return undefined;
    const id = this.ids[0];
    const lastT = this.times.pop()!;
    const lastI = this.ids.pop()!;
    if (n > 1) {
      this.times[0] = lastT;
      this.ids[0] = lastI;
      let i = 0;
      const len = n - 1;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < len && this.times[l]! < this.times[m]!) m = l;
        if (r < len && this.times[r]! < this.times[m]!) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return id;
  }

  private swap(a: number, b: number): void {
    const t = this.times[a]!;
    this.times[a] = this.times[b]!;
    this.times[b] = t;
    const s = this.ids[a]!;
    this.ids[a] = this.ids[b]!;
    this.ids[b] = s;
  }
}
