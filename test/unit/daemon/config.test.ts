import { describe, expect, it } from 'vitest';
import { DAEMON_USAGE, DURATION_BOUNDS, DaemonUsageError, resolveDaemonSettings } from '../../../src/daemon/config.js';
import { MAX_TIMER_MS } from '../../../src/util/duration.js';

describe('resolveDaemonSettings', () => {
  it('has the documented defaults', () => {
    expect(resolveDaemonSettings(['--source', 's3://b/p'], {})).toEqual({
      source: 's3://b/p',
      artifacts: undefined,
      intervalMs: 60_000,
      watchIntervalMs: 10_000,
      cycleTimeoutMs: 600_000,
      shutdownTimeoutMs: 20_000,
      listen: { host: '0.0.0.0', port: 8080 },
      leaseDurationMs: 60_000,
    });
  });

  it('reads the environment, and flags win over it', () => {
    const env = { CONVERGE_SOURCE: 's3://env/p', CONVERGE_INTERVAL: '2m', CONVERGE_WATCH_INTERVAL: '500ms', CONVERGE_LISTEN: ':9000', CONVERGE_CYCLE_TIMEOUT: '30s' };
    expect(resolveDaemonSettings([], env)).toMatchObject({ source: 's3://env/p', intervalMs: 120_000, watchIntervalMs: 500, cycleTimeoutMs: 30_000, listen: { port: 9000 } });
    expect(resolveDaemonSettings(['--interval', '30s', '--listen', '127.0.0.1:0', '--source', './x'], env)).toMatchObject({
      source: './x',
      intervalMs: 30_000,
      listen: { host: '127.0.0.1', port: 0 },
    });
  });

  it('explains what is wrong', () => {
    expect(() => resolveDaemonSettings([], {})).toThrow(/no desired state source/);
    expect(() => resolveDaemonSettings(['--source', 'x', '--interval', 'soon'], {})).toThrow(/--interval: cannot read "soon"/);
    expect(() => resolveDaemonSettings(['--source', 'x', '--interval', '10ms'], {})).toThrow(DaemonUsageError);
    expect(() => resolveDaemonSettings(['--source', 'x', '--listen', 'nowhere'], {})).toThrow(/listen address/);
    expect(() => resolveDaemonSettings(['--source', 'x', '--bogus'], {})).toThrow(DaemonUsageError);
    expect(resolveDaemonSettings(['--help'], {})).toBe('help');
  });

  describe('bounds every duration', () => {
    const settings = (args: string[], env: Record<string, string> = {}) => resolveDaemonSettings(['--source', 'x', ...args], env);

    it.each([
      // flag, variable, shortest, longest, just below, just above
      ['interval', 'CONVERGE_INTERVAL', '1s', '24h', '999ms', '24h1ms', '1s..24h'],
      ['watch-interval', 'CONVERGE_WATCH_INTERVAL', '500ms', '1h', '499ms', '1h1ms', '500ms..1h'],
      ['cycle-timeout', 'CONVERGE_CYCLE_TIMEOUT', '5s', '6h', '4999ms', '6h1ms', '5s..6h'],
      ['shutdown-timeout', 'CONVERGE_SHUTDOWN_TIMEOUT', '0s', '10m', undefined, '10m1ms', '0ms..10m'],
      ['lease-duration', 'CONVERGE_LEASE_DURATION', '2s', '10m', '1999ms', '10m1ms', '2s..10m'],
    ])('--%s (%s): %s to %s', (flag, variable, shortest, longest, below, above, range) => {
      const key = { interval: 'intervalMs', 'watch-interval': 'watchIntervalMs', 'cycle-timeout': 'cycleTimeoutMs', 'shutdown-timeout': 'shutdownTimeoutMs', 'lease-duration': 'leaseDurationMs' }[flag] as 'intervalMs';
      const ms = (text: string): number => {
        const resolved = settings([`--${flag}`, text]);
        if (resolved === 'help') throw new Error('help');
        return resolved[key];
      };
      expect(ms(shortest)).toBeGreaterThanOrEqual(0);
      expect(ms(longest)).toBeLessThanOrEqual(MAX_TIMER_MS);
      if (below) {
        expect(() => settings([`--${flag}`, below])).toThrow(DaemonUsageError);
        expect(() => settings([`--${flag}`, below])).toThrow(`--${flag}: "${below}" is shorter than the minimum of ${shortest}`);
      }
      expect(() => settings([`--${flag}`, above])).toThrow(`--${flag}: "${above}" is longer than the maximum of ${longest}`);
      // From the environment, the error names the variable (and its flag).
      expect(() => settings([], { [variable]: above })).toThrow(`${variable} (--${flag}): "${above}" is longer than the maximum of ${longest}`);
      expect(() => settings([], { [variable]: '1000h' })).toThrow(/is longer than the maximum/);
      expect(() => settings([], { [variable]: '-5s' })).toThrow(`${variable} (--${flag}): cannot read "-5s" as a duration (a duration cannot be negative)`);
      expect(() => settings([], { [variable]: 'soon' })).toThrow(`${variable} (--${flag}): cannot read "soon"`);
      // The usage text states the range.
      expect(DAEMON_USAGE).toContain(range);
    });

    it('refuses the values that overflowed Node timers (1000h ran 88 cycles in 15 s)', () => {
      expect(() => settings(['--interval', '1000h'])).toThrow('--interval: "1000h" is longer than the maximum of 24h (allowed: 1s to 24h)');
      expect(() => settings(['--cycle-timeout', '1000h'])).toThrow('--cycle-timeout: "1000h" is longer than the maximum of 6h (allowed: 5s to 6h)');
      for (const bounds of Object.values(DURATION_BOUNDS)) expect(bounds.max * 1.1).toBeLessThan(MAX_TIMER_MS);
    });

    it('a flag wins over an out-of-range variable', () => {
      expect(settings(['--interval', '30s'], { CONVERGE_INTERVAL: '1000h' })).toMatchObject({ intervalMs: 30_000 });
    });
  });
});
