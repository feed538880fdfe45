import { describe, expect, it } from 'vitest';
import { BackoffTracker } from '../../../src/engine/backoff.js';

describe('BackoffTracker', () => {
  it('backs off exponentially up to the cap, per resource and desired hash', () => {
    let now = 0;
    const backoff = new BackoffTracker({ baseMs: 1000, maxMs: 4000, now: () => now });
    expect(backoff.blocked('r', 'h')).toBeUndefined();
    backoff.failed('r', 'h', 'boom');
    expect(backoff.blocked('r', 'h')?.failures).toBe(1);
    now = 1000;
    expect(backoff.blocked('r', 'h')).toBeUndefined();
    backoff.failed('r', 'h', 'boom');
    now = 2999;
    expect(backoff.blocked('r', 'h')).toBeDefined();
    now = 3000;
    expect(backoff.blocked('r', 'h')).toBeUndefined();
    backoff.failed('r', 'h', 'boom');
    backoff.failed('r', 'h', 'boom');
    expect(backoff.blocked('r', 'h')?.until?.getTime()).toBe(3000 + 4000);
    expect(backoff.blocked('other', 'h')).toBeUndefined();
  });

  it('forgets the failures when the desired spec changes or the change succeeds', () => {
    const backoff = new BackoffTracker({ baseMs: 1000, now: () => 0 });
    backoff.failed('r', 'h1', 'boom');
    expect(backoff.blocked('r', 'h2')).toBeUndefined();
    backoff.failed('r', 'h2', 'boom');
    backoff.succeeded('r');
    expect(backoff.blocked('r', 'h2')).toBeUndefined();
  });
});
