/**
 * A small path router: exact paths in a map (the hot paths), patterns with
 * single-segment parameters in a short list. Parameters are marked by the
 * segment `%00`, which is what `PATHS.x('\0')` of @lime/wire produces, so
 * wire paths are never re-typed here.
 */

export const PARAM = '%00';

export interface Match<T> {
  /** Handlers by method for the matched path. */
  methods: Map<string, T>;
  params: string[];
}

interface Pattern<T> {
  segments: string[];
  methods: Map<string, T>;
}

export class Router<T> {
  private readonly exact = new Map<string, Map<string, T>>();
  private readonly patterns: Pattern<T>[] = [];

  add(method: string, path: string, handler: T): this {
    if (!path.includes(PARAM)) {
      let m = this.exact.get(path);
      if (!m) {
        m = new Map();
        this.exact.set(path, m);
      }
      m.set(method, handler);
      return this;
    }
    const segments = path.split('/');
    let p = this.patterns.find((x) => x.segments.join('/') === path);
    if (!p) {
      p = { segments, methods: new Map() };
      this.patterns.push(p);
    }
    p.methods.set(method, handler);
    return this;
  }

  match(path: string): Match<T> | undefined {
    const exact = this.exact.get(path);
    if (exact) return { methods: exact, params: [] };
    const parts = path.split('/');
    for (const p of this.patterns) {
      if (p.segments.length !== parts.length) continue;
      const params: string[] = [];
      let ok = true;
      for (let i = 0; i < parts.length; i++) {
        const want = p.segments[i]!;
        const got = parts[i]!;
        if (want === PARAM) {
          if (got.length === 0) {
            ok = false;
            break;
          }
          let decoded: string;
          try {
            decoded = decodeURIComponent(got);
          } catch {
            ok = false;
            break;
          }
          params.push(decoded);
        } else if (want !== got) {
          ok = false;
          break;
        }
      }
      if (ok) return { methods: p.methods, params };
    }
    return undefined;
  }
}
