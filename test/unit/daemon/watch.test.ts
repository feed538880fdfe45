import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SourceWatcher } from '../../../src/daemon/watch.js';
import { captureLogs } from '../../support/log-capture.js';

describe('SourceWatcher (fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function watcher(revisions: string[], known: Set<string>) {
    const changes: Array<[string, string | undefined]> = [];
    let calls = 0;
    const logs = captureLogs();
    const w = new SourceWatcher({
      revision: () => Promise.resolve(revisions[Math.min(calls++, revisions.length - 1)] ?? ''),
      isKnown: (r) => known.has(r),
      onChange: (r, previous) => changes.push([r, previous]),
      intervalMs: 10_000,
      log: logs.log,
    });
    return { w, changes, calls: () => calls };
  }

  it('polls once per interval, and only after start', async () => {
    const { w, calls } = watcher(['a'], new Set(['a']));
    await vi.advanceTimersByTimeAsync(30_000);
    expect(calls()).toBe(0);
    w.start();
    await vi.advanceTimersByTimeAsync(9_999);
    expect(calls()).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls()).toBe(1);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(calls()).toBe(3);
    await w.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls()).toBe(3);
  });

  it('reports each new revision once, and none the controller already knows', async () => {
    const known = new Set(['a']);
    const { w, changes } = watcher(['a', 'a', 'b', 'b', 'b', 'c', 'a'], known);
    w.start();
    await vi.advanceTimersByTimeAsync(70_000);
    expect(changes).toEqual([
      ['b', 'a'],
      ['c', 'b'],
    ]);
    await w.stop();
  });

  it('does not overlap polls when listing is slower than the interval', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const logs = captureLogs();
    const w = new SourceWatcher({
      revision: async () => {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 25_000));
        inFlight -= 1;
        return 'a';
      },
      isKnown: () => true,
      onChange: () => undefined,
      intervalMs: 10_000,
      log: logs.log,
    });
    w.start();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(maxInFlight).toBe(1);
    const stopping = w.stop();
    await vi.advanceTimersByTimeAsync(25_000);
    await stopping;
  });
});
