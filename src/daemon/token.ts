import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';

export type TriggerAuthorization = 'ok' | 'missing' | 'invalid' | 'disabled';

export class TriggerTokenError extends Error {}

/**
 * The token that guards `POST /reconcile`: `CONVERGE_TRIGGER_TOKEN`, else the trimmed content of
 * the file `CONVERGE_TRIGGER_TOKEN_FILE`. Undefined when neither is set (the endpoint then
 * answers 403). A file that is configured but unreadable or empty is an error: a typo must not
 * silently leave converge without its trigger.
 */
export async function loadTriggerToken(
  env: NodeJS.ProcessEnv,
  read: (path: string) => Promise<string> = (path) => readFile(path, 'utf8'),
): Promise<{ token?: string; origin?: 'env' | 'file'; warning?: string }> {
  const direct = env.CONVERGE_TRIGGER_TOKEN?.trim();
  const file = env.CONVERGE_TRIGGER_TOKEN_FILE?.trim();
  if (direct) {
    return { token: direct, origin: 'env', warning: file ? 'both CONVERGE_TRIGGER_TOKEN and CONVERGE_TRIGGER_TOKEN_FILE are set; using CONVERGE_TRIGGER_TOKEN' : undefined };
  }
  if (!file) return {};
  let content: string;
  try {
    content = await read(file);
  } catch (error) {
    throw new TriggerTokenError(`CONVERGE_TRIGGER_TOKEN_FILE ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const token = content.trim();
  if (!token) throw new TriggerTokenError(`CONVERGE_TRIGGER_TOKEN_FILE ${file} is empty`);
  return { token, origin: 'file' };
}

/** The credentials of an `Authorization: Bearer <token>` header, undefined for any other shape. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1];
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** Constant-time comparison: hashing first gives equal-length buffers whatever was presented. */
export function tokensMatch(expected: string, presented: string): boolean {
  return timingSafeEqual(digest(expected), digest(presented));
}

export function authorizeTrigger(expected: string | undefined, authorizationHeader: string | undefined): TriggerAuthorization {
  if (expected === undefined || expected === '') return 'disabled';
  const presented = bearerToken(authorizationHeader);
  if (presented === undefined) return 'missing';
  return tokensMatch(expected, presented) ? 'ok' : 'invalid';
}
