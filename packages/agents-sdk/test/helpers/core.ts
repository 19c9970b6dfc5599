import { HEADERS, PATHS } from '@lime/wire';
import type { Core } from 'lime-core';

/** §3.1 as a site backend would do it: POST with X-Site-Token. */
export async function createLoginRequest(core: Core, siteToken: string): Promise<string> {
  const res = await fetch(core.apiBase + PATHS.createLoginRequest, {
    method: 'POST',
    headers: { [HEADERS.siteToken]: siteToken, 'content-type': 'application/json' },
    body: '{}',
  });
  const body = (await res.json()) as { ok: boolean; data: { login_request_id: string } };
  if (!body.ok) throw new Error(`createLoginRequest failed: ${JSON.stringify(body)}`);
  return body.data.login_request_id;
}

/** §3.2, raw: the request's status as the Core sees it. */
export async function requestStatus(core: Core, id: string): Promise<string> {
  const res = await fetch(core.apiBase + PATHS.loginChallenge(id));
  const body = (await res.json()) as { data?: { status: string }; error?: { code: string } };
  return body.data?.status ?? body.error?.code ?? 'unknown';
}

/** A fetch that records every request (method + path) and can be told to misbehave. */
export function recordingFetch() {
  const log: string[] = [];
  const requests: Array<{ method: string; url: URL; headers: Headers }> = [];
  let hook:
    | ((method: string, path: string, run: () => Promise<Response>) => Promise<Response>)
    | undefined;
  const fetchFn = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : input.toString());
    const method = init?.method ?? 'GET';
    log.push(`${method} ${url.pathname}`);
    requests.push({ method, url, headers: new Headers(init?.headers) });
    const run = () => fetch(input, init);
    return hook ? hook(method, url.pathname, run) : run();
  };
  return {
    fetch: fetchFn,
    log,
    requests,
    count: (method: string, pathPart: string) =>
      log.filter((l) => l.startsWith(`${method} `) && l.includes(pathPart)).length,
    setHook(h: typeof hook) {
      hook = h;
    },
  };
}
