import { describe, expect, it } from 'vitest';
import { WAIT_BOUNDS, waitSettingsFromEnv, waitForDeployments } from '../../../src/cli/wait.js';
import type { CycleSummary } from '../../../src/controller.js';
import { DurationError } from '../../../src/util/duration.js';

describe('CONVERGE_WAIT_TIMEOUT_MS and CONVERGE_WAIT_POLL_MS', () => {
  it('default to one hour and 10 s', () => {
    expect(waitSettingsFromEnv({})).toEqual({ timeoutMs: 3_600_000, pollMs: 10_000 });
    expect(waitSettingsFromEnv({ CONVERGE_WAIT_TIMEOUT_MS: '', CONVERGE_WAIT_POLL_MS: ' ' })).toEqual({ timeoutMs: 3_600_000, pollMs: 10_000 });
  });

  it('take milliseconds, or a duration with its unit, within their bounds', () => {
    expect(waitSettingsFromEnv({ CONVERGE_WAIT_TIMEOUT_MS: '120000', CONVERGE_WAIT_POLL_MS: '500' })).toEqual({ timeoutMs: 120_000, pollMs: 500 });
    expect(waitSettingsFromEnv({ CONVERGE_WAIT_TIMEOUT_MS: '2h', CONVERGE_WAIT_POLL_MS: '30s' })).toEqual({ timeoutMs: 7_200_000, pollMs: 30_000 });
    expect(waitSettingsFromEnv({ CONVERGE_WAIT_TIMEOUT_MS: String(WAIT_BOUNDS.timeout.min), CONVERGE_WAIT_POLL_MS: String(WAIT_BOUNDS.poll.max) })).toEqual({
      timeoutMs: 1_000,
      pollMs: 600_000,
    });
    expect(waitSettingsFromEnv({ CONVERGE_WAIT_TIMEOUT_MS: '24h', CONVERGE_WAIT_POLL_MS: '500ms' })).toEqual({ timeoutMs: 86_400_000, pollMs: 500 });
  });

  it.each([
    ['CONVERGE_WAIT_TIMEOUT_MS', '999', 'CONVERGE_WAIT_TIMEOUT_MS: "999" is shorter than the minimum of 1s (allowed: 1s to 24h)'],
    ['CONVERGE_WAIT_TIMEOUT_MS', '86400001', 'CONVERGE_WAIT_TIMEOUT_MS: "86400001" is longer than the maximum of 24h (allowed: 1s to 24h)'],
    ['CONVERGE_WAIT_TIMEOUT_MS', '3600000000', 'CONVERGE_WAIT_TIMEOUT_MS: "3600000000" is longer than the maximum of 24h'],
    ['CONVERGE_WAIT_TIMEOUT_MS', '-1', 'CONVERGE_WAIT_TIMEOUT_MS: "-1" is not a whole, non-negative number of milliseconds'],
    ['CONVERGE_WAIT_TIMEOUT_MS', 'an hour', 'CONVERGE_WAIT_TIMEOUT_MS: cannot read "an hour" as a duration'],
    ['CONVERGE_WAIT_POLL_MS', '499', 'CONVERGE_WAIT_POLL_MS: "499" is shorter than the minimum of 500ms (allowed: 500ms to 10m)'],
    ['CONVERGE_WAIT_POLL_MS', '600001', 'CONVERGE_WAIT_POLL_MS: "600001" is longer than the maximum of 10m (allowed: 500ms to 10m)'],
    ['CONVERGE_WAIT_POLL_MS', '0', 'CONVERGE_WAIT_POLL_MS: "0" is shorter than the minimum of 500ms'],
    ['CONVERGE_WAIT_POLL_MS', '2.5', 'CONVERGE_WAIT_POLL_MS: "2.5" is not a whole, non-negative number of milliseconds'],
    ['CONVERGE_WAIT_POLL_MS', 'often', 'CONVERGE_WAIT_POLL_MS: cannot read "often" as a duration'],
  ])('%s=%j is an error naming the variable, the value and the range', (variable, value, message) => {
    expect(() => waitSettingsFromEnv({ [variable]: value })).toThrow(DurationError);
    expect(() => waitSettingsFromEnv({ [variable]: value })).toThrow(message);
  });

  it('apply --wait refuses an out-of-range value from the environment instead of polling in a tight loop', async () => {
    const saved = process.env.CONVERGE_WAIT_POLL_MS;
    process.env.CONVERGE_WAIT_POLL_MS = 'NaN';
    try {
      const first = { outcome: 'progressing', resources: [], awsWrites: 0, changes: 0, pending: 0 } as unknown as CycleSummary;
      const controller = { runCycle: () => Promise.reject(new Error('no cycle expected')) };
      const io = { stdout: () => undefined, stderr: () => undefined };
      await expect(waitForDeployments(controller, first, io)).rejects.toThrow(/CONVERGE_WAIT_POLL_MS: cannot read "NaN"/);
    } finally {
      if (saved === undefined) delete process.env.CONVERGE_WAIT_POLL_MS;
      else process.env.CONVERGE_WAIT_POLL_MS = saved;
    }
  });
});
