import { parseArgs } from 'node:util';
import { parseBoundedDuration } from './duration.js';
import { parseListenAddress, type ListenAddress } from './listen.js';

export interface DaemonSettings {
  source: string;
  artifacts?: string;
  intervalMs: number;
  watchIntervalMs: number;
  cycleTimeoutMs: number;
  shutdownTimeoutMs: number;
  listen: ListenAddress;
}

export class DaemonUsageError extends Error {}

export const DAEMON_USAGE = `Usage: converge run [--source SRC] [--interval 60s] [--watch-interval 10s] [--cycle-timeout 10m]
                    [--listen 0.0.0.0:8080] [--shutdown-timeout 20s] [--artifacts s3://bucket/prefix]

  --source           s3://bucket/prefix or a folder            CONVERGE_SOURCE
  --interval         time between cycles, ±10% jitter           CONVERGE_INTERVAL (default 60s)
  --watch-interval   how often the source is listed for changes CONVERGE_WATCH_INTERVAL (default 10s)
  --cycle-timeout    a longer cycle starts no further resource  CONVERGE_CYCLE_TIMEOUT (default 10m)
  --listen           host:port or :port of the HTTP endpoints   CONVERGE_LISTEN (default 0.0.0.0:8080)
  --shutdown-timeout wait for in-flight calls on SIGTERM        CONVERGE_SHUTDOWN_TIMEOUT (default 20s)

POST /reconcile needs CONVERGE_TRIGGER_TOKEN or CONVERGE_TRIGGER_TOKEN_FILE; without either it answers 403.
Durations: 500ms, 30s, 2m, 1h, 1m30s.`;

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
  const source = pick('source', 'CONVERGE_SOURCE');
  if (!source) throw new DaemonUsageError('no desired state source: pass --source s3://bucket/prefix or a folder, or set CONVERGE_SOURCE');
  try {
    return {
      source,
      artifacts: pick('artifacts', 'CONVERGE_ARTIFACTS'),
      intervalMs: parseBoundedDuration(pick('interval', 'CONVERGE_INTERVAL', '60s') ?? '', '--interval', { min: 100 }),
      watchIntervalMs: parseBoundedDuration(pick('watch-interval', 'CONVERGE_WATCH_INTERVAL', '10s') ?? '', '--watch-interval', { min: 100 }),
      cycleTimeoutMs: parseBoundedDuration(pick('cycle-timeout', 'CONVERGE_CYCLE_TIMEOUT', '10m') ?? '', '--cycle-timeout', { min: 100 }),
      shutdownTimeoutMs: parseBoundedDuration(pick('shutdown-timeout', 'CONVERGE_SHUTDOWN_TIMEOUT', '20s') ?? '', '--shutdown-timeout', { min: 0 }),
      listen: parseListenAddress(pick('listen', 'CONVERGE_LISTEN', '0.0.0.0:8080') ?? ''),
    };
  } catch (error) {
    throw new DaemonUsageError((error as Error).message);
  }
}
