// Unit tests of src/internal/login-waiters.ts with a scripted host: who gets
// a passport, what late and duplicate waiters see, timeouts and closing.
import { InvalidPassportError, LoginExpiredError, type Passport } from 'lime-sites-sdk';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LoginWaiters, type LoginWaitersHost } from '../src/internal/login-waiters.js';
import type { LoginOutcome } from '../src/internal/outcome-buffer.js';

function passport(expiresInMs = 60_000): Passport {
  return {
    requestId: 'lr_1',
    expiresAt: new Date(Date.now() + expiresInMs),
    jti: 'jti_1',
  } as Passport;
}

function setup(overrides: Partial<LoginWaitersHost> = {}) {
  const outcomes = new Map<string, LoginOutcome>();
  const claimed: Passport[] = [];
  const host: LoginWaitersHost = {
    outcome: (id) => outcomes.get(id),
    stopError: () => undefined,
    isClosed: () => false,
    startStream: vi.fn(),
    claim: async (p) => {
      if (claimed.includes(p)) throw new InvalidPassportError('replayed', 'already claimed');
      claimed.push(p);
      return p;
    },
    clockToleranceSeconds: 0,
    status: {
      read: () => new Promise(() => {}),
      arrived: () => false,
      connected: () => true,
      resumable: () => false,
    },
    ...overrides,
  };
  const waiters = new LoginWaiters(host, {
    intervalMs: 0,
    graceMs: 5_000,
    resumableGraceMs: 30_000,
  });
  return { waiters, outcomes, claimed, host };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('LoginWaiters', () => {
  it('hands an approved passport to the first waiter only, claimed', async () => {
    const { waiters, claimed, host } = setup();
    const first = waiters.wait('lr_1', 10_000, undefined);
    const second = waiters.wait('lr_1', 10_000, undefined);
    expect(host.startStream).toHaveBeenCalled();
    const p = passport();
    waiters.settle('lr_1', { kind: 'approved', passport: p, taken: false });
    await expect(first).resolves.toBe(p);
    await expect(second).rejects.toMatchObject({ reason: 'replayed' });
    expect(claimed).toEqual([p]);
    waiters.close();
  });

  it('settles a late waiter from a known outcome, and refuses a taken or expired one', async () => {
    const { waiters, outcomes } = setup();
    outcomes.set('lr_x', { kind: 'expired' });
    await expect(waiters.wait('lr_x', 1_000, undefined)).rejects.toBeInstanceOf(LoginExpiredError);
    outcomes.set('lr_t', { kind: 'approved', passport: passport(), taken: true });
    await expect(waiters.wait('lr_t', 1_000, undefined)).rejects.toMatchObject({
      reason: 'replayed',
    });
    outcomes.set('lr_e', { kind: 'approved', passport: passport(-1_000), taken: false });
    await expect(waiters.wait('lr_e', 1_000, undefined)).rejects.toMatchObject({
      reason: 'expired',
    });
    waiters.close();
  });

  it('a failed claim puts the passport back for a later waiter', async () => {
    let fail = true;
    const { waiters } = setup({
      claim: async (p) => {
        if (fail) throw new InvalidPassportError('replay_check_failed', 'store down');
        return p;
      },
    });
    const outcome: LoginOutcome = { kind: 'approved', passport: passport(), taken: false };
    const first = waiters.wait('lr_1', 10_000, undefined);
    waiters.settle('lr_1', outcome);
    await expect(first).rejects.toMatchObject({ reason: 'replay_check_failed' });
    expect(outcome.taken).toBe(false);
    fail = false;
    const { waiters: again, outcomes } = setup({ claim: async (p) => p });
    outcomes.set('lr_1', outcome);
    await expect(again.wait('lr_1', 1_000, undefined)).resolves.toBe(outcome.passport);
    waiters.close();
    again.close();
  });

  it('times out, aborts, and rejects everyone on rejectAll', async () => {
    vi.useFakeTimers();
    const { waiters } = setup();
    const slow = waiters.wait('lr_1', 1_000, undefined);
    const slowSeen = expect(slow).rejects.toMatchObject({ code: 'TIMEOUT' });
    await vi.advanceTimersByTimeAsync(1_001);
    await slowSeen;
    const controller = new AbortController();
    const aborted = waiters.wait('lr_2', 10_000, controller.signal);
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'ABORTED' });
    const closing = waiters.wait('lr_3', 10_000, undefined);
    waiters.rejectAll(new Error('closed'));
    await expect(closing).rejects.toThrow('closed');
    await expect(waiters.wait('lr_4', 0, undefined)).rejects.toThrow(TypeError);
    waiters.close();
  });

  it('refuses at once when the stream stopped or the site closed', async () => {
    const stop = new InvalidPassportError('malformed', 'stopped');
    await expect(
      setup({ stopError: () => stop as never }).waiters.wait('lr_1', 1_000, undefined),
    ).rejects.toBe(stop);
    await expect(
      setup({ isClosed: () => true }).waiters.wait('lr_1', 1_000, undefined),
    ).rejects.toMatchObject({ name: 'StreamClosedError' });
  });
});
