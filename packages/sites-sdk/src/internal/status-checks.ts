// The stream alone cannot promise a waiter its outcome: the hosted platform
// guarantees neither broadcast to every connection nor resume after a gap
// (PROTOCOL.md §3.5). While `waitForLogin()` waits, this asks the Core for the
// request's status (§3.1b) — when the wait starts, every `intervalMs`, and
// after every stream gap — so that an unknown or expired id fails at once,
// and "approved, but the passport never reached us" becomes a typed error
// instead of a silent wait for the whole timeout.
import type { LimeError } from '@lime/wire';
import {
  LoginExpiredError,
  LoginRequestNotFoundError,
  PassportNotReceivedError,
} from '../errors.js';

/** What the Core says about one login request. */
export interface CheckedStatus {
  status: string;
}

export interface StatusCheckHost {
  /** GET the request's status; throws {@link LoginRequestNotFoundError} for an unknown id. */
  read(requestId: string): Promise<CheckedStatus>;
  /** The request's event already arrived (delivered, or being verified). */
  arrived(requestId: string): boolean;
  /** The stream is connected (a passport sent now would reach us). */
  connected(): boolean;
  /**
   * The stream resumes (it carries event ids): an event sent while we were
   * away, or slowed by a stalling network, still comes, in order.
   */
  resumable(): boolean;
  /** Reject every waiter of the request. */
  fail(requestId: string, error: LimeError): void;
}

export interface StatusCheckOptions {
  /** Between two checks of a waiting request, ms; 0: only at the start and after gaps. */
  intervalMs: number;
  /** After an approved status, how long the passport may still take to arrive, ms. */
  graceMs: number;
  /** The same on a resumable stream, where a slow passport is still on its way. */
  resumableGraceMs: number;
}

/** Statuses after which a passport was issued for the request (§3.1b). */
const APPROVED = new Set(['APPROVED', 'DELIVERED', 'COMPLETED', 'CONSUMED']);
/** Checks in flight at once after a gap (one GET each). */
const CONCURRENCY = 4;

interface Entry {
  timer: ReturnType<typeof setTimeout> | undefined;
  grace: ReturnType<typeof setTimeout> | undefined;
  running: boolean;
}

export class StatusChecks {
  private readonly entries = new Map<string, Entry>();
  private closed = false;

  constructor(
    private readonly host: StatusCheckHost,
    private readonly options: StatusCheckOptions,
  ) {}

  /** A first waiter for `requestId`: check now, then every interval. */
  watch(requestId: string): void {
    if (this.closed || this.entries.has(requestId)) return;
    this.entries.set(requestId, { timer: undefined, grace: undefined, running: false });
    void this.check(requestId);
  }

  /** No waiter left for `requestId`. */
  unwatch(requestId: string): void {
    const entry = this.entries.get(requestId);
    if (!entry) return;
    clearTimeout(entry.timer);
    clearTimeout(entry.grace);
    this.entries.delete(requestId);
  }

  /** After a stream gap: check every waiting request (a few at a time). */
  checkAll(): void {
    const ids = [...this.entries.keys()];
    let next = 0;
    const worker = async () => {
      while (next < ids.length && !this.closed) await this.check(ids[next++]!);
    };
    for (let i = 0; i < Math.min(CONCURRENCY, ids.length); i++) void worker();
  }

  close(): void {
    this.closed = true;
    for (const id of [...this.entries.keys()]) this.unwatch(id);
  }

  private schedule(requestId: string, entry: Entry): void {
    if (this.options.intervalMs <= 0 || this.closed) return;
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => void this.check(requestId), this.options.intervalMs);
    (entry.timer as { unref?: () => void }).unref?.();
  }

  private async check(requestId: string): Promise<void> {
    const entry = this.entries.get(requestId);
    if (!entry || entry.running || this.host.arrived(requestId)) return;
    entry.running = true;
    let status: string;
    try {
      status = (await this.host.read(requestId)).status.toUpperCase();
    } catch (error) {
      if (this.entries.get(requestId) !== entry) return;
      if (error instanceof LoginRequestNotFoundError) {
        this.host.fail(requestId, error);
        return;
      }
      // Network, 5xx, a Core without §3.1b: the stream may still deliver; try later.
      this.schedule(requestId, entry);
      return;
    } finally {
      entry.running = false;
    }
    if (this.entries.get(requestId) !== entry || this.host.arrived(requestId)) return;
    if (status === 'EXPIRED') {
      this.host.fail(requestId, new LoginExpiredError(requestId));
      return;
    }
    if (APPROVED.has(status) && this.host.connected() && entry.grace === undefined) {
      // The event may be a moment behind the status (or in a resume replay).
      entry.grace = setTimeout(
        () => {
          entry.grace = undefined;
          if (this.entries.get(requestId) !== entry || this.host.arrived(requestId)) return;
          if (!this.host.connected()) return; // the check after the reconnect decides
          this.host.fail(requestId, new PassportNotReceivedError(requestId, status));
        },
        this.host.resumable() ? this.options.resumableGraceMs : this.options.graceMs,
      );
      (entry.grace as { unref?: () => void }).unref?.();
    }
    this.schedule(requestId, entry);
  }
}
