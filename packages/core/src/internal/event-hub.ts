import type { ServerResponse } from 'node:http';
import { HEADERS, type StreamErrorEvent } from '@lime/wire';
import type { CoreProfile } from '../options.js';
import type { CoreStore, StoredEvent } from '../store.js';
import { formatEventId, type ResumePosition } from './event-ids.js';

interface StreamConnection {
  siteId: string;
  res: ServerResponse;
  /** Highest event id handed to the socket on this connection. */
  lastSentId: number;
  /**
   * Events not yet handed to the socket, in order: first the replay, then
   * live events that arrived while the replay was read or written, or while
   * the socket was full. Only references to events of the site's log.
   */
  queue: StoredEvent[];
  /** Index of the next event of `queue` to write. */
  head: number;
  /** `queue[i]` with `i < replayEnd` came from the replay (not live). */
  replayEnd: number;
  /** Bytes of the live (not replayed) frames waiting in `queue`. */
  liveQueuedBytes: number;
  /** False until the replay was read (or the position announced): live events only queue. */
  ready: boolean;
  /** Waiting for the socket's 'drain'. */
  draining: boolean;
  stall: NodeJS.Timeout | undefined;
  keepalive: NodeJS.Timeout | undefined;
}

/**
 * A live reader holding more than this (socket buffer plus live events
 * queued behind it) is cut; it reconnects with Last-Event-ID. A replay is
 * never counted: it is read from the log as the socket drains.
 */
const MAX_BUFFERED_BYTES = 1 << 20;

/**
 * A connection whose socket has not drained for this long, with events
 * waiting, is stuck (the peer stopped reading): it is cut. A slow reader
 * drains long before that, replay or not.
 */
export const STREAM_STALL_MS = 60_000;

const KEEPALIVE_FRAME = 'data: {"type":"keepalive"}\n\n';
const RESYNC_FRAME = 'data: {"type":"resync"}\n\n';
/** Hosted profile: one `data:` line per event, no blank line after it. */
const HOSTED_KEEPALIVE_FRAME = 'data: {"type":"keepalive"}\n';

/** Still worth writing to: neither ended by us nor destroyed by the peer. */
function writable(res: ServerResponse): boolean {
  return !res.writableEnded && !res.destroyed;
}

export interface EventHubOptions {
  /**
   * `'core'`: broadcast, `id:`/`retry:`, replay, standard frames.
   * `'hosted'`: one connection per event (round-robin), per-line frames,
   * no ids, no `retry:`, no replay.
   */
  profile: CoreProfile;
  retryMs: number;
  keepaliveMs: number;
  /** Epoch of the event log: the prefix of every `id:` (see event-ids.ts). */
  epoch: string;
  /**
   * Called when an event reached a connection later than its publish: by
   * replay, or from the queue behind a full socket (publish did not count it).
   */
  onReplayed: (event: StoredEvent) => void;
}

/**
 * The SSE side of PROTOCOL.md §3.5: broadcast of each site's events to all
 * of its connections, `Last-Event-ID` replay without gaps or duplicates,
 * keepalives, and clean shutdown. In the hosted profile: none of the
 * extensions (see {@link EventHub.deliverToOne}).
 *
 * Writes follow the socket's backpressure: an event is written only while
 * `write()` returns true; the rest waits (as references into the log) for
 * 'drain'. So a replay of any length goes out at the reader's pace, and
 * live events published meanwhile follow it in order.
 */
export class EventHub {
  private readonly bySite = new Map<string, Set<StreamConnection>>();
  /** Hosted profile: per site, how many events were handed out (round-robin cursor). */
  private readonly turns = new Map<string, number>();

  constructor(
    private readonly store: CoreStore,
    private readonly options: EventHubOptions,
  ) {}

  /** Number of open connections of a site. */
  connections(siteId: string): number {
    return this.bySite.get(siteId)?.size ?? 0;
  }

  private frame(event: StoredEvent): string {
    return `id: ${formatEventId(this.options.epoch, event.id)}\ndata: ${event.data}\n\n`;
  }

