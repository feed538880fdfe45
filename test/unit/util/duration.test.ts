import { describe, expect, it } from 'vitest';
import { DurationError, formatDuration, MAX_TIMER_MS, parseBoundedDuration, parseBoundedMilliseconds, parseDuration, withJitter } from '../../../src/util/duration.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['1.5s', 1_500],
    ['60', 60_000],
    [' 10s ', 10_000],
    ['0s', 0],
  ])('reads %j as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', ' ', 's', '10 s', '10x', '-5s', '-5', '1d', 'ms500', '5m3', 'abc', '1e3', 'Infinity', 'NaN', '0x10', `${'9'.repeat(400)}`, `${'9'.repeat(400)}h`])('rejects %j', (text) => {
    expect(() => parseDuration(text, '--interval')).toThrow(DurationError);
    expect(() => parseDuration(text, '--interval')).toThrow(/^--interval: cannot read ".*" as a duration/);
  });

  it('says a negative duration is negative', () => {
    expect(() => parseDuration('-5s', 'CONVERGE_INTERVAL')).toThrow('CONVERGE_INTERVAL: cannot read "-5s" as a duration (a duration cannot be negative)');
  });

  it('enforces bounds, naming the setting, the value and the allowed range', () => {
    expect(() => parseBoundedDuration('50ms', '--interval', { min: 100 })).toThrow(/shorter than the minimum of 100ms/);
    expect(() => parseBoundedDuration('2h', '--interval', { min: 100, max: 3_600_000 })).toThrow('--interval: "2h" is longer than the maximum of 1h (allowed: 100ms to 1h)');
    expect(() => parseBoundedDuration('1000h', '--cycle-timeout', { min: 5_000, max: 6 * 3_600_000 })).toThrow('--cycle-timeout: "1000h" is longer than the maximum of 6h (allowed: 5s to 6h)');
    expect(parseBoundedDuration('2m', '--interval', { min: 100 })).toBe(120_000);
    expect(parseBoundedDuration('1h', '--interval', { min: 1_000, max: 3_600_000 })).toBe(3_600_000);
    expect(parseBoundedDuration('1s', '--interval', { min: 1_000, max: 3_600_000 })).toBe(1_000);
  });

  it('never lets a duration past what a Node.js timer can wait (2^31-1 ms: longer ones fire at once)', () => {
    expect(MAX_TIMER_MS).toBe(2_147_483_647);
    expect(() => parseBoundedDuration('1000h', 'x', { min: 0 })).toThrow(/longer than the maximum of 2147483647ms/);
    expect(() => parseBoundedDuration('1s', 'x', { min: 0, max: MAX_TIMER_MS + 1 })).toThrow(RangeError);
  });

  it('formats durations back', () => {
    expect([formatDuration(500), formatDuration(30_000), formatDuration(120_000), formatDuration(3_600_000), formatDuration(1_500)]).toEqual(['500ms', '30s', '2m', '1h', '1500ms']);
  });
});

describe('parseBoundedMilliseconds', () => {
  const bounds = { min: 1_000, max: 86_400_000 };
  it('reads whole milliseconds, or a duration with its unit', () => {
    expect(parseBoundedMilliseconds('120000', 'CONVERGE_WAIT_TIMEOUT_MS', bounds)).toBe(120_000);
    expect(parseBoundedMilliseconds(' 2m ', 'CONVERGE_WAIT_TIMEOUT_MS', bounds)).toBe(120_000);
    expect(parseBoundedMilliseconds('1000', 'CONVERGE_WAIT_TIMEOUT_MS', bounds)).toBe(1_000);
    expect(parseBoundedMilliseconds('24h', 'CONVERGE_WAIT_TIMEOUT_MS', bounds)).toBe(86_400_000);
  });

  it.each([
    ['-1', /not a whole, non-negative number of milliseconds/],
    ['1.5', /not a whole, non-negative number of milliseconds/],
    ['1e9', /not a whole, non-negative number of milliseconds/],
    ['soon', /cannot read "soon" as a duration/],
    ['', /cannot read "" as a duration/],
    ['999', /"999" is shorter than the minimum of 1s \(allowed: 1s to 24h\)/],
    ['86400001', /"86400001" is longer than the maximum of 24h \(allowed: 1s to 24h\)/],
    ['1000h', /"1000h" is longer than the maximum of 24h/],
  ])('rejects %j, naming the variable', (text, message) => {
    expect(() => parseBoundedMilliseconds(text, 'CONVERGE_WAIT_TIMEOUT_MS', bounds)).toThrow(DurationError);
    expect(() => parseBoundedMilliseconds(text, 'CONVERGE_WAIT_TIMEOUT_MS', bounds)).toThrow(/^CONVERGE_WAIT_TIMEOUT_MS: /);
    expect(() => parseBoundedMilliseconds(text, 'CONVERGE_WAIT_TIMEOUT_MS', bounds)).toThrow(message);
  });
});

describe('withJitter', () => {
  it('never exceeds what a timer can wait', () => {
    expect(withJitter(MAX_TIMER_MS, 0.1, () => 0.999999)).toBe(MAX_TIMER_MS);
  });

  it('stays within ±10% and reaches both ends', () => {
    expect(withJitter(60_000, 0.1, () => 0)).toBe(54_000);
    expect(withJitter(60_000, 0.1, () => 0.5)).toBe(60_000);
    expect(withJitter(60_000, 0.1, () => 0.999999)).toBe(66_000);
    for (let i = 0; i < 200; i += 1) {
      const ms = withJitter(10_000);
      expect(ms).toBeGreaterThanOrEqual(9_000);
      expect(ms).toBeLessThanOrEqual(11_000);
    }
  });
});
