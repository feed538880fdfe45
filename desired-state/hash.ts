import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every depth, so equal values always serialise alike. */
export function stableStringify(value: unknown): string {
  return JSON.stringify(sortDeep(value));
}

function sortDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortDeep);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortDeep(v);
    }
    return out;
  }
  return value;
}

export function sha256(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A short, stable hash of any JSON-able value. */
export function shortHash(value: unknown, length = 12): string {
  return sha256(typeof value === 'string' ? value : stableStringify(value)).slice(0, length);
}
