/**
 * zod schemas for the four document kinds, one document at a time. Cross-document rules
 * and the merging of Environment defaults live in parse.ts.
 *
 * Every message is written for a person reading it next to a field path, and never
 * quotes a value that could be secret.
 */
import { z } from 'zod';
import { DOCUMENT_KINDS } from './types.js';
import type { Deployment, HealthCheck } from './types.js';

export const API_VERSION = 'converge/v1';

export const NAME_PATTERN = /^[a-z][a-z0-9-]*[a-z0-9]$/;
export const MAX_NAME_LENGTH = 40;

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;
/** KrakenD endpoints take only these; HEAD and OPTIONS stay valid in CORS settings. */
export const ROUTE_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** Task memory (MiB) Fargate offers for each task cpu value (aws-facts.md section 11). */
export const FARGATE_MEMORY: ReadonlyMap<number, readonly number[]> = new Map([
  [256, [512, 1024, 2048]],
  [512, steps(1024, 4096, 1024)],
  [1024, steps(2048, 8192, 1024)],
  [2048, steps(4096, 16384, 1024)],
  [4096, steps(8192, 30720, 1024)],
  [8192, steps(16384, 61440, 4096)],
  [16384, steps(32768, 122880, 8192)],
]);

export const ECS_DEPLOYMENT_CONFIGS = [
  'ECSAllAtOnce',
  'ECSLinear10PercentEvery1Minutes',
  'ECSLinear10PercentEvery3Minutes',
  'ECSCanary10Percent5Minutes',
  'ECSCanary10Percent15Minutes',
] as const;
const PREDEFINED_PREFIX = 'CodeDeployDefault.';

/** Paths KrakenD serves itself; a route there would shadow them or be shadowed. */
export const RESERVED_PATHS = ['/__health', '/__debug', '/__echo', '/__catchall', '/__stats'] as const;

export const GATEWAY_HEALTH_PATH = '/__health';
export const DEFAULT_LOG_RETENTION_DAYS = 30;
export const DEFAULT_HEALTH_CHECK: Readonly<HealthCheck> = {
  path: '/health',
  intervalSeconds: 30,
  timeoutSeconds: 5,
  matcher: '200-399',
  healthyThreshold: 2,
  unhealthyThreshold: 3,
};
export const DEFAULT_DEPLOYMENT: Readonly<Deployment> = {
  strategy: 'blue-green',
  config: 'CodeDeployDefault.ECSAllAtOnce',
  terminateBlueAfterMinutes: 5,
  autoRollback: true,
  allowReplacement: false,
  alarms: [],
};
export const DEFAULT_DESIRED_COUNT = 1;
export const DEFAULT_INGRESS_CIDRS: readonly string[] = ['0.0.0.0/0'];
/** converge adds converge:environment and converge:resource to AWS's 50 tags per resource. */
export const MAX_LABELS = 48;

function steps(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let value = from; value <= to; value += step) out.push(value);
  return out;
}

// ---------------------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------------------

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Quotes a value that is safe to show (never used for env values or secrets). */
export function quote(value: unknown): string {
  const text = typeof value === 'string' ? value : String(value);
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);
}

