/**
 * The one rule for environment variables that look like credentials. `env` values are plain by
 * contract (they are stored in the task definition, readable by anyone who may describe it), so
 * the loader warns about such a variable and says to use `secrets`, and every log event that
 * shows an `env` value masks it (src/log/logger.ts `maskSensitive`).
 */
import { allWorkloads, type DesiredState } from './types.js';

/** Words that mark a credential wherever they appear in a name (`PGPASSWORD`, `clientSecret`, `GITHUB_TOKEN`). */
const CREDENTIAL_SUBSTRINGS = ['PASSWORD', 'PASSWD', 'PASSPHRASE', 'SECRET', 'TOKEN', 'CREDENTIAL'] as const;

/** Words that mark a credential only as a whole word of the name: `API_KEY`, `DB_PASS`, never `KEYBOARD_LAYOUT` or `PASSENGER_LIMIT`. */
const CREDENTIAL_WORDS = new Set(['PWD', 'PASS', 'KEY', 'KEYS']);

/** `KEY` glued to the word before it, as in `APIKEY` or `privateKey` written without a separator. */
const GLUED_KEY = /^(API|ACCESS|PRIVATE|SIGNING|ENCRYPTION|MASTER|LICENSE|CLIENT)KEYS?$/;

/** `DB_PASSWORD` → [DB, PASSWORD]; `dbPassword` → [DB, PASSWORD]; `APIKey` → [API, KEY]. */
export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .split(/[^A-Za-z0-9]+/)
    .filter((word) => word !== '')
    .map((word) => word.toUpperCase());
}

/** The word that makes `name` look like a credential's name (`PASSWORD`, `KEY`, ...), or undefined. */
export function credentialWordIn(name: string): string | undefined {
  for (const word of nameWords(name)) {
    const inside = CREDENTIAL_SUBSTRINGS.find((marker) => word.includes(marker));
    if (inside) return inside;
    if (CREDENTIAL_WORDS.has(word)) return word;
    if (GLUED_KEY.test(word)) return 'KEY';
  }
  return undefined;
}

/** `scheme://user:password@host/...` or `scheme://token@host/...`: a URL that carries userinfo. */
export function hasUrlUserinfo(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  return /[a-z][a-z0-9+.-]*:\/\/[^/?#\s@]+@/i.test(value);
}

/** Whether an environment variable with this name (and value, when known) looks like it holds a credential. */
export function looksLikeCredential(name: string, value?: unknown): boolean {
  return credentialWordIn(name) !== undefined || hasUrlUserinfo(value);
}

/**
 * One warning per plain `env` variable of a workload that looks like a credential, naming the
 * document and the variable, never the value.
 */
export function credentialWarnings(state: DesiredState): string[] {
  const warnings: string[] = [];
  for (const workload of allWorkloads(state)) {
    for (const [name, value] of Object.entries(workload.container.env)) {
      const word = credentialWordIn(name);
      const userinfo = hasUrlUserinfo(value);
      if (word === undefined && !userinfo) continue;
      const why = word !== undefined ? `its name contains ${word}` : 'its value is a URL with a user name or password in it';
      warnings.push(
        `${workload.kind}/${workload.name} (${workload.origin.file}): spec.container.env.${name} looks like a credential (${why}); ` +
          'env values are plain text in the task definition, readable by anyone who may describe it: store the value in Secrets Manager ' +
          `or SSM Parameter Store and name its ARN under spec.container.secrets.${name} instead (converge masks it in its logs meanwhile)`,
      );
    }
  }
  return warnings;
}
