import { randomBytes } from 'node:crypto';

/**
 * SSE event ids of the Core (PROTOCOL.md §3.5): `<epoch>-<n>`, where `epoch`
 * names the event log (random per log) and `n` is the event's position in
 * it (1, 2, 3 …; `0` before the first event). Clients treat the whole id as
 * an opaque string; the Core reads it back from `Last-Event-ID`.
 */

/** An epoch: 1–64 letters, digits or `_` (no `-`: it separates `n`). */
export const EPOCH_PATTERN = /^[A-Za-z0-9_]{1,64}$/;

const EVENT_ID = /^([A-Za-z0-9_]{1,64})-(0|[1-9][0-9]{0,15})$/;
/** Ids of Cores before epochs: a bare decimal position. */
const BARE_ID = /^(0|[1-9][0-9]{0,15})$/;

/** A fresh epoch: 10 lowercase hex characters (40 random bits). */
export function newEpoch(): string {
  return randomBytes(5).toString('hex');
}

export function formatEventId(epoch: string, n: number): string {
  return `${epoch}-${n}`;
}

/**
 * Where a `Last-Event-ID` asks to resume: after position `id` of the current
 * log, or (`foreign`) from an unknown point of another log — resync, then
 * everything retained.
 */
export type ResumePosition = { kind: 'position'; id: number } | { kind: 'foreign' };

/**
 * Read a `Last-Event-ID`. `undefined` when it is not an id this Core (or an
 * earlier version of it) could have sent. A bare `0` means "from the start
 * of the current log"; any other bare number is an id of a Core before
 * epochs, whose log cannot be told apart from this one: foreign.
 */
export function parseEventId(value: string, epoch: string): ResumePosition | undefined {
  const m = EVENT_ID.exec(value);
  if (m) {
    const n = Number(m[2]);
    if (!Number.isSafeInteger(n)) return undefined;
    return m[1] === epoch ? { kind: 'position', id: n } : { kind: 'foreign' };
  }
  const bare = BARE_ID.exec(value);
  if (!bare) return undefined;
  const n = Number(bare[1]);
  if (!Number.isSafeInteger(n)) return undefined;
  return n === 0 ? { kind: 'position', id: 0 } : { kind: 'foreign' };
}
