/** What every document has around its spec: apiVersion, kind and metadata (name and labels). */
import { z } from 'zod';
import { TAG_LIMITS } from '../tags.js';
import { DOCUMENT_KINDS } from '../types.js';
import { closestName } from './closest-name.js';
import { onObjects, strictObject } from './field-rules.js';
import { quote, showKey } from './values.js';

export const API_VERSION = 'converge/v1';

export const NAME_PATTERN = /^[a-z][a-z0-9-]*[a-z0-9]$/;
export const MAX_NAME_LENGTH = 40;

export const nameSchema = z.string().refine((name) => name.length <= MAX_NAME_LENGTH && NAME_PATTERN.test(name), {
  error: (issue) =>
    `must be 2 to ${MAX_NAME_LENGTH} characters of lowercase letters, digits and "-", start with a letter and end with a letter or digit (it prefixes AWS names), got ${quote(issue.input)}`,
});

const TAG_CHARACTERS = /^[\p{L}\p{N}\p{Zs}+\-=._:/@]*$/u;
const TAG_CHARACTER_TEXT = 'letters, digits, spaces and + - = . _ : / @';

// AWS tags: key 1-127 and value at most 255 characters, the strictest of ECS, EC2 and ELBv2 (aws-facts.md section 9, "Tags: ELBv2").
function labelKeyProblem(key: string): string | undefined {
  if (key.length < 1 || key.length > TAG_LIMITS.keyLength) return `label key ${showKey(key)} must be 1 to ${TAG_LIMITS.keyLength} characters (an AWS tag key)`;
  if (!TAG_CHARACTERS.test(key)) return `label key ${showKey(key)} may only contain ${TAG_CHARACTER_TEXT} (an AWS tag key)`;
  const lower = key.toLowerCase();
  if (lower.startsWith('aws:')) return `label key ${showKey(key)} may not start with "aws:" (reserved by AWS)`;
  if (lower.startsWith('converge:')) return `label key ${showKey(key)} may not start with "converge:" (reserved for converge's ownership tags)`;
  return undefined;
}

function labelValueProblem(key: string, value: string): string | undefined {
  if (value.length > TAG_LIMITS.valueLength) return `the value of label ${showKey(key)} must be at most ${TAG_LIMITS.valueLength} characters (an AWS tag value)`;
  if (!TAG_CHARACTERS.test(value)) return `the value of label ${showKey(key)} may only contain ${TAG_CHARACTER_TEXT} (an AWS tag value)`;
  return undefined;
}

/** Each label on its own; how many fit, with the Environment's and converge's tags, is parse/tag-rules.ts. */
const labelsSchema = z.record(z.string(), z.string()).superRefine(
  (labels, ctx) => {
    for (const [key, value] of Object.entries(labels)) {
      const problem = labelKeyProblem(key) ?? (typeof value === 'string' ? labelValueProblem(key, value) : undefined);
      if (problem) ctx.addIssue({ code: 'custom', path: [key], message: problem, input: undefined });
    }
  },
  onObjects,
);

export const metadataSchema = strictObject({
  name: nameSchema,
  labels: labelsSchema.optional(),
});

export const envelopeSchema = strictObject({
  apiVersion: z.string().refine((value) => value === API_VERSION, {
    error: (issue) => `must be ${API_VERSION}, got ${quote(issue.input)}`,
  }),
  kind: z.string().refine((value) => (DOCUMENT_KINDS as readonly string[]).includes(value), {
    error: (issue) => {
      const suggestion = closestName(String(issue.input), DOCUMENT_KINDS);
      const hint = suggestion ? ` (did you mean ${suggestion}?)` : '';
      return `unknown kind ${quote(issue.input)}${hint}; expected one of ${DOCUMENT_KINDS.join(', ')}`;
    },
  }),
  metadata: metadataSchema,
  spec: z.unknown(),
});

export type EnvelopeInput = z.output<typeof envelopeSchema>;
