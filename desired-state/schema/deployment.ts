/** How a workload deploys: blue/green through CodeDeploy or an ECS rolling update. */
import { z } from 'zod';
import type { Deployment } from '../types.js';
import { onLists, oneOf, strictObject, uniqueItems, wholeNumber } from './field-rules.js';
import { quote } from './values.js';

export const ECS_DEPLOYMENT_CONFIGS = [
  'ECSAllAtOnce',
  'ECSLinear10PercentEvery1Minutes',
  'ECSLinear10PercentEvery3Minutes',
  'ECSCanary10Percent5Minutes',
  'ECSCanary10Percent15Minutes',
] as const;
const PREDEFINED_PREFIX = 'CodeDeployDefault.';

export const DEFAULT_DEPLOYMENT: Readonly<Deployment> = {
  strategy: 'blue-green',
  config: 'CodeDeployDefault.ECSAllAtOnce',
  terminateBlueAfterMinutes: 5,
  autoRollback: true,
  allowReplacement: false,
  alarms: [],
};

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

export const deploymentStrategySchema = oneOf(['blue-green', 'rolling'], 'the strategy');

const deploymentFields = {
  strategy: deploymentStrategySchema,
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

export const fullDeploymentSchema = strictObject({
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

export type PartialDeploymentInput = z.output<typeof partialDeploymentSchema>;