  /**
   * Start a stream on `res` (headers already validated by the caller).
   * `resume`: the parsed `Last-Event-ID`, or undefined for a fresh stream.
   */
  async open(
    siteId: string,
    res: ServerResponse,
    resume: ResumePosition | undefined,
    headers: Record<string, string>,
  ): Promise<void> {
    const hosted = this.options.profile === 'hosted';
    // A fresh stream states its resume position in the head too, before any
    // byte of the body: a client cut before the first id: line still resumes
    // (from here, or earlier: a replay it de-duplicates, never a gap).
    let position: Record<string, string> = {};
    if (!hosted && resume === undefined) {
      const latest = await this.store.lastEventId(siteId).catch(() => undefined);
      if (latest !== undefined) {
        position = { [HEADERS.resumePosition]: formatEventId(this.options.epoch, latest) };
      }
    }
    res.writeHead(200, {
      ...headers,
      ...position,
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    // Hosted: nothing is written until the first event or keepalive, so the
    // headers must go out on their own.
    if (hosted) res.flushHeaders();
    else res.write(`retry: ${this.options.retryMs}\n\n`);
    const conn: StreamConnection = {
      siteId,
      res,
      lastSentId: 0,
      queue: [],
      head: 0,
      replayEnd: 0,
      liveQueuedBytes: 0,
      ready: hosted,
      draining: false,
      stall: undefined,
      keepalive: undefined,
    };
    let set = this.bySite.get(siteId);
    if (!set) {
      set = new Set();
      this.bySite.set(siteId, set);
    }
    set.add(conn);
    res.on('close', () => this.drop(conn));
    // A peer reset must never become an unhandled 'error' event.
    res.on('error', () => this.drop(conn));
    const keepaliveFrame = hosted ? HOSTED_KEEPALIVE_FRAME : KEEPALIVE_FRAME;
    conn.keepalive = setInterval(() => {
      // While events wait for 'drain', the stream is anything but idle.
      if (writable(res) && !conn.draining) res.write(keepaliveFrame);
    }, this.options.keepaliveMs);
    conn.keepalive.unref?.();
    if (hosted) return;

    if (resume === undefined) {
      await this.announcePosition(conn);
      return;
    }
    // Registered first, read second: live events meanwhile wait in `queue`,
    // so nothing falls between the replay and the live tail.
    const foreign = resume.kind === 'foreign';
    const after = foreign ? 0 : resume.id;
    let replay: Awaited<ReturnType<CoreStore['eventsAfter']>>;
    try {
      replay = await this.store.eventsAfter(siteId, after);
    } catch {
      this.fail(conn, { type: 'error', code: 'INTERNAL_ERROR', message: 'event replay failed' });
      return;
    }
    if (!writable(res)) return;
    if (foreign || replay.truncated) {
      // Another log's id, or one retention already dropped events after:
      // the client takes ids as they come from here on.
      res.write(RESYNC_FRAME);
      conn.lastSentId = 0;
    } else {
      conn.lastSentId = after;
    }
    const live = conn.queue;
    conn.queue = live.length === 0 ? replay.events : replay.events.concat(live);
    conn.replayEnd = replay.events.length;
    conn.ready = true;
    this.pump(conn);
  }

  /**
   * A fresh stream (no `Last-Event-ID`) gets a resume position at once: an
   * `id:` on a keepalive frame (eventsource-parser ignores id-only frames).
   * Without it a client cut before its first event would reconnect with no
   * `Last-Event-ID` and lose every event published while it was away.
   * Events published since registration wait in `queue`; the position
   * announced is just before the first of them, so none is skipped.
   */
  private async announcePosition(conn: StreamConnection): Promise<void> {
    let latest: number;
    try {
      latest = await this.store.lastEventId(conn.siteId);
    } catch {
      this.fail(conn, { type: 'error', code: 'INTERNAL_ERROR', message: 'event log unavailable' });
      return;
    }
    if (!writable(conn.res)) return;
    const first = conn.queue[0];
    const position = first ? Math.min(latest, first.id - 1) : latest;
    conn.lastSentId = position;
    conn.res.write(`id: ${formatEventId(this.options.epoch, position)}\n${KEEPALIVE_FRAME}`);
    conn.ready = true;
    this.pump(conn);
  }

  /** Broadcast to every connection of the event's site; returns how many got it. */
  publish(event: StoredEvent): number {
    const set = this.bySite.get(event.siteId);
    if (!set) return 0;
    let delivered = 0;
    for (const conn of set) {
      if (!writable(conn.res)) continue;
      if (!conn.ready || conn.draining || conn.head < conn.queue.length) {
        // Behind a replay or a full socket: wait in line, in order.
        conn.queue.push(event);
        conn.liveQueuedBytes += event.data.length + 24;
        this.cutIfOverflowing(conn);
        continue;
      }
      if (this.write(conn, event, false)) delivered++;
    }
    return delivered;
  }

  /**
   * Hosted profile: give the event to ONE open connection of the site, in
   * turn (round-robin), as a single `data:` line without a blank line after
   * it. Returns 1 when some connection took it, else 0 (the event is gone:
   * there is no log to replay from).
   */
  deliverToOne(siteId: string, data: string): number {
    const set = this.bySite.get(siteId);
    if (!set) return 0;
    const conns = [...set];
    const turn = this.turns.get(siteId) ?? 0;
    for (let i = 0; i < conns.length; i++) {
      const conn = conns[(turn + i) % conns.length]!;
      if (!writable(conn.res)) continue;
      this.turns.set(siteId, turn + i + 1);
      conn.res.write(`data: ${data}\n`);
      if (conn.res.writableLength > MAX_BUFFERED_BYTES) conn.res.destroy();
      return 1;
    }
    return 0;
  }

  /**
   * Write queued events while the socket takes them; on a full socket, wait
   * for 'drain' and continue from there.
   */
  private pump(conn: StreamConnection): void {
    const { res } = conn;
    while (conn.head < conn.queue.length) {
      if (!writable(res)) return;
      const index = conn.head++;
      const event = conn.queue[index]!;
      if (index >= conn.replayEnd) conn.liveQueuedBytes -= event.data.length + 24;
      // Queued events were not counted as delivered by publish: report them here.
      if (!this.write(conn, event, true)) continue;
      if (conn.draining) return;
    }
    conn.queue = [];
    conn.head = 0;
    conn.replayEnd = 0;
    conn.liveQueuedBytes = 0;
  }

  private awaitDrain(conn: StreamConnection): void {
    if (conn.draining) return;
    conn.draining = true;
    conn.stall = setTimeout(() => {
      // No byte taken for STREAM_STALL_MS: the peer is gone or stopped reading.
      conn.res.destroy();
    }, STREAM_STALL_MS);
    conn.stall.unref?.();
    conn.res.once('drain', () => {
      conn.draining = false;
      if (conn.stall) clearTimeout(conn.stall);
      conn.stall = undefined;
      this.pump(conn);
    });
  }

  /**
   * The buffer cap of a live reader that cannot keep up: what waits behind
   * its socket, counting live events only (never the replay still being
   * written from the log).
   */
  private cutIfOverflowing(conn: StreamConnection): void {
    if (conn.head < conn.replayEnd) return;
    if (conn.liveQueuedBytes + conn.res.writableLength > MAX_BUFFERED_BYTES) conn.res.destroy();
  }

  /** `late`: written after its publish (replay or queue), reported to `onReplayed`. */
  private write(conn: StreamConnection, event: StoredEvent, late: boolean): boolean {
    if (event.id <= conn.lastSentId || !writable(conn.res)) return false;
    conn.lastSentId = event.id;
    const full = !conn.res.write(this.frame(event));
    if (late) this.options.onReplayed(event);
    if (full) this.awaitDrain(conn);
    return true;
  }

  /** Send a stream-level `error` event to every connection of a site and close them. */
  closeSite(siteId: string, error: StreamErrorEvent): void {
    const set = this.bySite.get(siteId);
    if (!set) return;
    for (const conn of [...set]) this.fail(conn, error);
  }

  private fail(conn: StreamConnection, error: StreamErrorEvent): void {
    const end = this.options.profile === 'hosted' ? '\n' : '\n\n';
    if (writable(conn.res)) conn.res.end(`data: ${JSON.stringify(error)}${end}`);
    this.drop(conn);
  }

  /** End every stream cleanly (the clients reconnect elsewhere or later). */
  closeAll(): void {
    for (const set of this.bySite.values()) {
      for (const conn of [...set]) {
        if (writable(conn.res)) conn.res.end();
        this.drop(conn);
      }
    }
  }

  private drop(conn: StreamConnection): void {
    if (conn.keepalive) clearInterval(conn.keepalive);
    conn.keepalive = undefined;
    if (conn.stall) clearTimeout(conn.stall);
    conn.stall = undefined;
    conn.queue = [];
    conn.head = 0;
    conn.replayEnd = 0;
    const set = this.bySite.get(conn.siteId);
    if (set?.delete(conn) && set.size === 0) {
      this.bySite.delete(conn.siteId);
      this.turns.delete(conn.siteId);
    }
  }
}
