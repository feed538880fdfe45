import type { PartialDeploymentInput } from '../schema/deployment.js';
import { environmentDefaultsSchema, type EnvironmentDefaultsInput } from '../schema/environment.js';
import type { PartialHealthCheckInput } from '../schema/health-check.js';
import { isPlainObject } from '../schema/values.js';
import type { Deployment, HealthCheck, Scaling } from '../types.js';
import { DEFAULT_SCALE_IN_COOLDOWN_SECONDS, DEFAULT_SCALE_OUT_COOLDOWN_SECONDS, type PartialScalingInput } from '../schema/lifecycle.js';
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

/**
 * A workload's scaling: its own fields over the Environment's `defaults.scaling`. Undefined when
 * neither says to scale, or the workload opts out (`enabled: false`). The loader checked that a
 * merged scaling is complete (merged-rules.ts); an incomplete one reads as no scaling.
 */
export function mergeScaling(defaults: PartialScalingInput | undefined, own: PartialScalingInput | undefined): Scaling | undefined {
  if (!defaults && !own) return undefined;
  const merged = { ...defaults, ...withoutUndefinedFields(own ?? {}) };
  if (merged.enabled === false) return undefined;
  if (merged.minCount === undefined || merged.maxCount === undefined) return undefined;
  const scaling: Scaling = {
    minCount: merged.minCount,
    maxCount: merged.maxCount,
    scaleInCooldownSeconds: merged.scaleInCooldownSeconds ?? DEFAULT_SCALE_IN_COOLDOWN_SECONDS,
    scaleOutCooldownSeconds: merged.scaleOutCooldownSeconds ?? DEFAULT_SCALE_OUT_COOLDOWN_SECONDS,
  };
  if (merged.targetCpuPercent !== undefined) scaling.targetCpuPercent = merged.targetCpuPercent;
  if (merged.targetMemoryPercent !== undefined) scaling.targetMemoryPercent = merged.targetMemoryPercent;
  if (merged.requestsPerTarget !== undefined) scaling.requestsPerTarget = merged.requestsPerTarget;
  return scaling;
}

function withoutUndefinedFields<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
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
