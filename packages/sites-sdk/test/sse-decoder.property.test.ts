// The stream decoder against eventsource-parser (the reference WHATWG
// implementation we used before): on every standard stream of JSON-object
// events — ids, retry:, comments, CR/LF/CRLF, multi-line data — both yield the
// same events and the same resume ids, however the text is chunked. Then the
// hosted-only rules: per-line events without a blank line.
import { createParser } from 'eventsource-parser';
import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SseDecoder, type SseMessage } from '../src/internal/sse-decoder.js';

interface Output {
  messages: SseMessage[];
  ids: string[];
  retries: number[];
}

function decode(chunks: string[]): Output {
  const out: Output = { messages: [], ids: [], retries: [] };
  const decoder = new SseDecoder(
    {
      onMessage: (m) => out.messages.push(m),
      onId: (id) => out.ids.push(id),
      onRetry: (ms) => out.retries.push(ms),
      onComment: () => {},
    },
    1 << 20,
  );
  for (const chunk of chunks) decoder.feed(chunk);
  decoder.end();
  return out;
}

function reference(text: string): Output {
  const out: Output = { messages: [], ids: [], retries: [] };
  const parser = createParser({
    onEvent: (e) => {
      out.messages.push({ id: e.id, data: e.data });
      if (e.id !== undefined) out.ids.push(e.id);
    },
    onRetry: (ms) => out.retries.push(ms),
  });
  parser.feed(text);
  return out;
}

/** Split `text` at the given (sorted, deduplicated) cut points. */
function chunk(text: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const parts: string[] = [];
  let from = 0;
  for (const p of points) {
    parts.push(text.slice(from, p));
    from = p;
  }
  parts.push(text.slice(from));
  return parts;
}

const newline = fc.constantFrom('\n', '\r\n', '\r');
const jsonEvent = fc
  .record({
    type: fc.constantFrom('approved', 'expired', 'keepalive'),
    login_request_id: fc.string({ minLength: 1, maxLength: 12 }),
    note: fc.string({ maxLength: 20 }),
  })
  .map((o) => JSON.stringify(o));

/** One standard frame: optional comment, id, retry, then data (one line, or pretty-printed). */
const frame = fc
  .record({
    comment: fc.option(fc.string({ maxLength: 10 }).filter((s) => !/[\r\n]/.test(s))),
    id: fc.option(fc.stringMatching(/^[0-9a-z:-]{1,12}$/)),
    retry: fc.option(fc.integer({ min: 0, max: 60_000 })),
    event: jsonEvent,
    multiline: fc.boolean(),
    nl: newline,
  })
  .map(({ comment, id, retry, event, multiline, nl }) => {
    const lines: string[] = [];
    if (comment !== null) lines.push(`:${comment}`);
    if (id !== null) lines.push(`id: ${id}`);
    if (retry !== null) lines.push(`retry: ${retry}`);
    if (multiline) {
      // Pretty-printed JSON over several data: lines: no line is a whole object.
      const pretty = JSON.stringify(JSON.parse(event), null, 1).split('\n');
      for (const l of pretty) lines.push(`data: ${l}`);
    } else {
      lines.push(`data: ${event}`);
    }
    return lines.join(nl) + nl + nl;
  });

describe('SseDecoder', () => {
  it('matches eventsource-parser on standard streams, whatever the chunking', () => {
    fc.assert(
      fc.property(
        fc.array(frame, { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (frames, cuts) => {
          const text = frames.join('');
          // eventsource-parser cannot know that a final CR is not half a CRLF
          // (it has no end()); one more LF settles it without adding a frame.
          expect(decode(chunk(text, cuts))).toEqual(reference(`${text}\n`));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('per-line events (no blank line) come out as they arrive, whatever the chunking', () => {
    fc.assert(
      fc.property(
        fc.array(jsonEvent, { minLength: 1, maxLength: 8 }),
        newline,
        fc.array(fc.nat(), { maxLength: 12 }),
        (events, nl, cuts) => {
          const text = events.map((e) => `data: ${e}${nl}`).join('');
          // A trailing CR could still be half of CRLF; the line is complete all the same.
          const out = decode(chunk(text, cuts));
          expect(out.messages.map((m) => m.data)).toEqual(events);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('an id-only frame moves the resume point (as the Core sends on a fresh stream)', () => {
    const out = decode(['id: 41\n\n', 'data: {"type":"keepalive"}\n\n']);
    expect(out.ids).toEqual(['41']);
    expect(out.messages).toEqual([{ id: undefined, data: '{"type":"keepalive"}' }]);
  });

  it('several JSON lines in one standard event are several events; a broken one stays whole', () => {
    const out = decode([
      'data: {"a":1}\ndata: {"b":2}\n\n',
      'data: {"c":\ndata: 3}\n\n',
      'data: x\n\n',
    ]);
    expect(out.messages.map((m) => m.data)).toEqual(['{"a":1}', '{"b":2}', '{"c":\n3}', 'x']);
  });

  it('refuses a line or an event past the size limit', () => {
    const decoder = new SseDecoder(
      { onMessage: () => {}, onId: () => {}, onRetry: () => {}, onComment: () => {} },
      100,
    );
    expect(() => decoder.feed(`data: ${'x'.repeat(200)}`)).toThrow(/exceeded 100/);
    const other = new SseDecoder(
      { onMessage: () => {}, onId: () => {}, onRetry: () => {}, onComment: () => {} },
      100,
    );
    expect(() => {
      for (let i = 0; i < 10; i++) other.feed(`data: ${'y'.repeat(20)}\n`);
    }).toThrow(/exceeded 100/);
  });
});
