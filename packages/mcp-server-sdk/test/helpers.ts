// Shared test helpers: real tokens from the reference Core, over HTTP.
import { generateKeyPairSync, sign } from 'node:crypto';
import { HEADERS, PATHS } from '@lime/wire';
import type { Core } from 'lime-core';

/** POST /modules/oauth/token as an agent (PROTOCOL.md §7). */
export async function mintMcpToken(
  core: Core,
  agentToken: string,
  body: { domain: string; resource?: string },
): Promise<string> {
  const res = await fetch(core.apiBase + PATHS.oauthToken, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [HEADERS.agentToken]: agentToken },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as { access_token?: string };
  if (res.status !== 200 || typeof json.access_token !== 'string') {
    throw new Error(`token endpoint answered ${res.status}: ${JSON.stringify(json)}`);
  }
  return json.access_token;
}

/** A real site passport: create a login request, approve it as the agent, read it off the SSE stream. */
export async function sitePassport(core: Core, agentToken: string): Promise<string> {
  const { siteToken } = await core.admin.createSite({ name: 'passport-source' });
  const controller = new AbortController();
  const events = await fetch(core.apiBase + PATHS.loginEvents, {
    headers: { [HEADERS.siteToken]: siteToken, accept: 'text/event-stream' },
    signal: controller.signal,
  });
  try {
    const created = await fetch(core.apiBase + PATHS.createLoginRequest, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [HEADERS.siteToken]: siteToken },
      body: '{}',
    });
    const id = ((await created.json()) as { data: { login_request_id: string } }).data
      .login_request_id;
    const approved = await fetch(core.apiBase + PATHS.approveLoginRequest(id), {
      method: 'POST',
      headers: { 'content-type': 'application/json', [HEADERS.agentToken]: agentToken },
      body: JSON.stringify({ pow_nonce: '0' }),
    });
    if (approved.status !== 200) throw new Error(`approve answered ${approved.status}`);
    const reader = events.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) throw new Error('event stream ended before the passport arrived');
      text += decoder.decode(value, { stream: true });
      const match = /"agent_passport_jwt":"([^"]+)"/.exec(text);
      if (match) return match[1]!;
    }
  } finally {
    controller.abort();
  }
}

/** Re-sign a token's header and payload with a key the Core never published. */
export function forge(token: string, payloadOverrides: Record<string, unknown> = {}): string {
  const [h, p] = token.split('.') as [string, string];
  const payload = { ...JSON.parse(Buffer.from(p, 'base64url').toString()), ...payloadOverrides };
  const input = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return `${input}.${sign('RSA-SHA256', Buffer.from(input), privateKey).toString('base64url')}`;
}

/** Decode a JWT payload without verifying (test inspection only). */
export function peek(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
}
