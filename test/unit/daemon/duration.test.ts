import { describe, expect, it } from 'vitest';
import { DurationError, formatDuration, parseBoundedDuration, parseDuration, withJitter } from '../../../src/daemon/duration.js';

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

  it.each(['', 's', '10 s', '10x', '-5s', '1d', 'ms500', '5m3', 'abc'])('rejects %j', (text) => {
    expect(() => parseDuration(text, '--interval')).toThrow(DurationError);
    expect(() => parseDuration(text, '--interval')).toThrow(/--interval/);
  });

  it('enforces bounds', () => {
    expect(() => parseBoundedDuration('50ms', '--interval', { min: 100 })).toThrow(/shorter than the minimum of 100ms/);
    expect(() => parseBoundedDuration('2h', '--interval', { min: 100, max: 3_600_000 })).toThrow(/longer than the maximum of 1h/);
    expect(parseBoundedDuration('2m', '--interval', { min: 100 })).toBe(120_000);
  });

  it('formats durations back', () => {
    expect([formatDuration(500), formatDuration(30_000), formatDuration(120_000), formatDuration(3_600_000), formatDuration(1_500)]).toEqual(['500ms', '30s', '2m', '1h', '1500ms']);
  });
});

describe('withJitter', () => {
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
