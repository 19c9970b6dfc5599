// Server-Sent Events framing as both servers may send it (PROTOCOL.md §3.5):
// standard WHATWG frames (dispatch on a blank line), and the hosted
// platform's possible per-line frames — a `data:` line holding a complete JSON
// object is an event at once, with or without a blank line after it, and
// several JSON lines in one event are several events. eventsource-parser
// implements only the first (it waits for the blank line that may never
// come), so this small decoder does both; a property test holds it to
// eventsource-parser on every standard stream, however it is chunked.

/** One event: its JSON text and the `id:` given in its own frame, if any. */
export interface SseMessage {
  id: string | undefined;
  data: string;
}

export interface SseDecoderHandlers {
  onMessage(message: SseMessage): void;
  /**
   * A frame set the last event id (applied when the frame is dispatched, with
   * or without data, as in WHATWG: an id-only frame moves the resume point).
   */
  onId(id: string): void;
  /** A valid `retry:` field, milliseconds. */
  onRetry(ms: number): void;
  /** A comment line (`: keepalive`): servers use them as keepalives. */
  onComment(): void;
}

/** An event or a line grew past the limit. */
export class SseOverflowError extends Error {
  constructor(limit: number) {
    super(`an event on the stream exceeded ${limit} characters`);
    this.name = 'SseOverflowError';
  }
}

/** Does this `data:` value hold a whole JSON object by itself? */
function completeJsonObject(value: string): boolean {
  const text = value.trim();
  if (text.length < 2 || text[0] !== '{' || text[text.length - 1] !== '}') return false;
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
  } catch {
    return false;
  }
}

/** Feed decoded text in any chunking; handlers are called synchronously. */
export class SseDecoder {
  private line = '';
  /** The previous chunk ended in CR: a leading LF of the next one ends nothing. */
  private afterCR = false;
  private data: string[] = [];
  private dataSize = 0;
  /** The `id:` of the frame being read (WHATWG's last-event-ID buffer, per frame). */
  private frameId: string | undefined;

  constructor(
    private readonly handlers: SseDecoderHandlers,
    private readonly maxEventSize: number,
  ) {}

  feed(chunk: string): void {
    let start = 0;
    let i = 0;
    if (this.afterCR && chunk.charCodeAt(0) === 10) {
      start = 1;
      i = 1;
    }
    this.afterCR = false;
    for (; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.line += chunk.slice(start, i);
      this.processLine(this.line);
      this.line = '';
      if (c === 13) {
        if (i + 1 < chunk.length) {
          if (chunk.charCodeAt(i + 1) === 10) i++;
        } else {
          this.afterCR = true;
        }
      }
      start = i + 1;
    }
    this.line += chunk.slice(start);
    if (this.line.length > this.maxEventSize) throw new SseOverflowError(this.maxEventSize);
  }

  /**
   * The stream ended. WHATWG drops an unterminated event; a last `data:` line
   * that is a complete JSON object is still an event (a line reader, as the
   * Python listener uses, yields it).
   */
  end(): void {
    const last = this.line;
    this.line = '';
    this.afterCR = false;
    if (this.data.length === 0 && last.startsWith('data:')) {
      const value = fieldValue(last, 5);
      if (completeJsonObject(value)) this.handlers.onMessage({ id: this.takeId(), data: value });
    }
    this.data = [];
    this.dataSize = 0;
    this.frameId = undefined;
  }

  private processLine(line: string): void {
    if (line.length === 0) {
      this.dispatch();
      return;
    }
    if (line.charCodeAt(0) === 58 /* : */) {
      this.handlers.onComment();
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : fieldValue(line, colon + 1);
    switch (field) {
      case 'data':
        if (this.data.length === 0 && completeJsonObject(value)) {
          // A whole event on one line: deliver now, do not wait for a blank line.
          this.handlers.onMessage({ id: this.takeId(), data: value });
          return;
        }
        this.dataSize += value.length + 1;
        if (this.dataSize > this.maxEventSize) throw new SseOverflowError(this.maxEventSize);
        this.data.push(value);
        return;
      case 'id':
        if (!value.includes('\0')) this.frameId = value;
        return;
      case 'retry':
        if (/^\d+$/.test(value)) this.handlers.onRetry(Number(value));
        return;
      default:
        // `event:` and unknown fields: the JSON `type` says what an event is.
        return;
    }
  }

  /** Apply the frame's id (if it set one) and hand it to the event being delivered. */
  private takeId(): string | undefined {
    const id = this.frameId;
    if (id !== undefined) {
      this.frameId = undefined;
      this.handlers.onId(id);
    }
    return id;
  }

  private dispatch(): void {
    const id = this.takeId();
    if (this.data.length === 0) return;
    const lines = this.data;
    this.data = [];
    this.dataSize = 0;
    const joined = lines.join('\n');
    if (lines.length > 1 && !parses(joined) && lines.every(completeJsonObject)) {
      // Several JSON objects joined by newlines in one event: several events.
      for (const line of lines) this.handlers.onMessage({ id, data: line });
      return;
    }
    this.handlers.onMessage({ id, data: joined });
  }
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** The value after `field:`, without the one optional leading space. */
function fieldValue(line: string, from: number): string {
  return line.charCodeAt(from) === 32 ? line.slice(from + 1) : line.slice(from);
}
