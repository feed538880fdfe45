import { describe, expect, it } from 'vitest';
import type { CycleSummary, Trigger } from '../../../src/controller.js';
import { CycleScheduler, SchedulerStoppedError, type CycleRun } from '../../../src/daemon/scheduler.js';

function summaryOf(run: CycleRun): CycleSummary {
  return {
    cycle: run.cycle,
    trigger: run.trigger,
    mode: 'apply',
    outcome: 'converged',
    startedAt: new Date(0).toISOString(),
    durationMs: 1,
    changes: 0,
    drifts: 0,
    errors: 0,
    pending: 0,
    awsCalls: 0,
    awsReads: 0,
    awsWrites: 0,
    callsByOperation: {},
    resources: [],
    warnings: [],
  };
}

/** A scheduler whose cycles end only when the test says so. */
function harness() {
  const started: CycleRun[] = [];
  const finishers: Array<() => void> = [];
  let ids = 0;
  const scheduler = new CycleScheduler({
    newCycleId: () => `c${++ids}`,
    run: (run) =>
      new Promise<CycleSummary>((resolve) => {
        started.push(run);
        finishers.push(() => resolve(summaryOf(run)));
      }),
  });
  const finishCurrent = async (): Promise<void> => {
    finishers.shift()?.();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { scheduler, started, finishCurrent };
}

describe('CycleScheduler', () => {
  it('starts a cycle at once when idle', async () => {
    const { scheduler, started, finishCurrent } = harness();
    const scheduled = scheduler.request('startup');
    expect(scheduled).toMatchObject({ cycle: 'c1', disposition: 'running' });
    expect(started).toEqual([{ cycle: 'c1', trigger: 'startup' }]);
    await finishCurrent();
    await expect(scheduled.done).resolves.toMatchObject({ cycle: 'c1', trigger: 'startup' });
    expect(scheduler.running).toBeUndefined();
  });

  it('collapses every trigger that arrives during a cycle into exactly one more', async () => {
    const { scheduler, started, finishCurrent } = harness();
    scheduler.request('interval');
    const triggers: Trigger[] = ['interval', 'source-change', 'manual', 'interval', 'manual', 'source-change'];
    const queued = triggers.map((t) => scheduler.request(t));
    expect(new Set(queued.map((q) => q.cycle))).toEqual(new Set(['c2']));
    expect(queued.map((q) => q.disposition)).toEqual(['queued', 'coalesced', 'coalesced', 'coalesced', 'coalesced', 'coalesced']);
    expect(started).toHaveLength(1);
    await finishCurrent();
    // The collapsed cycle carries the most telling trigger: manual.
    expect(started).toEqual([
      { cycle: 'c1', trigger: 'interval' },
      { cycle: 'c2', trigger: 'manual' },
    ]);
    await finishCurrent();
    expect(started).toHaveLength(2);
    for (const q of queued) await expect(q.done).resolves.toMatchObject({ cycle: 'c2' });
    expect(scheduler.running).toBeUndefined();
    expect(scheduler.pending).toBeUndefined();
  });

  it('runs cycles strictly one at a time', async () => {
    let concurrent = 0;
    let maxConcurrent = 0;
    const scheduler = new CycleScheduler({
      run: async (run) => {
        concurrent += 1;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        await new Promise((resolve) => setTimeout(resolve, 5));
        concurrent -= 1;
        return summaryOf(run);
      },
    });
    const all: Promise<CycleSummary>[] = [];
    for (let i = 0; i < 5; i += 1) {
      all.push(scheduler.request('manual').done);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await Promise.all(all);
    expect(maxConcurrent).toBe(1);
  });

  it('a failing cycle rejects its waiters and the next one still runs', async () => {
    let calls = 0;
    const scheduler = new CycleScheduler({
      run: async (run) => {
        calls += 1;
        await Promise.resolve();
        if (calls === 1) throw new Error('boom');
        return summaryOf(run);
      },
    });
    const first = scheduler.request('startup');
    const second = scheduler.request('manual');
    await expect(first.done).rejects.toThrow('boom');
    await expect(second.done).resolves.toMatchObject({ trigger: 'manual' });
  });

  it('stop drops the queued cycle, waits for the running one and refuses new triggers', async () => {
    const { scheduler, started, finishCurrent } = harness();
    const running = scheduler.request('interval');
    const queued = scheduler.request('manual');
    const stopping = scheduler.stop();
    await expect(queued.done).rejects.toBeInstanceOf(SchedulerStoppedError);
    let stopped = false;
    void stopping.then(() => (stopped = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    await finishCurrent();
    await stopping;
    await expect(running.done).resolves.toMatchObject({ cycle: 'c1' });
    await expect(scheduler.request('manual').done).rejects.toBeInstanceOf(SchedulerStoppedError);
    expect(started).toHaveLength(1);
  });
});
