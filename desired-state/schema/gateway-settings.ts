/** The Gateway's KrakenD settings: timeouts, cache, CORS and rate limits. */
import { z } from 'zod';
import { fieldsValid, nonEmptyString, onLists, onObjects, oneOf, patternString, positiveNumber, strictObject } from './field-rules.js';
import { methodsSchema } from './route.js';
import { quote } from './values.js';

const DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;
const durationSchema = patternString(DURATION, (value) => `must be a duration like 3s, 500ms, 1m or 1m30s, got ${quote(value)}`);

function isZeroDuration(duration: string): boolean {
  return !/[1-9]/.test(duration);
}

const ORIGIN = /^(\*|https?:\/\/(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?)$/;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

const corsSchema = strictObject({
  allowOrigins: z
    .array(patternString(ORIGIN, (value) => `must be "*" or an origin like https://www.example.com (scheme, host and optional port), got ${quote(value)}`))
    .refine((origins) => origins.length > 0, { error: 'needs at least one origin', ...onLists }),
  allowMethods: methodsSchema.default(['GET', 'HEAD', 'POST']),
  allowHeaders: z.array(patternString(HEADER_NAME, (value) => `must be an HTTP header name, got ${quote(value)}`)).default([]),
  exposeHeaders: z.array(patternString(HEADER_NAME, (value) => `must be an HTTP header name, got ${quote(value)}`)).default([]),
  allowCredentials: z.boolean().default(false),
  maxAge: durationSchema.optional(),
}).superRefine(
  (cors, ctx) => {
    if (!fieldsValid(ctx, ['allowCredentials'], ['allowOrigins'])) return;
    if (cors.allowCredentials && cors.allowOrigins.includes('*')) {
      ctx.addIssue({
        code: 'custom',
        path: ['allowCredentials'],
        message: 'allowCredentials cannot be combined with allowOrigins "*" (browsers refuse credentials for a wildcard origin); list the origins',
        input: undefined,
      });
    }
  },
  onObjects,
);

const rateLimitSchema = strictObject({
  maxRate: positiveNumber(),
  clientMaxRate: positiveNumber().optional(),
  strategy: oneOf(['ip', 'header'], 'the strategy').optional(),
  key: nonEmptyString('header name').optional(),
}).superRefine(
  (limit, ctx) => {
    if (!fieldsValid(ctx, ['strategy'], ['key'])) return;
    if (limit.strategy === 'header' && limit.key === undefined) {
      ctx.addIssue({ code: 'custom', path: ['key'], message: 'strategy "header" needs key: the header that identifies a client', input: undefined });
    }
    if (limit.strategy !== 'header' && limit.key !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['key'], message: 'key is only used with strategy "header"', input: undefined });
    }
  },
  onObjects,
);

export const gatewaySettingsSchema = strictObject({
  timeout: durationSchema
    .refine((duration) => !isZeroDuration(duration), { error: 'must be longer than 0s' })
    .default('3s'),
  cacheTTL: durationSchema.default('0s'),
  cors: corsSchema.optional(),
  rateLimit: rateLimitSchema.optional(),
});
