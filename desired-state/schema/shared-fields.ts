/** Fields several kinds share: log retention and IAM roles. */
import { z } from 'zod';
import { patternString } from './field-rules.js';

export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;
export const DEFAULT_LOG_RETENTION_DAYS = 30;

const LOG_RETENTION_TEXT = LOG_RETENTION_DAYS.join(', ');
export const logRetentionSchema = z.number().refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), {
  error: (issue) => `must be one of the CloudWatch Logs retention periods ${LOG_RETENTION_TEXT} (days), got ${String(issue.input)}`,
});

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[A-Za-z0-9+=,.@_/-]{1,512}$/;
const ROLE_ARN_TEXT = 'must be an IAM role ARN like arn:aws:iam::123456789012:role/my-role';
export const roleArnSchema = patternString(ROLE_ARN, () => ROLE_ARN_TEXT);

/** A role the document must name; `whenMissing` says why it is needed. */
export function requiredRoleArnSchema(whenMissing: string) {
  return z.string({ error: (issue) => (issue.input === undefined ? whenMissing : undefined) }).refine((value) => ROLE_ARN.test(value), { error: ROLE_ARN_TEXT });
}
