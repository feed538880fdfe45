/** Target group health checks: complete in the Environment defaults, partial in a workload. */
import { z } from 'zod';
import type { HealthCheck } from '../types.js';
import { fieldsValid, onObjects, strictObject, wholeNumber } from './field-rules.js';
import { quote } from './values.js';

export const GATEWAY_HEALTH_PATH = '/__health';
export const DEFAULT_HEALTH_CHECK: Readonly<HealthCheck> = {
  path: '/health',
  intervalSeconds: 30,
  timeoutSeconds: 5,
  matcher: '200-399',
  healthyThreshold: 2,
  unhealthyThreshold: 3,
};

export function matcherProblem(matcher: string): string | undefined {
  const codes = /^\d{3}-\d{3}$/.test(matcher) ? matcher.split('-') : /^\d{3}(,\d{3})*$/.test(matcher) ? matcher.split(',') : undefined;
  const numbers = (codes ?? []).map(Number);
  const inRange = numbers.every((code) => code >= 200 && code <= 499);
  const ordered = !matcher.includes('-') || (numbers[0] ?? 0) <= (numbers[1] ?? 0);
  if (codes && inRange && ordered) return undefined;
  return `must be HTTP codes from 200 to 499 (the limit of an ALB target group), as a list like "200,302" or a range like "200-399", got ${quote(matcher)}`;
}

const healthPathSchema = z.string().refine((path) => path.startsWith('/') && path.length <= 1024 && !/\s/.test(path), {
  error: (issue) => `must start with "/" and have at most 1024 characters and no spaces, got ${quote(issue.input)}`,
});

const healthCheckFields = {
  path: healthPathSchema,
  intervalSeconds: wholeNumber(5, 300, { unit: 'seconds' }),
  timeoutSeconds: wholeNumber(2, 120, { unit: 'seconds' }),
  matcher: z.string().superRefine((matcher, ctx) => {
    const problem = matcherProblem(matcher);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, input: undefined });
  }),
  healthyThreshold: wholeNumber(2, 10),
  unhealthyThreshold: wholeNumber(2, 10),
};

/** The message for a timeout that is not below the interval; parse/merged-rules.ts reuses it after merging. */
export function timeoutProblem(timeoutSeconds: number, intervalSeconds: number): string | undefined {
  if (timeoutSeconds < intervalSeconds) return undefined;
  return `timeoutSeconds (${timeoutSeconds}) must be less than intervalSeconds (${intervalSeconds})`;
}

export const fullHealthCheckSchema = strictObject({
  path: healthCheckFields.path.default(DEFAULT_HEALTH_CHECK.path),
  intervalSeconds: healthCheckFields.intervalSeconds.default(DEFAULT_HEALTH_CHECK.intervalSeconds),
  timeoutSeconds: healthCheckFields.timeoutSeconds.default(DEFAULT_HEALTH_CHECK.timeoutSeconds),
  matcher: healthCheckFields.matcher.default(DEFAULT_HEALTH_CHECK.matcher),
  healthyThreshold: healthCheckFields.healthyThreshold.default(DEFAULT_HEALTH_CHECK.healthyThreshold),
  unhealthyThreshold: healthCheckFields.unhealthyThreshold.default(DEFAULT_HEALTH_CHECK.unhealthyThreshold),
}).superRefine(checkTimeoutBelowInterval, onObjects);

function checkTimeoutBelowInterval(check: { timeoutSeconds?: number; intervalSeconds?: number }, ctx: z.core.$RefinementCtx): void {
  if (check.timeoutSeconds === undefined || check.intervalSeconds === undefined) return;
  if (!fieldsValid(ctx, ['timeoutSeconds'], ['intervalSeconds'])) return;
  const problem = timeoutProblem(check.timeoutSeconds, check.intervalSeconds);
  if (problem) ctx.addIssue({ code: 'custom', path: ['timeoutSeconds'], message: problem, input: undefined });
}

/** A workload's health check: every field optional, merged over the Environment defaults. */
export const partialHealthCheckSchema = strictObject({
  path: healthCheckFields.path.optional(),
  intervalSeconds: healthCheckFields.intervalSeconds.optional(),
  timeoutSeconds: healthCheckFields.timeoutSeconds.optional(),
  matcher: healthCheckFields.matcher.optional(),
  healthyThreshold: healthCheckFields.healthyThreshold.optional(),
  unhealthyThreshold: healthCheckFields.unhealthyThreshold.optional(),
}).superRefine(checkTimeoutBelowInterval, onObjects);

export type PartialHealthCheckInput = z.output<typeof partialHealthCheckSchema>;
