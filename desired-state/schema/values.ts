/**
 * Looking at document content in messages without ever showing what could be secret.
 *
 * What a message may show, field by field: the values of fields that name or address something
 * (metadata.name, kind, apiVersion, region, domains, CIDRs, ids, paths, ports, header names,
 * origins, config names), through `quote`: cut at 80 characters, without URL credentials or what
 * follows `=`; and mapping keys, which are names people choose (fields, labels, environment
 * variable names), through `showKey`. Never shown: env values, anything under `secrets`,
 * commands, label values, the values of unknown fields, and the text of a file that does not
 * parse.
 */

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * What could be a credential inside a value otherwise safe to show goes: the userinfo of a URL
 * (`https://user:password@host`) and what follows `=` (`NAME=value`, `?token=value`).
 */
function withoutCredentials(text: string): string {
  return text.replace(/(:\/\/)[^/@\s]*@/g, '$1***@').replace(/=[^&;,\s]*/g, '=...');
}

/** Quotes a value that is safe to show (never used for env values or secrets), cut at 80 characters. */
export function quote(value: unknown): string {
  const text = withoutCredentials(typeof value === 'string' ? value : String(value));
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);
}

/** What a value is, without showing it. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'boolean') return 'true/false';
  return `a ${typeof value}`;
}

/** Letters, digits, spaces and `_ . - / : @ +`: the characters of field names, label keys and variable names. */
const SHOWN_KEY = /^[\p{L}\p{N}_.\-/:@+ ]{1,128}$/u;

/**
 * A mapping key as it may be shown, or undefined when it could hold a value rather than a name:
 * `NAME=value` (an assignment written where a key belongs) shows as `NAME=...`; a key with other
 * characters (quotes, control characters), URL credentials or over 128 characters is
 * not shown.
 */
export function shownKey(key: string): string | undefined {
  if (/:\/\/[^/]*@/.test(key)) return undefined;
  if (SHOWN_KEY.test(key)) return key;
  const assignment = key.indexOf('=');
  if (assignment > 0 && SHOWN_KEY.test(key.slice(0, assignment))) return `${key.slice(0, assignment)}=...`;
  return undefined;
}

/** A mapping key for a message: quoted, or described without its text when it is not shown. */
export function showKey(key: string): string {
  const shown = shownKey(key);
  return shown === undefined ? `(a key of ${key.length} characters, not shown)` : JSON.stringify(shown);
}
