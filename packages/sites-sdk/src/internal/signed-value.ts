// Values the login handlers hand to a browser and must get back unchanged:
// `base64url(JSON) "." base64url(HMAC-SHA-256)`, with WebCrypto (edge
// runtimes too). Every instance given the same secret accepts the others'.

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class ValueSigner {
  private readonly key: Promise<CryptoKey>;

  constructor(secret: Uint8Array<ArrayBuffer>) {
    this.key = crypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
      'verify',
    ]);
  }

  async sign(payload: Record<string, unknown>): Promise<string> {
    const body = toBase64Url(encoder.encode(JSON.stringify(payload)));
    const mac = await crypto.subtle.sign('HMAC', await this.key, encoder.encode(body));
    return `${body}.${toBase64Url(new Uint8Array(mac))}`;
  }

  /** The payload, or `undefined` when the value was not signed with this secret (or is malformed). */
  async verify(value: string): Promise<Record<string, unknown> | undefined> {
    const dot = value.indexOf('.');
    if (dot <= 0 || value.length > 4_096) return undefined;
    const body = value.slice(0, dot);
    const mac = fromBase64Url(value.slice(dot + 1));
    if (mac?.length !== 32) return undefined;
    // subtle.verify compares in constant time.
    const ok = await crypto.subtle.verify('HMAC', await this.key, mac, encoder.encode(body));
    if (!ok) return undefined;
    try {
      const bytes = fromBase64Url(body);
      const parsed: unknown = bytes ? JSON.parse(decoder.decode(bytes)) : undefined;
      return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
        ? (parsed as Record<string, unknown>)
        : undefined;
    } catch {
      return undefined;
    }
  }
}

export function randomBase64Url(bytes: number): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}

function toBase64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  try {
    const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
    const out = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  } catch {
    return undefined;
  }
}
