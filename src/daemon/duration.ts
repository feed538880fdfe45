/** Durations as operators write them: `500ms`, `30s`, `2m`, `1h`, `1m30s`; a bare number means seconds. */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;

export class DurationError extends Error {}

/** Milliseconds of a duration; throws a `DurationError` naming the input when it cannot be read. */
export function parseDuration(text: string, what = 'duration'): number {
  const input = text.trim();
  if (/^\d+(?:\.\d+)?$/.test(input)) return Math.round(Number(input) * 1_000);
  let ms = 0;
  let index = 0;
  PART.lastIndex = 0;
  while (index < input.length) {
    PART.lastIndex = index;
    const match = PART.exec(input);
    if (!match) break;
    ms += Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? Number.NaN);
    index = PART.lastIndex;
  }
  if (input === '' || index !== input.length || !Number.isFinite(ms)) {
    throw new DurationError(`${what}: cannot read "${text}" as a duration (examples: 500ms, 30s, 2m, 1h, 1m30s)`);
  }
  return Math.round(ms);
}

/** Like `parseDuration`, and rejects durations outside `[min, max]` milliseconds. */
export function parseBoundedDuration(text: string, what: string, bounds: { min: number; max?: number }): number {
  const ms = parseDuration(text, what);
  if (ms < bounds.min) throw new DurationError(`${what}: "${text}" is shorter than the minimum of ${formatDuration(bounds.min)}`);
  if (bounds.max !== undefined && ms > bounds.max) throw new DurationError(`${what}: "${text}" is longer than the maximum of ${formatDuration(bounds.max)}`);
  return ms;
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0 && ms > 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}

/**
 * Spreads a period by ±`fraction` so that many daemons (or one daemon and its neighbours'
 * throttling buckets) do not fall into lockstep.
 */
export function withJitter(ms: number, fraction = 0.1, random: () => number = Math.random): number {
  return Math.max(0, Math.round(ms * (1 + (random() * 2 - 1) * fraction)));
}
