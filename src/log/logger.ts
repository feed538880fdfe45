import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

/** Paths redacted once, in the root logger, wherever a token or secret value might travel. */
const REDACT_PATHS = [
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'secrets',
  '*.secrets',
  'secretValue',
  '*.secretValue',
];

export interface LoggerOptions {
  level?: LevelWithSilent;
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? ((process.env.CONVERGE_LOG_LEVEL as LevelWithSilent | undefined) || 'info');
  return pino(
    {
      level,
      base: { service: 'converge' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

const SECRET_NAME = /pass|secret|token|key|credential|private|auth/i;

/** Masks values of environment variables whose names suggest they hold a secret. */
export function maskSensitive(name: string, value: unknown): unknown {
  if (value === undefined || value === null) return value;
  return SECRET_NAME.test(name) ? '[redacted]' : value;
}