function editDistance(a: string, b: string): number {
  const previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    let diagonal = previous[0] ?? 0;
    previous[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const above = previous[j] ?? 0;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      previous[j] = Math.min(above + 1, (previous[j - 1] ?? 0) + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return previous[b.length] ?? 0;
}

export function closestName(input: string, candidates: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of candidates) {
    const distance = name.toLowerCase() === input.toLowerCase() ? 0 : editDistance(input, name);
    if (distance <= 2 && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

function unknownFieldMessage(key: string, known: readonly string[]): string {
  const suggestion = closestName(key, known);
  const hint = suggestion ? `did you mean "${suggestion}"?` : `allowed: ${known.join(', ')}`;
  return `unknown field "${key}" (${hint})`;
}

/**
 * Rules over several fields run whenever the value is an object or a list (zod would skip
 * them after any type error elsewhere); each rule then checks that its own fields passed.
 */
const onObjects = { when: (payload: z.core.ParsePayload) => isPlainObject(payload.value) };
const onLists = { when: (payload: z.core.ParsePayload) => Array.isArray(payload.value) };

function isPrefix(shorter: readonly PropertyKey[], longer: readonly PropertyKey[]): boolean {
  return shorter.length <= longer.length && shorter.every((key, index) => key === longer[index]);
}

/** Whether the fields at these paths (relative to the object being refined) passed validation. */
function fieldsValid(ctx: z.core.$RefinementCtx, ...paths: readonly PropertyKey[][]): boolean {
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
function strictObject<T extends z.core.$ZodLooseShape>(shape: T) {
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
function wholeNumber(min: number, max: number, options: { unit?: string; whenMissing?: string } = {}) {
  const suffix = options.unit ? ` ${options.unit}` : '';
  const whenMissing = options.whenMissing;
  const typeError = whenMissing === undefined ? {} : { error: (issue: { input: unknown }) => (issue.input === undefined ? whenMissing : undefined) };
  return z.number(typeError).refine((value) => Number.isInteger(value) && value >= min && value <= max, {
    error: (issue) => `must be a whole number from ${min} to ${max}${suffix}, got ${String(issue.input)}`,
  });
}

function positiveNumber() {
  return z.number().refine((value) => value > 0, { error: (issue) => `must be greater than 0, got ${String(issue.input)}` });
}

function nonEmptyString(what = 'value') {
  return z.string().refine((value) => value.trim() !== '', { error: `the ${what} must not be empty` });
}

function patternString(pattern: RegExp, message: (value: string) => string) {
  return z.string().refine((value) => pattern.test(value), { error: (issue) => message(String(issue.input)) });
}

function uniqueItems(what: string) {
  return (items: readonly unknown[], ctx: z.core.$RefinementCtx): void => {
    const seen = new Set<string>();
    items.forEach((item, index) => {
      const key = JSON.stringify(item);
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [index], message: `duplicate ${what} ${key}`, input: undefined });
      seen.add(key);
    });
  };
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T, what: string) {
  return z.enum(values, {
    error: (issue) => {
      const given = typeof issue.input === 'string' ? quote(issue.input) : describeValue(issue.input);
      return `${what} must be one of ${values.join(', ')}, got ${given}`;
    },
  });
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

// ---------------------------------------------------------------------------------------
// Field rules shared by several kinds
// ---------------------------------------------------------------------------------------

export const nameSchema = z.string().refine((name) => name.length <= MAX_NAME_LENGTH && NAME_PATTERN.test(name), {
  error: (issue) =>
    `must be 2 to ${MAX_NAME_LENGTH} characters of lowercase letters, digits and "-", start with a letter and end with a letter or digit (it prefixes AWS names), got ${quote(issue.input)}`,
});

const TAG_CHARACTERS = /^[\p{L}\p{N}\p{Zs}+\-=._:/@]*$/u;
const TAG_CHARACTER_TEXT = 'letters, digits, spaces and + - = . _ : / @';

function labelKeyProblem(key: string): string | undefined {
  if (key.length < 1 || key.length > 128) return `label key ${quote(key)} must be 1 to 128 characters (an AWS tag key)`;
  if (!TAG_CHARACTERS.test(key)) return `label key ${quote(key)} may only contain ${TAG_CHARACTER_TEXT} (an AWS tag key)`;
  const lower = key.toLowerCase();
  if (lower.startsWith('aws:')) return `label key ${quote(key)} may not start with "aws:" (reserved by AWS)`;
  if (lower.startsWith('converge:')) return `label key ${quote(key)} may not start with "converge:" (reserved for converge's ownership tags)`;
  return undefined;
}

function labelValueProblem(key: string, value: string): string | undefined {
  if (value.length > 256) return `the value of label ${quote(key)} must be at most 256 characters (an AWS tag value)`;
  if (!TAG_CHARACTERS.test(value)) return `the value of label ${quote(key)} may only contain ${TAG_CHARACTER_TEXT} (an AWS tag value)`;
  return undefined;
}

const labelsSchema = z.record(z.string(), z.string()).superRefine(
  (labels, ctx) => {
    const entries = Object.entries(labels);
    if (entries.length > MAX_LABELS) {
      ctx.addIssue({ code: 'custom', message: `at most ${MAX_LABELS} labels (AWS allows 50 tags and converge adds 2), got ${entries.length}`, input: undefined });
    }
    for (const [key, value] of entries) {
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

const LOG_RETENTION_TEXT = LOG_RETENTION_DAYS.join(', ');
const logRetentionSchema = z.number().refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), {
  error: (issue) => `must be one of the CloudWatch Logs retention periods ${LOG_RETENTION_TEXT} (days), got ${String(issue.input)}`,
});

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[A-Za-z0-9+=,.@_/-]{1,512}$/;
const roleArnSchema = patternString(ROLE_ARN, () => 'must be an IAM role ARN like arn:aws:iam::123456789012:role/my-role');

// --- health checks --------------------------------------------------------------------

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

/** The message for a timeout that is not below the interval; parse.ts reuses it after merging. */
export function timeoutProblem(timeoutSeconds: number, intervalSeconds: number): string | undefined {
  if (timeoutSeconds < intervalSeconds) return undefined;
  return `timeoutSeconds (${timeoutSeconds}) must be less than intervalSeconds (${intervalSeconds})`;
}

const fullHealthCheckSchema = strictObject({
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

// --- deployments --------------------------------------------------------------------

const CUSTOM_CONFIG_NAME = /^[A-Za-z0-9.@_+=,-]{1,100}$/;
const PREDEFINED_CONFIGS = ECS_DEPLOYMENT_CONFIGS.map((name) => `${PREDEFINED_PREFIX}${name}`);

export function deploymentConfigProblem(config: string): string | undefined {
  if (config.startsWith(PREDEFINED_PREFIX)) {
    if (PREDEFINED_CONFIGS.includes(config)) return undefined;
    return `${quote(config)} is not a predefined CodeDeploy config for ECS; use one of ${PREDEFINED_CONFIGS.join(', ')} or the name of a custom config`;
  }
  if ((ECS_DEPLOYMENT_CONFIGS as readonly string[]).includes(config)) {
    return `predefined configs carry the prefix "${PREDEFINED_PREFIX}": did you mean "${PREDEFINED_PREFIX}${config}"?`;
  }
  if (!CUSTOM_CONFIG_NAME.test(config)) {
    return `must be a CodeDeploy deployment config name: 1 to 100 letters, digits or . @ _ + = , -, got ${quote(config)}`;
  }
  return undefined;
}

/** Canary and linear configs shift traffic gradually, which CodeDeploy can only do behind an ALB. */
export function isGradualConfig(config: string): boolean {
  return config.includes('Canary') || config.includes('Linear');
}

const alarmNameSchema = z.string().refine((name) => name.length >= 1 && name.length <= 255 && !/\p{Cc}/u.test(name), {
  error: 'a CloudWatch alarm name must be 1 to 255 characters without control characters',
});

const deploymentFields = {
  strategy: oneOf(['blue-green', 'rolling'], 'the strategy'),
  config: z.string().superRefine((config, ctx) => {
    const problem = deploymentConfigProblem(config);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, input: undefined });
  }),
  terminateBlueAfterMinutes: wholeNumber(0, 2880, { unit: 'minutes' }),
  autoRollback: z.boolean(),
  allowReplacement: z.boolean(),
  alarms: z
    .array(alarmNameSchema)
    .refine((alarms) => alarms.length <= 10, { error: 'at most 10 alarms per deployment (a CodeDeploy limit)', ...onLists })
    .superRefine(uniqueItems('alarm'), onLists),
};

const fullDeploymentSchema = strictObject({
  strategy: deploymentFields.strategy.default(DEFAULT_DEPLOYMENT.strategy),
  config: deploymentFields.config.default(DEFAULT_DEPLOYMENT.config),
  terminateBlueAfterMinutes: deploymentFields.terminateBlueAfterMinutes.default(DEFAULT_DEPLOYMENT.terminateBlueAfterMinutes),
  autoRollback: deploymentFields.autoRollback.default(DEFAULT_DEPLOYMENT.autoRollback),
  allowReplacement: deploymentFields.allowReplacement.default(DEFAULT_DEPLOYMENT.allowReplacement),
  alarms: deploymentFields.alarms.default([]),
});

export const partialDeploymentSchema = strictObject({
  strategy: deploymentFields.strategy.optional(),
  config: deploymentFields.config.optional(),
  terminateBlueAfterMinutes: deploymentFields.terminateBlueAfterMinutes.optional(),
  autoRollback: deploymentFields.autoRollback.optional(),
  allowReplacement: deploymentFields.allowReplacement.optional(),
  alarms: deploymentFields.alarms.optional(),
});

// --- containers ---------------------------------------------------------------------

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SECRET_ARN = [
  /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/,
  /^arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter\/.+$/,
];

export function isSecretArn(value: string): boolean {
  return SECRET_ARN.some((pattern) => pattern.test(value));
}

function checkEnvNames(variables: Record<string, unknown>, ctx: z.core.$RefinementCtx<Record<string, string>>): void {
  for (const name of Object.keys(variables)) {
    if (!ENV_NAME.test(name)) {
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message: `environment variable name ${quote(name)} must start with a letter or "_" and contain only letters, digits and "_"`,
        input: undefined,
      });
    }
  }
}

const envSchema = z.record(z.string(), z.string()).superRefine(checkEnvNames, onObjects);

const secretsSchema = z.record(z.string(), z.string()).superRefine(
  (secrets, ctx) => {
    checkEnvNames(secrets, ctx);
    for (const [name, value] of Object.entries(secrets)) {
      if (typeof value === 'string' && !isSecretArn(value)) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message:
            'a secret must be the ARN of a Secrets Manager secret (arn:aws:secretsmanager:<region>:<account>:secret:<name>) ' +
            'or an SSM parameter (arn:aws:ssm:<region>:<account>:parameter/<name>), not a plain value (the value is not shown)',
          input: undefined,
        });
      }
    }
  },
  onObjects,
);

const IMAGE = /^[A-Za-z0-9][A-Za-z0-9._/:@#-]{0,254}$/;
const FARGATE_CPUS = [...FARGATE_MEMORY.keys()];

export function memoryProblem(cpu: number, memory: number): string | undefined {
  const allowed = FARGATE_MEMORY.get(cpu);
  if (!allowed || allowed.includes(memory)) return undefined;
  const first = allowed[0] ?? 0;
  const last = allowed[allowed.length - 1] ?? 0;
  const step = (allowed[1] ?? 0) - first;
  const range = cpu === 256 ? allowed.join(', ') : `${first} to ${last} in steps of ${step}`;
  return `Fargate does not offer ${memory} MiB with cpu ${cpu}; with cpu ${cpu} memory must be ${range} MiB`;
}

const containerHealthCheckSchema = strictObject({
  command: z
    .array(z.string())
    .refine((command) => command.length >= 2 && (command[0] === 'CMD' || command[0] === 'CMD-SHELL'), {
      error: 'must start with "CMD" (run the arguments directly) or "CMD-SHELL" (run a shell command), followed by the command, e.g. ["CMD-SHELL", "curl -f http://localhost:8000/health || exit 1"]',
    }),
  intervalSeconds: wholeNumber(5, 300, { unit: 'seconds' }).default(30),
  timeoutSeconds: wholeNumber(2, 60, { unit: 'seconds' }).default(5),
  retries: wholeNumber(1, 10).default(3),
  startPeriodSeconds: wholeNumber(0, 300, { unit: 'seconds' }).default(0),
});

export const containerSchema = strictObject({
  image: patternString(IMAGE, () => 'must be a container image reference like registry/repository:tag (at most 255 characters, no spaces)'),
  port: wholeNumber(1, 65535),
  cpu: z.number().refine((cpu) => FARGATE_MEMORY.has(cpu), {
    error: (issue) => `must be one of the Fargate cpu sizes ${FARGATE_CPUS.join(', ')} (1024 = 1 vCPU), got ${String(issue.input)}`,
  }),
  memory: wholeNumber(512, 122880, { unit: 'MiB' }),
  env: envSchema.default({}),
  secrets: secretsSchema.default({}),
  command: z.array(z.string()).refine((command) => command.length > 0, { error: 'must not be empty; leave it out to use the image default' }).optional(),
  healthCheck: containerHealthCheckSchema.optional(),
}).superRefine((container, ctx) => {
  if (!fieldsValid(ctx, ['cpu'], ['memory'])) return;
  const problem = memoryProblem(container.cpu, container.memory);
  if (problem) ctx.addIssue({ code: 'custom', path: ['memory'], message: problem, input: undefined });
}, onObjects).superRefine(
  (container, ctx) => {
    // Only the names matter here, so invalid values elsewhere in env or secrets do not hide this.
    if (!isPlainObject(container.env) || !isPlainObject(container.secrets)) return;
    for (const name of Object.keys(container.secrets)) {
      if (Object.hasOwn(container.env, name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['env', name],
          message: `${name} is set both in env and in secrets; keep it in one of them`,
          input: undefined,
        });
      }
    }
  },
  onObjects,
);

// --- routes -------------------------------------------------------------------------

const PLACEHOLDER_SEGMENT = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/;
// `:` and `*` open parameters in the gateway's router, so a literal segment may not start with them.
const LITERAL_SEGMENT = /^[A-Za-z0-9._~!$&'()+,;=@%-][A-Za-z0-9._~!$&'()+,;=:@%-]*$/;

export interface PathSegment {
  /** The placeholder's name, or undefined for a literal segment. */
  placeholder?: string;
  text: string;
}

export function pathSegments(path: string): PathSegment[] {
  return path
    .split('/')
    .slice(1)
    .map((text) => {
      const placeholder = PLACEHOLDER_SEGMENT.exec(text)?.[1];
      return placeholder === undefined ? { text } : { text, placeholder };
    });
}

export function placeholdersOf(path: string): string[] {
  return pathSegments(path).flatMap((segment) => (segment.placeholder === undefined ? [] : [segment.placeholder]));
}

function segmentProblem(segment: string): string | undefined {
  if (PLACEHOLDER_SEGMENT.test(segment)) return undefined;
  if (segment.includes('{') || segment.includes('}')) {
    return `placeholders must be a whole path segment named with letters, digits and "_" (not starting with a digit), like /users/{id}; got segment ${quote(segment)}`;
  }
  if (!LITERAL_SEGMENT.test(segment)) {
    return `segment ${quote(segment)} may contain letters, digits and - . _ ~ ! $ & ' ( ) + , ; = : @ %, and may not start with ":"`;
  }
  return undefined;
}

export function routePathProblem(path: string, options: { allowTrailingSlash: boolean }): string | undefined {
  if (!path.startsWith('/')) return `must start with "/", got ${quote(path)}`;
  if (path === '/') return undefined;
  const segments = path.split('/').slice(1);
  const last = segments.length - 1;
  for (const [index, segment] of segments.entries()) {
    if (segment === '' && index === last) {
      if (options.allowTrailingSlash) continue;
      return `must not end with "/", got ${quote(path)}`;
    }
    if (segment === '') return `must not contain an empty segment ("//"), got ${quote(path)}`;
    const problem = segmentProblem(segment);
    if (problem) return problem;
  }
  const names = placeholdersOf(path);
  const repeated = names.find((name, index) => names.indexOf(name) !== index);
  if (repeated) return `placeholder {${repeated}} appears twice in ${quote(path)}`;
  return undefined;
}

export function reservedPathProblem(path: string): string | undefined {
  const reserved = RESERVED_PATHS.find((prefix) => path === prefix || path.startsWith(`${prefix}/`));
  if (!reserved) return undefined;
  return `${quote(path)} is under ${reserved}, which the gateway reserves for itself (${RESERVED_PATHS.join(', ')})`;
}

const routePathSchema = z.string().superRefine((path, ctx) => {
  const problem = routePathProblem(path, { allowTrailingSlash: false }) ?? reservedPathProblem(path);
  if (problem) ctx.addIssue({ code: 'custom', message: problem, input: undefined });
});

const backendPathSchema = z.string().superRefine((path, ctx) => {
  const problem = routePathProblem(path, { allowTrailingSlash: true });
  if (problem) ctx.addIssue({ code: 'custom', message: problem, input: undefined });
});

function methodListSchema<const T extends readonly [string, ...string[]]>(allowed: T, what: string) {
  return z
    .array(oneOf(allowed, what))
    .refine((methods) => methods.length > 0, { error: `needs at least one method (${allowed.join(', ')})`, ...onLists })
    .superRefine(uniqueItems('method'), onLists);
}
const methodsSchema = methodListSchema(HTTP_METHODS, 'an HTTP method');
const routeMethodsSchema = methodListSchema(ROUTE_METHODS, 'a method the gateway routes');

export const routeSchema = strictObject({
  path: routePathSchema,
  methods: routeMethodsSchema,
  backendPath: backendPathSchema.optional(),
}).superRefine(
  (route, ctx) => {
    if (route.backendPath === undefined || !fieldsValid(ctx, ['path'], ['backendPath'])) return;
    const defined = new Set(placeholdersOf(route.path));
    const missing = placeholdersOf(route.backendPath).filter((name) => !defined.has(name));
    if (missing.length === 0) return;
    const names = missing.map((name) => `{${name}}`).join(', ');
    const available = defined.size === 0 ? 'it defines none' : `it defines ${[...defined].map((name) => `{${name}}`).join(', ')}`;
    ctx.addIssue({ code: 'custom', path: ['backendPath'], message: `uses ${names}, which path ${quote(route.path)} does not define (${available})`, input: undefined });
  },
  onObjects,
);

// --- workloads ----------------------------------------------------------------------

export const listenerPortSchema = wholeNumber(1024, 65535, {
  whenMissing: 'a Service needs a listenerPort: its port on the internal NLB, 1024 to 65535 and unique per Service',
});

const workloadFields = {
  container: containerSchema,
  desiredCount: wholeNumber(0, 5000).default(DEFAULT_DESIRED_COUNT),
  healthCheck: partialHealthCheckSchema.optional(),
  deployment: partialDeploymentSchema.optional(),
  logRetentionDays: logRetentionSchema.optional(),
  taskRoleArn: roleArnSchema.optional(),
};

export const serviceSpecSchema = strictObject({
  ...workloadFields,
  listenerPort: listenerPortSchema,
  routes: z.array(routeSchema).default([]),
});

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

const gatewaySettingsSchema = strictObject({
  timeout: durationSchema
    .refine((duration) => !isZeroDuration(duration), { error: 'must be longer than 0s' })
    .default('3s'),
  cacheTTL: durationSchema.default('0s'),
  cors: corsSchema.optional(),
  rateLimit: rateLimitSchema.optional(),
});

export const gatewaySpecSchema = strictObject({
  ...workloadFields,
  settings: gatewaySettingsSchema.prefault({}),
});

export const frontendSpecSchema = strictObject(workloadFields);

// --- environment --------------------------------------------------------------------

const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
const ZONE_ID = /^Z[A-Z0-9]{1,31}$/;
const CERTIFICATE_ARN = /^arn:aws[a-z-]*:acm:([a-z0-9-]+):\d{12}:certificate\/[A-Za-z0-9-]+$/;
const CLUSTER_NAME = /^[A-Za-z0-9_-]{1,255}$/;

const regionSchema = patternString(REGION, (value) => `must be an AWS region like us-east-1, got ${quote(value)}`);

const dnsNameSchema = patternString(
  DNS_NAME,
  (value) => `must be a DNS name in lowercase like api.example.com (labels of letters, digits and "-", no trailing dot), got ${quote(value)}`,
);

export function certificateRegion(arn: string): string | undefined {
  return CERTIFICATE_ARN.exec(arn)?.[1];
}

/** The problem with an IPv4 CIDR, or undefined. Host bits must be zero so live rules compare equal. */
export function cidrProblem(cidr: string): string | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  const octets = match ? match.slice(1, 5).map(Number) : [];
  const prefix = Number(match?.[5]);
  const valid = match !== null && octets.every((octet, i) => octet <= 255 && String(octet) === match[i + 1]) && prefix <= 32;
  if (!valid) return `must be an IPv4 CIDR like 203.0.113.0/24, got ${quote(cidr)}`;
  const address = octets.reduce((sum, octet) => sum * 256 + octet, 0);
  const size = 2 ** (32 - prefix);
  const network = address - (address % size);
  if (network === address) return undefined;
  const canonical = [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256).join('.');
  return `${quote(cidr)} has host bits set; write ${canonical}/${prefix}`;
}

