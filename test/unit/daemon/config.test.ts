import { describe, expect, it } from 'vitest';
import { DaemonUsageError, resolveDaemonSettings } from '../../../src/daemon/config.js';

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
});
