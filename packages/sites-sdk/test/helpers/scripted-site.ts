// A LimeSite against a scripted in-process server, on fake timers: each test
// drives the stream connections byte by byte and moves time by hand. Shared
// by the hosted-framing and fault tests.
import { LimeSite, type LimeSiteOptions } from 'lime-sites-sdk';
import { afterEach, beforeEach, vi } from 'vitest';
import {
  API_BASE,
  fakeCore,
  json,
  type SseHandle,
  type StreamRequest,
  sseResponse,
} from './fake-fetch.js';
import { jwks, type TestKey } from './tokens.js';

export interface ScriptedSiteOptions {
  /** Answer of the n-th JWKS fetch. @default the key's set */
  jwks?: (index: number) => Response;
  /** Answer of a stream connection. @default an open stream pushed to `handles` */
  stream?: (request: StreamRequest, handles: SseHandle[]) => Response;
  /** Headers of the default stream answer. */
  streamHeaders?: Record<string, string>;
  /** Answer of any other route (§3.1b reads…). @default 404 NOT_FOUND */
  other?: (url: string) => Response;
  site?: LimeSiteOptions;
}

/**
 * Fake timers around each test and a `setup()` that builds a site; every
 * site made is closed after its test.
 */
export function useScriptedSites(key: TestKey) {
  let sites: LimeSite[] = [];
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(async () => {
    await Promise.all(sites.map((s) => s.close()));
    sites = [];
    vi.useRealTimers();
  });
  const tick = (ms = 0) => vi.advanceTimersByTimeAsync(ms);
  const setup = (options: ScriptedSiteOptions = {}) => {
    const handles: SseHandle[] = [];
    const core = fakeCore({
      jwks: (i) => (options.jwks ? options.jwks(i) : json(jwks(key))),
      stream: (r) => {
        if (options.stream) return options.stream(r, handles);
        const handle = sseResponse(
          options.streamHeaders ? { headers: options.streamHeaders } : {},
          r.signal,
        );
        handles.push(handle);
        return handle.response;
      },
      ...(options.other ? { other: options.other } : {}),
    });
    const site = new LimeSite({
      siteToken: 'st_test',
      apiBase: API_BASE,
      fetch: core.fetch,
      ...options.site,
    });
    sites.push(site);
    return { site, core, handles };
  };
  const track = (site: LimeSite) => {
    sites.push(site);
    return site;
  };
  return { setup, tick, track };
}