const loadBalancerSchema = strictObject({
  domain: dnsNameSchema,
  certificateArn: z.string().refine((value) => value === 'auto' || CERTIFICATE_ARN.test(value), {
    error: 'must be "auto" (request and DNS-validate a certificate) or an ACM certificate ARN like arn:aws:acm:us-east-1:123456789012:certificate/<id>',
  }),
  ingressCidrs: z
    .array(
      z.string().superRefine((cidr, ctx) => {
        const problem = cidrProblem(cidr);
        if (problem) ctx.addIssue({ code: 'custom', message: problem, input: undefined });
      }),
    )
    .refine((cidrs) => cidrs.length > 0, { error: 'needs at least one CIDR; leave the field out to admit everyone (0.0.0.0/0)', ...onLists })
    .superRefine(uniqueItems('CIDR'), onLists)
    .default([...DEFAULT_INGRESS_CIDRS]),
});

function exactlyOne<K extends string>(keys: readonly [K, K], what: string) {
  return (ref: Partial<Record<K, unknown>>, ctx: z.core.$RefinementCtx): void => {
    const present = keys.filter((key) => ref[key] !== undefined);
    if (present.length !== 1) {
      ctx.addIssue({ code: 'custom', message: `${what} must have exactly one of ${keys.join(' or ')}`, input: undefined });
    }
  };
}

