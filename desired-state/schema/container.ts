/** A workload's container: image, Fargate size, environment, secrets and its own health check. */
import { z } from 'zod';
import { fieldsValid, onObjects, patternString, strictObject, wholeNumber } from './field-rules.js';
import { isPlainObject, showKey } from './values.js';

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

function steps(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let value = from; value <= to; value += step) out.push(value);
  return out;
}

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
        message: `environment variable name ${showKey(name)} must start with a letter or "_" and contain only letters, digits and "_"${name.includes('=') ? '; write NAME: value, not NAME=value' : ''}`,
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
          message: `${showKey(name)} is set both in env and in secrets; keep it in one of them`,
          input: undefined,
        });
      }
    }
  },
  onObjects,
);

export type ContainerInput = z.output<typeof containerSchema>;
