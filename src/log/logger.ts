import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';
import { hasUrlUserinfo, looksLikeCredential } from '../../desired-state/credential-names.js';

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

export const REDACTED = '[redacted]';

/**
 * Masks the value of an environment variable that looks like a credential, by the one rule in
 * desired-state/credential-names.ts (the rule `converge validate` warns with). `others` are the
 * variable's other values in the same event (desired and live): one of them carrying a password
 * in a URL masks this one too, so that a diff never shows half of a pair.
 */
export function maskSensitive(name: string, value: unknown, others: readonly unknown[] = []): unknown {
  if (value === undefined || value === null) return value;
  return looksLikeCredential(name, value) || others.some((other) => hasUrlUserinfo(other)) ? REDACTED : value;
}

/** C0 and C1 control characters and the Unicode line separators: nothing that could break a line apart. */
function isControl(character: string): boolean {
  const code = character.codePointAt(0) ?? 0;
  return code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029;
}

/**
 * An error message fit for a log line, `/status` and a metric's neighbourhood: one line, at most
 * `max` characters, with URL userinfo and AWS access key ids masked.
 */
export function boundedErrorMessage(text: string, max = 300): string {
  const clean = Array.from(text, (character) => (isControl(character) ? ' ' : character))
    .join('')
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^/?#\s@]+@/gi, `$1${REDACTED}@`)
    .replace(/\b(AKIA|ASIA)[A-Z0-9]{16}\b/g, REDACTED)
    .replace(/\s+/g, ' ')
    .trim();
  return clean.length <= max ? clean : `${clean.slice(0, max - 1)}…`;
}