function awsRefSchema(resource: 'vpc' | 'subnet') {
  const idPattern = new RegExp(`^${resource}-[0-9a-f]+$`);
  return strictObject({
    id: patternString(idPattern, (value) => `must be a ${resource} id like ${resource}-0123456789abcdef0, got ${quote(value)}`).optional(),
    name: nonEmptyString('Name tag').optional(),
  }).superRefine(exactlyOne(['id', 'name'], `a ${resource} reference`), onObjects);
}

function subnetListSchema(minimum: number, purpose: string) {
  return z
    .array(awsRefSchema('subnet'))
    .refine((subnets) => subnets.length >= minimum, {
      error: (issue) => `needs at least ${minimum} subnet${minimum === 1 ? '' : 's'} ${purpose}, got ${Array.isArray(issue.input) ? issue.input.length : 0}`,
      ...onLists,
    })
    .superRefine(uniqueItems('subnet'), onLists);
}

const networkSchema = strictObject({
  vpc: awsRefSchema('vpc'),
  privateSubnets: subnetListSchema(1, '(where tasks and the internal NLB run)'),
  publicSubnets: subnetListSchema(2, '(an ALB needs subnets in at least two Availability Zones)'),
});

const dnsSchema = strictObject({
  zone: dnsNameSchema.optional(),
  zoneId: patternString(ZONE_ID, (value) => `must be a Route 53 hosted zone id like Z0123456789ABCDEFGHIJ, got ${quote(value)}`).optional(),
}).superRefine(exactlyOne(['zone', 'zoneId'], 'dns'), onObjects);

