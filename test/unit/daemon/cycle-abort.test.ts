/**
 * A hung AWS call must not hold the daemon: at the cycle timeout the calls of the cycle are
 * aborted (through the call scope's signal, which every AWS client obeys), the cycle ends, and
 * the next one starts on time. A shutdown lets calls in flight finish, up to its own timeout.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { DesiredStateIssue } from '../../../desired-state/errors.js';
import { AwsCallAbortedError, currentCallSignal } from '../../../src/aws/call-counter.js';
import type { CycleSummary, Trigger } from '../../../src/controller.js';
import { Daemon, type DaemonConfig, type ReconcileTarget } from '../../../src/daemon/daemon.js';
import { captureLogs } from '../../support/log-capture.js';

interface Run {
  trigger: Trigger;
  startedAt: number;
  endedAt?: number;
  callSignal?: AbortSignal;
  stopSignal?: AbortSignal;
  callError?: Error;
}

/** Stands in for the Controller; a cycle's "AWS call" hangs until its call scope is aborted (as a socket that never answers). */
class HangingTarget implements ReconcileTarget {
  readonly runs: Run[] = [];
  enforcedRevision: string | undefined;
  rejected: { revision: string; issues: DesiredStateIssue[] } | undefined;
  /** How many of the next cycles make a call that hangs. */
  hangingCycles = 1;
  /** A call that ends by itself after this long (when not hanging). */
  callMs = 0;
  readonly source = { description: 'fake', revision: (): Promise<string> => Promise.resolve('sha256:r1') };

  async runCycle(input: { mode: 'plan' | 'apply'; trigger: Trigger; signal?: AbortSignal; cycleId?: string }): Promise<CycleSummary> {
    const run: Run = { trigger: input.trigger, startedAt: Date.now(), callSignal: currentCallSignal(), stopSignal: input.signal };
    this.runs.push(run);
    const hang = this.hangingCycles > 0;
    this.hangingCycles -= 1;
    try {
      await this.awsCall(hang);
    } catch (error) {
      run.callError = error as Error;
    }
    run.endedAt = Date.now();
    this.enforcedRevision = 'sha256:r1';
    return {
      cycle: input.cycleId ?? 'x',
      trigger: input.trigger,
      mode: input.mode,
      revision: 'sha256:r1',
      outcome: input.signal?.aborted ? 'aborted' : run.callError ? 'error' : 'converged',
      startedAt: new Date(run.startedAt).toISOString(),
      durationMs: run.endedAt - run.startedAt,
      changes: 0,
      drifts: 0,
      errors: run.callError ? 1 : 0,
      pending: 0,
      awsCalls: 1,
      awsReads: 1,
      awsWrites: 0,
      callsByOperation: {},
      resources: [],
      warnings: [],
    };
  }

  /** What an AWS client does with the call scope's signal (src/aws/clients.ts): rejects when it fires. */
  private awsCall(hang: boolean): Promise<void> {
    const signal = currentCallSignal();
    return new Promise<void>((resolve, reject) => {
      const fail = (): void => reject(new AwsCallAbortedError('ECS DescribeServices', signal?.reason));
      if (signal?.aborted) return fail();
      signal?.addEventListener('abort', fail, { once: true });
      if (!hang) setTimeout(resolve, this.callMs);
    });
  }
}

const until = async (check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> => {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

const running: Daemon[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.stop('test over')));
});

async function start(target: HangingTarget, config: Partial<DaemonConfig>) {
  const logs = captureLogs();
  const daemon = new Daemon(
    target,
    { intervalMs: 60_000, watchIntervalMs: 60_000, cycleTimeoutMs: 60_000, shutdownTimeoutMs: 2_000, listen: { host: '127.0.0.1', port: 0 }, jitter: 0, ...config },
    logs.log,
  );
  running.push(daemon);
  await daemon.start();
  return { daemon, logs };
}

describe('a hung AWS call and the cycle timeout', () => {
  it('aborts the calls of a cycle at its timeout; the cycle ends then, and the next one starts one interval later', async () => {
    const target = new HangingTarget();
    const { daemon, logs } = await start(target, { cycleTimeoutMs: 150, intervalMs: 300 });
    await until(() => target.runs.length >= 2 && target.runs[1]?.endedAt !== undefined, 'the cycle after the aborted one', 3_000);
    const [aborted, next] = target.runs;
    expect(aborted?.callSignal?.aborted).toBe(true);
    expect(aborted?.stopSignal?.aborted).toBe(true);
    expect(aborted?.callError).toBeInstanceOf(AwsCallAbortedError);
    expect(aborted?.callError?.message).toBe('ECS DescribeServices aborted: the cycle ran longer than its timeout of 150 ms');
    const abortedMs = (aborted?.endedAt ?? 0) - (aborted?.startedAt ?? 0);
    expect(abortedMs).toBeGreaterThanOrEqual(140);
    expect(abortedMs).toBeLessThan(400);
    expect(logs.ofEvent('cycle-timeout')).toHaveLength(1);
    expect(daemon.status().cycles.find((c) => c.trigger === 'startup')).toMatchObject({ aborted: 'timeout' });

    // On time: one interval (no jitter here) after the aborted cycle ended.
    expect(next?.trigger).toBe('interval');
    const gap = (next?.startedAt ?? 0) - (aborted?.endedAt ?? 0);
    expect(gap).toBeGreaterThanOrEqual(290);
    expect(gap).toBeLessThan(600);
    // Its own calls run under a fresh signal.
    expect(next?.callSignal).not.toBe(aborted?.callSignal);
    expect(next?.callSignal?.aborted).toBe(false);
    expect(next?.callError).toBeUndefined();
  });

  it('lets calls in flight finish on a shutdown, and aborts them only once the shutdown timeout passes', async () => {
    const target = new HangingTarget();
    const { daemon, logs } = await start(target, { shutdownTimeoutMs: 300 });
    await until(() => target.runs.length === 1, 'the startup cycle');
    const stopping = daemon.stop('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 150));
    const run = target.runs[0];
    expect(run?.stopSignal?.aborted).toBe(true);
    expect(run?.callSignal?.aborted).toBe(false);
    await stopping;
    await until(() => run?.endedAt !== undefined, 'the cycle to end once its calls are aborted', 1_000);
    expect(run?.callError?.message).toMatch(/^ECS DescribeServices aborted: converge is shutting down \(SIGTERM; calls still in flight after 300 ms\)/);
    expect(logs.ofEvent('shutdown')[0]).toMatchObject({ drained: false });
  });

  it('a shutdown whose calls finish within its timeout does not abort them', async () => {
    const target = new HangingTarget();
    target.hangingCycles = 0;
    target.callMs = 200;
    const { daemon, logs } = await start(target, { shutdownTimeoutMs: 2_000 });
    await until(() => target.runs.length === 1, 'the startup cycle');
    await daemon.stop('SIGTERM');
    const run = target.runs[0];
    expect(run?.callError).toBeUndefined();
    expect(run?.callSignal?.aborted).toBe(false);
    expect(logs.ofEvent('shutdown')[0]).toMatchObject({ drained: true });
  });
});
