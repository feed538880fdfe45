/** The specs of the three workload kinds: Service, Gateway and Frontend. */
import { z } from 'zod';
import { containerSchema } from './container.js';
import { partialDeploymentSchema } from './deployment.js';
import { strictObject, wholeNumber } from './field-rules.js';
import { gatewaySettingsSchema } from './gateway-settings.js';
import { partialHealthCheckSchema } from './health-check.js';
import { routeSchema } from './route.js';
import { logRetentionSchema, roleArnSchema } from './shared-fields.js';
import { partialScalingSchema, workloadReconcileSchema } from './lifecycle.js';

export const DEFAULT_DESIRED_COUNT = 1;

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
  scaling: partialScalingSchema.optional(),
  /** true: observe and report this workload only, write nothing for it. */
  suspend: z.boolean().default(false),
  reconcile: workloadReconcileSchema.prefault({}),
};

export const serviceSpecSchema = strictObject({
  ...workloadFields,
  listenerPort: listenerPortSchema,
  routes: z.array(routeSchema).default([]),
});

export const gatewaySpecSchema = strictObject({
  ...workloadFields,
  settings: gatewaySettingsSchema.prefault({}),
});

export const frontendSpecSchema = strictObject(workloadFields);

export type ServiceSpecInput = z.output<typeof serviceSpecSchema>;
export type GatewaySpecInput = z.output<typeof gatewaySpecSchema>;
export type FrontendSpecInput = z.output<typeof frontendSpecSchema>;