export const environmentDefaultsSchema = strictObject({
  logRetentionDays: logRetentionSchema.default(DEFAULT_LOG_RETENTION_DAYS),
  healthCheck: fullHealthCheckSchema.prefault({}),
  deployment: fullDeploymentSchema.prefault({}),
});

type LoadBalancerInput = z.output<typeof loadBalancerSchema>;

function checkLoadBalancers(
  spec: { region: string; dns: { zone?: string }; loadBalancers: { backend: LoadBalancerInput; frontend: LoadBalancerInput } },
  ctx: z.core.$RefinementCtx,
): void {
  // Guards come first, before the values they protect are read (they may be missing or
  // mistyped) and before this rule adds issues of its own.
  const roles = ['backend', 'frontend'] as const;
  const domainPath = (role: (typeof roles)[number]) => ['loadBalancers', role, 'domain'];
  const certificatePath = (role: (typeof roles)[number]) => ['loadBalancers', role, 'certificateArn'];
  const checkZone = roles.filter((role) => fieldsValid(ctx, ['dns'], domainPath(role)));
  const checkRegion = roles.filter((role) => fieldsValid(ctx, ['region'], certificatePath(role)));
  const checkShared = fieldsValid(ctx, domainPath('backend'), domainPath('frontend'));
  const zone = checkZone.length > 0 ? spec.dns.zone : undefined;
  for (const role of checkZone) {
    const name = spec.loadBalancers[role].domain;
    if (zone !== undefined && name !== zone && !name.endsWith(`.${zone}`)) {
      ctx.addIssue({ code: 'custom', path: domainPath(role), message: `${quote(name)} is not inside the hosted zone ${zone}`, input: undefined });
    }
  }
  for (const role of checkRegion) {
    const certRegion = certificateRegion(spec.loadBalancers[role].certificateArn);
    if (certRegion !== undefined && certRegion !== spec.region) {
      const message = `the certificate is in ${certRegion}, but an ALB can only use a certificate from its own region ${spec.region}`;
      ctx.addIssue({ code: 'custom', path: certificatePath(role), message, input: undefined });
    }
  }
  if (checkShared && spec.loadBalancers.backend.domain === spec.loadBalancers.frontend.domain) {
    const message = `the backend and frontend load balancers cannot share the domain ${spec.loadBalancers.backend.domain}`;
    ctx.addIssue({ code: 'custom', path: domainPath('frontend'), message, input: undefined });
  }
}

