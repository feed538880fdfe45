/** zod building blocks every document schema uses: strict objects, numbers, strings and lists with readable messages. */
import { z } from 'zod';
import { closestName } from './closest-name.js';
import { describeValue, isPlainObject, quote, showKey } from './values.js';

/** The field's name is shown as showKey allows; its value never is. */
function unknownFieldMessage(key: string, known: readonly string[]): string {
  const suggestion = key.length <= 128 ? closestName(key, known) : undefined;
  const hint = suggestion ? `did you mean "${suggestion}"?` : `allowed: ${known.join(', ')}`;
  return `unknown field ${showKey(key)} (${hint})`;
}

/**
 * Rules over several fields run whenever the value is an object or a list (zod would skip
 * them after any type error elsewhere); each rule then checks that its own fields passed.
 */
export const onObjects = { when: (payload: z.core.ParsePayload) => isPlainObject(payload.value) };
export const onLists = { when: (payload: z.core.ParsePayload) => Array.isArray(payload.value) };

function isPrefix(shorter: readonly PropertyKey[], longer: readonly PropertyKey[]): boolean {
  return shorter.length <= longer.length && shorter.every((key, index) => key === longer[index]);
}

/** Whether the fields at these paths (relative to the object being refined) passed validation. */
export function fieldsValid(ctx: z.core.$RefinementCtx, ...paths: readonly PropertyKey[][]): boolean {
  return !ctx.issues.some((issue) => {
    const issuePath = issue.path ?? [];
    return paths.some((path) => isPrefix(issuePath, path) || isPrefix(path, issuePath));
  });
}

/**
 * An object that rejects unknown fields, one issue per field with a suggestion.
 * zod's own strict mode reports all unknown keys as one issue on the parent, so the
 * unknown keys are checked here instead; the check runs even when other fields failed.
 */
export function strictObject<T extends z.core.$ZodLooseShape>(shape: T) {
  const known = Object.keys(shape);
  return z.looseObject(shape).superRefine(
    (value, ctx) => {
      for (const key of Object.keys(value)) {
        if (!known.includes(key)) ctx.addIssue({ code: 'custom', path: [key], message: unknownFieldMessage(key, known), input: undefined });
      }
    },
    onObjects,
  );
}

// zod's .int() aborts the parse of the enclosing object, which would hide other problems.
export function wholeNumber(min: number, max: number, options: { unit?: string; whenMissing?: string } = {}) {
  const suffix = options.unit ? ` ${options.unit}` : '';
  const whenMissing = options.whenMissing;
  const typeError = whenMissing === undefined ? {} : { error: (issue: { input: unknown }) => (issue.input === undefined ? whenMissing : undefined) };
  return z.number(typeError).refine((value) => Number.isInteger(value) && value >= min && value <= max, {
    error: (issue) => `must be a whole number from ${min} to ${max}${suffix}, got ${String(issue.input)}`,
  });
}

export function positiveNumber() {
  return z.number().refine((value) => value > 0, { error: (issue) => `must be greater than 0, got ${String(issue.input)}` });
}

export function nonEmptyString(what = 'value') {
  return z.string().refine((value) => value.trim() !== '', { error: `the ${what} must not be empty` });
}

export function patternString(pattern: RegExp, message: (value: string) => string) {
  return z.string().refine((value) => pattern.test(value), { error: (issue) => message(String(issue.input)) });
}

export function uniqueItems(what: string) {
  return (items: readonly unknown[], ctx: z.core.$RefinementCtx): void => {
    const seen = new Set<string>();
    items.forEach((item, index) => {
      // Items of another type are reported by the item schema; only names and addresses are compared (and shown).
      if (typeof item !== 'string' && !isPlainObject(item)) return;
      const key = JSON.stringify(item);
      if (seen.has(key)) {
        const shown = typeof item === 'string' ? quote(item) : key.length <= 80 ? key : `${key.slice(0, 77)}...`;
        ctx.addIssue({ code: 'custom', path: [index], message: `duplicate ${what} ${shown}`, input: undefined });
      }
      seen.add(key);
    });
  };
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T, what: string) {
  return z.enum(values, {
    error: (issue) => {
      const given = typeof issue.input === 'string' ? quote(issue.input) : describeValue(issue.input);
      return `${what} must be one of ${values.join(', ')}, got ${given}`;
    },
  });
}
