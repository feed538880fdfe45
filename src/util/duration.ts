/** Durations as operators write them: `500ms`, `30s`, `2m`, `1h`, `1m30s`; a bare number means seconds. */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;

/**
 * The longest delay Node's timers take (2^31-1 ms, about 24.8 days): a longer one fires at once
 * (with a TimeoutOverflowWarning), which turned `--interval 1000h` into a cycle every few ms.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export class DurationError extends Error {}

const EXAMPLES = 'examples: 500ms, 30s, 2m, 1h, 1m30s';

/** Milliseconds of a duration; throws a `DurationError` naming the input when it cannot be read. */
export function parseDuration(text: string, what = 'duration'): number {
  const input = text.trim();
  let ms = Number.NaN;
  if (/^\d+(?:\.\d+)?$/.test(input)) {
    ms = Number(input) * 1_000;
  } else if (input !== '') {
    ms = 0;
    let index = 0;
    while (index < input.length) {
      PART.lastIndex = index;
      const match = PART.exec(input);
      if (!match) break;
      ms += Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? Number.NaN);
      index = PART.lastIndex;
    }
    if (index !== input.length) ms = Number.NaN;
  }
  if (!Number.isFinite(ms)) {
    const hint = input.startsWith('-') ? ' (a duration cannot be negative)' : '';
    throw new DurationError(`${what}: cannot read "${text}" as a duration${hint} (${EXAMPLES})`);
  }
  return Math.round(ms);
}

export interface DurationBounds {
  /** Shortest allowed, in milliseconds. */
  min: number;
  /** Longest allowed, in milliseconds; at most (and by default) `MAX_TIMER_MS`. */
  max?: number;
}

function checkBounds(ms: number, text: string, what: string, bounds: DurationBounds): number {
  const max = bounds.max ?? MAX_TIMER_MS;
  if (max > MAX_TIMER_MS) throw new RangeError(`${what}: a maximum of ${max} ms is longer than a Node.js timer can wait (${MAX_TIMER_MS} ms)`);
  const range = `allowed: ${formatDuration(bounds.min)} to ${formatDuration(max)}`;
  if (ms < bounds.min) throw new DurationError(`${what}: "${text}" is shorter than the minimum of ${formatDuration(bounds.min)} (${range})`);
  if (ms > max) throw new DurationError(`${what}: "${text}" is longer than the maximum of ${formatDuration(max)} (${range})`);
  return ms;
}

/** Like `parseDuration`, and rejects durations outside `[min, max]` milliseconds (the message names both ends). */
export function parseBoundedDuration(text: string, what: string, bounds: DurationBounds): number {
  return checkBounds(parseDuration(text, what), text, what, bounds);
}

/**
 * For settings named `..._MS`: a whole number of milliseconds (`120000`), or a duration with its
 * unit (`2m`); bounded like `parseBoundedDuration`. Negative, fractional and non-numeric values are errors.
 */
export function parseBoundedMilliseconds(text: string, what: string, bounds: DurationBounds): number {
  const input = text.trim();
  if (/^\d+$/.test(input)) return checkBounds(Number(input), text, what, bounds);
  if (/^[-+]?\d*\.?\d+(?:e[-+]?\d+)?$/i.test(input)) {
    throw new DurationError(`${what}: "${text}" is not a whole, non-negative number of milliseconds (or a duration such as 30s, 10m)`);
  }
  return checkBounds(parseDuration(text, what), text, what, bounds);
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0 && ms > 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}

/**
 * Spreads a period by ±`fraction` so that many daemons (or one daemon and its neighbours'
 * throttling buckets) do not fall into lockstep. Never longer than a timer can wait.
 */
export function withJitter(ms: number, fraction = 0.1, random: () => number = Math.random): number {
  return Math.min(MAX_TIMER_MS, Math.max(0, Math.round(ms * (1 + (random() * 2 - 1) * fraction))));
}
