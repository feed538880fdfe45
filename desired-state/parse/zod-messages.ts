import type { z } from 'zod';
import { describeValue, quote } from '../schema/values.js';
import { formatPath, type IssueList } from './issue-list.js';
import type { RawDocument } from './raw-document.js';

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
};

/** Messages for zod's own issues. Values are described by their type only, so secrets never leak; every code has one. */
export const errorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type': {
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      if (issue.input === undefined) return `required field is missing (expected ${expected})`;
      // zod refuses Infinity and NaN as numbers; YAML reads .inf, .nan and a number too large for a double (1e400) as them, JSON.parse reads 1e400 as Infinity
      if ((issue.expected === 'number' || issue.expected === 'int') && typeof issue.input === 'number') return nonFiniteMessage(issue.input);
      return `expected ${expected}, got ${describeValue(issue.input)}`;
    }
    case 'invalid_value':
      return `must be one of ${issue.values.map((value) => quote(value)).join(', ')}`;
    case 'too_small':
      return issue.origin === 'array' ? `needs at least ${String(issue.minimum)} item(s)` : `must be at least ${String(issue.minimum)}`;
    case 'too_big':
      return issue.origin === 'array' ? `allows at most ${String(issue.maximum)} item(s)` : `must be at most ${String(issue.maximum)}`;
    case 'custom':
      // A rule's own message; rules say what a value is without showing one that could be secret.
      return undefined;
    default:
      // zod's own texts for the other codes could quote keys or values: say what was wrong with none.
      return `is not valid here (${issue.code.replaceAll('_', ' ')})`;
  }
};

function nonFiniteMessage(value: number): string {
  const read = Number.isNaN(value) ? 'NaN (.nan in YAML)' : `${String(value)} (.inf, or a number too large to hold such as 1e400)`;
  return `must be a finite number, got ${read}`;
}

export function addZodIssues(error: z.ZodError, doc: RawDocument, prefix: readonly PropertyKey[], issues: IssueList): void {
  for (const issue of error.issues) issues.add(doc, formatPath([...prefix, ...issue.path]), issue.message);
}