export const environmentSpecSchema = strictObject({
  region: regionSchema,
  cluster: strictObject({
    name: patternString(CLUSTER_NAME, (value) => `must be 1 to 255 letters, digits, "-" or "_" (an ECS cluster name), got ${quote(value)}`).optional(),
    containerInsights: z.boolean().default(true),
  }).prefault({}),
  network: networkSchema,
  dns: dnsSchema,
  loadBalancers: strictObject({ backend: loadBalancerSchema, frontend: loadBalancerSchema }),
  defaults: environmentDefaultsSchema.prefault({}),
  reconcile: strictObject({ selfHeal: z.boolean().default(true), prune: z.boolean().default(false) }).prefault({}),
  iam: strictObject({
    executionRoleArn: roleArnSchema.optional(),
    taskRoleArn: roleArnSchema.optional(),
    codeDeployRoleArn: roleArnSchema.optional(),
  }).prefault({}),
}).superRefine(checkLoadBalancers, onObjects);

export type EnvelopeInput = z.output<typeof envelopeSchema>;
export type EnvironmentSpecInput = z.output<typeof environmentSpecSchema>;
export type EnvironmentDefaultsInput = z.output<typeof environmentDefaultsSchema>;
export type ServiceSpecInput = z.output<typeof serviceSpecSchema>;
export type GatewaySpecInput = z.output<typeof gatewaySpecSchema>;
export type FrontendSpecInput = z.output<typeof frontendSpecSchema>;
export type ContainerInput = z.output<typeof containerSchema>;
export type RouteInput = z.output<typeof routeSchema>;
export type PartialHealthCheckInput = z.output<typeof partialHealthCheckSchema>;
export type PartialDeploymentInput = z.output<typeof partialDeploymentSchema>;
