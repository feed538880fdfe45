/**
 * The lifecycle fields: a workload's `scaling` (Application Auto Scaling target tracking), its
 * `suspend` and `reconcile.ignore`; the Environment's `reconcile` (prune, suspend) and
 * `notifications`.
 */
import { z } from 'zod';
import { closestName } from './closest-name.js';
import { onObjects, patternString, strictObject, wholeNumber } from './field-rules.js';
import { quote } from './values.js';

/** Application Auto Scaling's cooldowns default like the console's for ECS: scale in slowly, out quickly. */
export const DEFAULT_SCALE_IN_COOLDOWN_SECONDS = 300;
export const DEFAULT_SCALE_OUT_COOLDOWN_SECONDS = 60;

const percent = (what: string) =>
  z.number().refine((value) => Number.isFinite(value) && value >= 1 && value <= 100, { error: (issue) => `${what} must be a percentage from 1 to 100, got ${String(issue.input)}` });

/** Every field optional: the Environment's `defaults.scaling` and a workload's own are merged field by field. */
export const partialScalingSchema = strictObject({
  /** false: this workload does not scale, whatever the Environment defaults say. */
  enabled: z.boolean().optional(),
  minCount: wholeNumber(0, 5000).optional(),
  maxCount: wholeNumber(1, 5000).optional(),
  targetCpuPercent: percent('targetCpuPercent').optional(),
  targetMemoryPercent: percent('targetMemoryPercent').optional(),
  /** ALB requests per task per minute (ALBRequestCountPerTarget): the Gateway and the Frontend only. */
  requestsPerTarget: wholeNumber(1, 1_000_000).optional(),
  scaleInCooldownSeconds: wholeNumber(0, 86_400, { unit: 'seconds' }).optional(),
  scaleOutCooldownSeconds: wholeNumber(0, 86_400, { unit: 'seconds' }).optional(),
});

export type PartialScalingInput = z.output<typeof partialScalingSchema>;

/**
 * Field names as drift and change events name them on a workload's resources (the ECS service,
 * its task definition, target groups, log group and scaling target). `ignore` takes these, or a
 * dotted prefix of one (`containers` ignores every container field).
 */
export const IGNORABLE_FIELDS = [
  'desiredCount',
  'taskDefinition',
  'subnets',
  'securityGroups',
  'assignPublicIp',
  'loadBalancer',
  'circuitBreaker',
  'cpu',
  'memory',
  'executionRoleArn',
  'taskRoleArn',
  'containers',
  'healthCheck',
  'retentionInDays',
  'minCount',
  'maxCount',
  'policies',
] as const;

const ignoreFieldSchema = z.string().superRefine((field, ctx) => {
  const root = field.split('.')[0] ?? '';
  if ((IGNORABLE_FIELDS as readonly string[]).includes(root) && /^[A-Za-z0-9_.-]+$/.test(field)) return;
  const hint = closestName(root, IGNORABLE_FIELDS);
  ctx.addIssue({
    code: 'custom',
    message: `${quote(field)} is not a field converge reconciles on a workload${hint ? ` (did you mean ${quote(hint)}?)` : ''}; fields: ${IGNORABLE_FIELDS.join(', ')}, or a dotted path below one`,
    input: undefined,
  });
});

export const workloadReconcileSchema = strictObject({
  ignore: z.array(ignoreFieldSchema).default([]),
});

const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;

export const notificationsSchema = strictObject({
  snsTopicArn: patternString(SNS_TOPIC_ARN, (value) => `must be an SNS topic ARN like arn:aws:sns:us-east-1:123456789012:alerts, got ${quote(value.slice(0, 200))}`).optional(),
  webhook: strictObject({
    // Only the scheme and host are ever shown: a webhook URL often carries its token in the path.
    url: z.string().refine((value) => /^https:\/\/[^\s/?#]+(\/\S*)?$/.test(value) || /^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?(\/\S*)?$/.test(value), {
      error: 'must be an https:// URL (http:// only for 127.0.0.1 or localhost)',
    }),
    secretArn: patternString(SECRET_ARN, (value) => `must be a Secrets Manager secret ARN, got ${quote(value.slice(0, 200))}`).optional(),
  }).optional(),
}).superRefine(
  (value, ctx) => {
    if (value.snsTopicArn === undefined && value.webhook === undefined) ctx.addIssue({ code: 'custom', message: 'needs snsTopicArn, webhook or both', input: undefined });
  },
  onObjects,
);

export const environmentReconcileSchema = strictObject({
  selfHeal: z.boolean().default(true),
  prune: z.boolean().default(false),
  pruneLogs: z.boolean().default(false),
  maxPruneShare: z
    .number()
    .refine((value) => Number.isFinite(value) && value > 0 && value <= 1, { error: (issue) => `must be a share of the workloads greater than 0 and at most 1, got ${String(issue.input)}` })
    .default(0.5),
  suspend: z.boolean().default(false),
});
