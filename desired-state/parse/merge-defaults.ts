import type { PartialDeploymentInput } from '../schema/deployment.js';
import { environmentDefaultsSchema, type EnvironmentDefaultsInput } from '../schema/environment.js';
import type { PartialHealthCheckInput } from '../schema/health-check.js';
import { isPlainObject } from '../schema/values.js';
import type { Deployment, HealthCheck } from '../types.js';
import type { CheckedDocument } from './check-document.js';

/** The Environment's defaults, read even from an Environment that failed elsewhere. */
export function environmentDefaults(checked: readonly CheckedDocument[]): EnvironmentDefaultsInput | undefined {
  const environment = checked.find((c) => c.kind === 'Environment');
  if (!environment) return undefined;
  if (environment.spec) return environment.spec.defaults;
  // The Environment is invalid elsewhere; its defaults may still be usable to check workloads.
  const raw = isPlainObject(environment.doc.value) && isPlainObject(environment.doc.value.spec) ? environment.doc.value.spec.defaults : undefined;
  return environmentDefaultsSchema.safeParse(raw ?? {}).data;
}

/** A workload's own fields win, field by field; the path default differs for the Gateway. */
export function mergeHealthCheck(defaults: HealthCheck, own: PartialHealthCheckInput | undefined, defaultPath: string): HealthCheck {
  return {
    path: own?.path ?? defaultPath,
    intervalSeconds: own?.intervalSeconds ?? defaults.intervalSeconds,
    timeoutSeconds: own?.timeoutSeconds ?? defaults.timeoutSeconds,
    matcher: own?.matcher ?? defaults.matcher,
    healthyThreshold: own?.healthyThreshold ?? defaults.healthyThreshold,
    unhealthyThreshold: own?.unhealthyThreshold ?? defaults.unhealthyThreshold,
  };
}

export function mergeDeployment(defaults: Deployment, own: PartialDeploymentInput | undefined): Deployment {
  return {
    strategy: own?.strategy ?? defaults.strategy,
    config: own?.config ?? defaults.config,
    terminateBlueAfterMinutes: own?.terminateBlueAfterMinutes ?? defaults.terminateBlueAfterMinutes,
    autoRollback: own?.autoRollback ?? defaults.autoRollback,
    allowReplacement: own?.allowReplacement ?? defaults.allowReplacement,
    alarms: [...(own?.alarms ?? defaults.alarms)],
  };
}
