// Reading and writing the cookies of the login handlers (RFC 6265), with
// web-standard APIs only: the handlers run on edge runtimes too.

/** Attributes of a cookie the handlers set. */
export interface CookieAttributes {
  /** Lifetime, milliseconds (sent as `Max-Age` in seconds); 0 deletes the cookie. */
  maxAge?: number;
  path?: string;
  domain?: string;
  sameSite?: 'Lax' | 'Strict' | 'None';
  secure?: boolean;
  httpOnly?: boolean;
}

/** A cookie name: an RFC 6265 token. */
const NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A cookie value without quotes: no CTLs, whitespace, `"`, `,`, `;` or `\`. */
const VALUE = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/;
/** Path and domain: no `;` and no control characters. */
const ATTRIBUTE = /^[\x20-\x3A\x3C-\x7E]+$/;

export function isCookieName(name: string): boolean {
  return NAME.test(name);
}

/** The value of cookie `name` in a `Cookie` header (the first, as browsers send the most specific first). */
export function readCookie(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** A `Set-Cookie` header value. Throws a `TypeError` naming what is not allowed. */
export function serializeCookie(name: string, value: string, attributes: CookieAttributes): string {
  if (!NAME.test(name)) throw new TypeError(`cookie name '${name.slice(0, 40)}' is not a token`);
  if (!VALUE.test(value)) {
    throw new TypeError(
      `the value of cookie '${name}' has characters a cookie cannot hold (space, quote, comma, semicolon, backslash, control) — encode it (base64url)`,
    );
  }
  let out = `${name}=${value}`;
  if (attributes.maxAge !== undefined) {
    out += `; Max-Age=${Math.max(0, Math.floor(attributes.maxAge / 1000))}`;
  }
  if (attributes.domain !== undefined) out += `; Domain=${checked('domain', attributes.domain)}`;
  out += `; Path=${checked('path', attributes.path ?? '/')}`;
  if (attributes.httpOnly ?? true) out += '; HttpOnly';
  if (attributes.secure) out += '; Secure';
  out += `; SameSite=${attributes.sameSite ?? 'Lax'}`;
  return out;
}

function checked(what: string, value: string): string {
  if (!ATTRIBUTE.test(value))
    throw new TypeError(`cookie ${what} '${value.slice(0, 40)}' is not allowed`);
  return value;
}
