import type { ServerResponse } from 'node:http';
import type { StreamErrorEvent } from '@lime/wire';
import type { CoreProfile } from '../options.js';
import type { CoreStore, StoredEvent } from '../store.js';

interface StreamConnection {
  siteId: string;
  res: ServerResponse;
  /** Highest event id written to this connection. */
  lastSentId: number;
  /** Live events that arrived while the replay was being read, else null. */
  pending: StoredEvent[] | null;
  keepalive: NodeJS.Timeout | undefined;
}

/** A slow reader holding more than this is cut; it reconnects with Last-Event-ID. */
const MAX_BUFFERED_BYTES = 1 << 20;

const KEEPALIVE_FRAME = 'data: {"type":"keepalive"}\n\n';
const RESYNC_FRAME = 'data: {"type":"resync"}\n\n';
/** Hosted profile: one `data:` line per event, no blank line after it. */
const HOSTED_KEEPALIVE_FRAME = 'data: {"type":"keepalive"}\n';

/** Still worth writing to: neither ended by us nor destroyed by the peer. */
function writable(res: ServerResponse): boolean {
  return !res.writableEnded && !res.destroyed;
}

function frame(event: StoredEvent): string {
  return `id: ${event.id}\ndata: ${event.data}\n\n`;
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
  /** Called when a retained event reached a connection by replay. */
  onReplayed: (event: StoredEvent) => void;
}

/**
 * The SSE side of PROTOCOL.md §3.5: broadcast of each site's events to all
 * of its connections, `Last-Event-ID` replay without gaps or duplicates,
 * keepalives, and clean shutdown. In the hosted profile: none of the
 * extensions (see {@link EventHub.deliverToOne}).
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

  /** Start a stream on `res` (headers already validated by the caller). */
  async open(
    siteId: string,
    res: ServerResponse,
    lastEventId: number | undefined,
    headers: Record<string, string>,
  ): Promise<void> {
    res.writeHead(200, {
      ...headers,
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    const hosted = this.options.profile === 'hosted';
    // Hosted: nothing is written until the first event or keepalive, so the
    // headers must go out on their own.
    if (hosted) res.flushHeaders();
    else res.write(`retry: ${this.options.retryMs}\n\n`);
    const conn: StreamConnection = {
      siteId,
      res,
      lastSentId: 0,
      pending: hosted ? null : [],
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
      if (writable(res)) res.write(keepaliveFrame);
    }, this.options.keepaliveMs);
    conn.keepalive.unref?.();
    if (hosted) return;

    if (lastEventId === undefined) {
      await this.announcePosition(conn);
      return;
    }
    // Registered first, read second: live events meanwhile wait in `pending`,
    // so nothing falls between the replay and the live tail.
    conn.lastSentId = lastEventId;
    let replay: Awaited<ReturnType<CoreStore['eventsAfter']>>;
    try {
      replay = await this.store.eventsAfter(siteId, lastEventId);
    } catch {
      this.fail(conn, { type: 'error', code: 'INTERNAL_ERROR', message: 'event replay failed' });
      return;
    }
    if (!writable(res)) return;
    if (replay.truncated) {
      res.write(RESYNC_FRAME);
      // After a resync the client takes ids as they come from here on.
      conn.lastSentId = 0;
    }
    for (const event of replay.events) this.write(conn, event, true);
    const pending = conn.pending ?? [];
    conn.pending = null;
    for (const event of pending) this.write(conn, event, false);
  }

  /**
   * A fresh stream (no `Last-Event-ID`) gets a resume position at once: an
   * `id:` on a keepalive frame (eventsource-parser ignores id-only frames).
   * Without it a client cut before its first event would reconnect with no
   * `Last-Event-ID` and lose every event published while it was away.
   * Events published since registration wait in `pending`; the position
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
    const pending = conn.pending ?? [];
    conn.pending = null;
    const position = pending[0] ? Math.min(latest, pending[0].id - 1) : latest;
    conn.lastSentId = position;
    conn.res.write(`id: ${position}\n${KEEPALIVE_FRAME}`);
    for (const event of pending) this.write(conn, event, false);
  }

  /** Broadcast to every connection of the event's site; returns how many got it. */
  publish(event: StoredEvent): number {
    const set = this.bySite.get(event.siteId);
    if (!set) return 0;
    let delivered = 0;
    for (const conn of set) {
      if (conn.pending) {
        conn.pending.push(event);
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

  private write(conn: StreamConnection, event: StoredEvent, replayed: boolean): boolean {
    if (event.id <= conn.lastSentId || !writable(conn.res)) return false;
    conn.lastSentId = event.id;
    conn.res.write(frame(event));
    if (replayed) this.options.onReplayed(event);
    if (conn.res.writableLength > MAX_BUFFERED_BYTES) conn.res.destroy();
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
    const set = this.bySite.get(conn.siteId);
    if (set?.delete(conn) && set.size === 0) {
      this.bySite.delete(conn.siteId);
      this.turns.delete(conn.siteId);
    }
  }
}
