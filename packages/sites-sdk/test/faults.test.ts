// Faults found by chaos runs (issue "never lose a login"), each with the
// scripted server and fake timers: a refused first key fetch, a resume that
// fails the same way again and again, a cut before the first id: line.
// Each failed before this change.
import type { SiteEvent } from 'lime-sites-sdk';
import { describe, expect, it } from 'vitest';
import { frame, json, sseResponse } from './helpers/fake-fetch.js';
import { useScriptedSites } from './helpers/scripted-site.js';
import { jwks, mintPassport, rsaKey } from './helpers/tokens.js';

const key = rsaKey('faults');
const { setup, tick } = useScriptedSites(key);

const approved = (requestId: string, id?: number) =>
  frame(
    {
      type: 'approved',
      login_request_id: requestId,
      agent_passport_jwt: mintPassport({ request_id: requestId }, key),
    },
    id,
  );

describe('keys unavailable', () => {
  it('a passport that arrives while the key endpoint refuses is held and verified once keys come back', async () => {
    let up = false;
    const { site, handles, core } = setup({
      jwks: () => (up ? json(jwks(key)) : new Response('edge says no', { status: 403 })),
      site: { jwks: { minRefreshInterval: 10_000 } },
    });
    const passport = site.waitForLogin('lr_held', { timeout: 60_000 });
    await tick();
    handles[0]!.push(approved('lr_held', 1));
    await tick(3_000); // refused several times meanwhile
    expect(core.calls.jwks).toBeGreaterThanOrEqual(2);
    up = true;
    await tick(6_000);
    await expect(passport).resolves.toMatchObject({ requestId: 'lr_held' });
  });

  it('gives up only when the passport itself has expired: jwks_unavailable, not a silent loss', async () => {
    const { site, handles } = setup({
      jwks: () => new Response('down', { status: 503 }),
    });
    const outcome = site.waitForLogin('lr_never', { timeout: 300_000 }).catch((e: unknown) => e);
    await tick();
    handles[0]!.push(approved('lr_never', 1));
    await tick(100_000);
    expect(await outcome).toMatchObject({ reason: 'jwks_unavailable' });
  });
});

describe('resume', () => {
  it('a resume that the server resets again and again (5 times over 20 s) is given up: resync, then from now', async () => {
    const events: SiteEvent[] = [];
    const { site, core } = setup({
      stream: (r, handles) => {
        const handle = sseResponse({}, r.signal);
        handles.push(handle);
        if (r.lastEventId) {
          handle.fail(); // e.g. a backlog the server cannot send: reset before any event
        } else if (handles.length === 1) {
          handle.push(frame({ type: 'keepalive' }, 'log-7'));
          setTimeout(() => handle.fail(), 10);
        }
        return handle.response;
      },
      site: { reconnectMinDelay: 10 },
    });
    const iterate = (async () => {
      for await (const e of site.events()) events.push(e);
    })();
    await tick(60_000);
    const resumes = core.calls.stream.filter((c) => c.lastEventId === 'log-7');
    expect(resumes.length).toBeGreaterThanOrEqual(5);
    expect(core.calls.stream.at(-1)!.lastEventId).toBeNull();
    expect(events.some((e) => e.type === 'resync')).toBe(true);
    expect(site.stats().resumesAbandoned).toBe(1);
    await site.close();
    await iterate;
  });

  it('a cut before the first id: line still resumes from the position in the response head', async () => {
    const { site, core } = setup({
      stream: (r, handles) => {
        const handle = sseResponse({ headers: { 'x-lime-last-event-id': 'log-41' } }, r.signal);
        handles.push(handle);
        if (handles.length === 1) setTimeout(() => handle.fail(), 10); // cut before any byte
        return handle.response;
      },
      site: { reconnectMinDelay: 10 },
    });
    await site.connect();
    await tick(3_000);
    expect(core.calls.stream.length).toBeGreaterThanOrEqual(2);
    expect(core.calls.stream[1]!.lastEventId).toBe('log-41');
  });
});
