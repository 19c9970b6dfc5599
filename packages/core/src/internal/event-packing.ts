/**
 * Compact in-memory form of a retained event's `data` (MemoryStore). A
 * retained `approved` event is mostly its passport; kept as JSON text it
 * costs ~1,400 bytes of heap (base64url is 4/3 of the bytes it encodes,
 * the JWT header is the same for every passport of a key, the request id
 * is already held by the request record, and `JSON.stringify` leaves its
 * result with spare capacity). Packed, it costs about half. `unpackEventData`
 * restores the exact text.
 */

const APPROVED_PREFIX = '{"type":"approved","login_request_id":"';
const PASSPORT_KEY = '","agent_passport_jwt":"';
const PLAIN_TAIL = '"}';
/** Request ids and JWT segments: nothing that needs JSON escaping. */
const SAFE = /^[A-Za-z0-9_-]+$/;
const ONE_BYTE = /^[\x00-\xff]*$/;

/** An `approved` event, packed. */
export interface PackedApproved {
  /** The request id (the request record's own string when it has one). */
  requestId: string;
  /** `<JWT header segment>` (interned: one string per signing key). */
  header: string;
  /** The JWT payload and signature, decoded: one byte per character. */
  payload: string;
  signature: string;
  /** What follows the passport in the JSON text (`"}` shared when nothing else). */
  tail: string;
}

export type PackedEventData = string | PackedApproved;

/** A one-byte string of exactly this content, sharing nothing (no slack, no parent). */
export function exactCopy(text: string): string {
  if (!ONE_BYTE.test(text)) return text;
  return Buffer.from(text, 'latin1').toString('latin1');
}

/** The bytes a canonical base64url segment encodes, as a one-byte string; else undefined. */
function decodeSegment(segment: string): string | undefined {
  const bytes = Buffer.from(segment, 'base64url');
  // Only canonical encodings round-trip exactly: anything else stays text.
  if (bytes.toString('base64url') !== segment) return undefined;
  return bytes.toString('latin1');
}

/**
 * Pack `data`. `intern` returns one shared instance of a JWT header
 * segment (one per signing key); `requestId` maps a request id to the
 * record's own string, when the store has the record.
 */
export function packEventData(
  data: string,
  intern: (s: string) => string,
  requestId: (id: string) => string | undefined,
): PackedEventData {
  if (!data.startsWith(APPROVED_PREFIX)) return exactCopy(data);
  const idEnd = data.indexOf('"', APPROVED_PREFIX.length);
  if (idEnd === -1 || !data.startsWith(PASSPORT_KEY, idEnd)) return exactCopy(data);
  const jwtStart = idEnd + PASSPORT_KEY.length;
  const jwtEnd = data.indexOf('"', jwtStart);
  if (jwtEnd === -1) return exactCopy(data);
  const id = data.slice(APPROVED_PREFIX.length, idEnd);
  const parts = data.slice(jwtStart, jwtEnd).split('.');
  if (parts.length !== 3 || !SAFE.test(id) || !parts.every((p) => SAFE.test(p))) {
    return exactCopy(data);
  }
  const payload = decodeSegment(parts[1]!);
  const signature = decodeSegment(parts[2]!);
  if (payload === undefined || signature === undefined) return exactCopy(data);
  const tail = data.slice(jwtEnd);
  return {
    requestId: requestId(id) ?? exactCopy(id),
    header: intern(parts[0]!),
    payload,
    signature,
    // `"}` unless a redirect_url follows (unique per request: not interned).
    tail: tail === PLAIN_TAIL ? PLAIN_TAIL : exactCopy(tail),
  };
}

/** The exact `data` text that was packed. */
export function unpackEventData(packed: PackedEventData): string {
  if (typeof packed === 'string') return packed;
  const payload = Buffer.from(packed.payload, 'latin1').toString('base64url');
  const signature = Buffer.from(packed.signature, 'latin1').toString('base64url');
  return `${APPROVED_PREFIX}${packed.requestId}${PASSPORT_KEY}${packed.header}.${payload}.${signature}${packed.tail}`;
}
