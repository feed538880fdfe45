import { parseArgs } from 'node:util';
import { formatDuration, parseBoundedDuration, type DurationBounds } from '../util/duration.js';
import { LEASE_DURATION_BOUNDS } from '../lease/lease.js';
import { parseListenAddress, type ListenAddress } from './listen.js';

export interface DaemonSettings {
  source: string;
  artifacts?: string;
  intervalMs: number;
  watchIntervalMs: number;
  cycleTimeoutMs: number;
  shutdownTimeoutMs: number;
  listen: ListenAddress;
  /** The writer lease's duration (S3 sources). */
  leaseDurationMs: number;
}

export class DaemonUsageError extends Error {}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * What each duration setting accepts. Every upper bound stays far below Node's timer limit
 * (2^31-1 ms, about 24.8 days), past which a timer fires at once.
 */
export const DURATION_BOUNDS = {
  /** Between cycles: at least 1 s (each cycle reads every resource type), at most a day. */
  interval: { min: 1_000, max: 24 * HOUR },
  /** Between listings of the source: at least 500 ms (one ListObjectsV2 per 1,000 keys), at most an hour. */
  watchInterval: { min: 500, max: HOUR },
  /** A cycle: at least 5 s (a steady-state cycle makes about 10 calls), at most 6 h. */
  cycleTimeout: { min: 5_000, max: 6 * HOUR },
  /** In-flight calls after SIGTERM: 0 (do not wait) to 10 min (orchestrators kill long before). */
  shutdownTimeout: { min: 0, max: 10 * MINUTE },
  /** The writer lease: at least 2 s (renewed every quarter), at most 10 min (a killed writer is replaced within one). */
  leaseDuration: LEASE_DURATION_BOUNDS,
} as const satisfies Record<string, Required<DurationBounds>>;

const range = (bounds: Required<DurationBounds>): string => `${formatDuration(bounds.min)}..${formatDuration(bounds.max)}`;

export const DAEMON_USAGE = `Usage: converge run [--source SRC] [--interval 60s] [--watch-interval 10s] [--cycle-timeout 10m]
                    [--listen 0.0.0.0:8080] [--shutdown-timeout 20s] [--lease-duration 60s]
                    [--artifacts s3://bucket/prefix]

  --source           s3://bucket/prefix or a folder            CONVERGE_SOURCE
  --interval         time between cycles, ±10% jitter           CONVERGE_INTERVAL (default 60s, ${range(DURATION_BOUNDS.interval)})
  --watch-interval   how often the source is listed for changes CONVERGE_WATCH_INTERVAL (default 10s, ${range(DURATION_BOUNDS.watchInterval)})
  --cycle-timeout    a longer cycle starts no further resource  CONVERGE_CYCLE_TIMEOUT (default 10m, ${range(DURATION_BOUNDS.cycleTimeout)})
                     and its AWS calls in flight are aborted
  --listen           host:port or :port of the HTTP endpoints   CONVERGE_LISTEN (default 0.0.0.0:8080)
  --shutdown-timeout wait for in-flight calls on SIGTERM        CONVERGE_SHUTDOWN_TIMEOUT (default 20s, ${range(DURATION_BOUNDS.shutdownTimeout)})
  --lease-duration   the writer lease (S3 sources): one converge CONVERGE_LEASE_DURATION (default 60s, ${range(DURATION_BOUNDS.leaseDuration)})
                     writes, others plan; a killed writer is replaced within one duration

POST /reconcile needs CONVERGE_TRIGGER_TOKEN or CONVERGE_TRIGGER_TOKEN_FILE; without either it answers 403.
Durations: 500ms, 30s, 2m, 1h, 1m30s (a bare number is seconds).`;

/** Flags win over the environment, the environment over the defaults. */
export function resolveDaemonSettings(args: string[], env: NodeJS.ProcessEnv): DaemonSettings | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        source: { type: 'string' },
        artifacts: { type: 'string' },
        interval: { type: 'string' },
        'watch-interval': { type: 'string' },
        'cycle-timeout': { type: 'string' },
        'shutdown-timeout': { type: 'string' },
        'lease-duration': { type: 'string' },
        listen: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new DaemonUsageError((error as Error).message);
  }
  if (values.help === true) return 'help';
  const pick = (flag: string, variable: string, fallback?: string): string | undefined => {
    const value = values[flag];
    if (typeof value === 'string' && value !== '') return value;
    const fromEnv = env[variable];
    return fromEnv !== undefined && fromEnv !== '' ? fromEnv : fallback;
  };
  /** A bounded duration; an error names where the value came from (the flag, or the variable and its flag). */
  const duration = (flag: string, variable: string, fallback: string, bounds: Required<DurationBounds>): number => {
    const value = values[flag];
    const fromFlag = typeof value === 'string' && value !== '';
    const fromEnv = !fromFlag && env[variable] !== undefined && env[variable] !== '';
    const what = fromFlag ? `--${flag}` : fromEnv ? `${variable} (--${flag})` : `--${flag}`;
    return parseBoundedDuration(pick(flag, variable, fallback) ?? fallback, what, bounds);
  };
  const source = pick('source', 'CONVERGE_SOURCE');
  if (!source) throw new DaemonUsageError('no desired state source: pass --source s3://bucket/prefix or a folder, or set CONVERGE_SOURCE');
  try {
    return {
      source,
      artifacts: pick('artifacts', 'CONVERGE_ARTIFACTS'),
      intervalMs: duration('interval', 'CONVERGE_INTERVAL', '60s', DURATION_BOUNDS.interval),
      watchIntervalMs: duration('watch-interval', 'CONVERGE_WATCH_INTERVAL', '10s', DURATION_BOUNDS.watchInterval),
      cycleTimeoutMs: duration('cycle-timeout', 'CONVERGE_CYCLE_TIMEOUT', '10m', DURATION_BOUNDS.cycleTimeout),
      shutdownTimeoutMs: duration('shutdown-timeout', 'CONVERGE_SHUTDOWN_TIMEOUT', '20s', DURATION_BOUNDS.shutdownTimeout),
      listen: parseListenAddress(pick('listen', 'CONVERGE_LISTEN', '0.0.0.0:8080') ?? ''),
      leaseDurationMs: duration('lease-duration', 'CONVERGE_LEASE_DURATION', '60s', DURATION_BOUNDS.leaseDuration),
    };
  } catch (error) {
    throw new DaemonUsageError((error as Error).message);
  }
}
