/**
 * Make a message safe inside a quoted `WWW-Authenticate` parameter: printable
 * ASCII only, no double quote or backslash, no CR/LF, bounded length. (The MCP
 * SDK's `requireBearerAuth` puts `error.message` in the header unescaped.)
 */
export function headerSafe(message: string, maxLength = 200): string {
  let out = message
    .replace(/[\u2012-\u2015]/g, '-')
    .replace(/[\u2018\u2019"]/g, "'")
    .replace(/\u2026/g, '...')
    .replace(/[\u2212]/g, '-')
    .replace(/\\/g, '/')
    .replace(/[^\x20-\x7e]/g, '?');
  if (out.length > maxLength) out = `${out.slice(0, maxLength - 3)}...`;
  return out;
}
