import {
  DeleteScalingPolicyCommand,
  DeregisterScalableTargetCommand,
  DescribeScalableTargetsCommand,
  DescribeScalingPoliciesCommand,
  ListTagsForResourceCommand,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
  TagResourceCommand,
  type ApplicationAutoScalingClient,
  type MetricType,
  type ScalingPolicy,
} from '@aws-sdk/client-application-auto-scaling';
import { chunk } from '../util/semaphore.js';
import { awsErrorName } from './errors.js';
import type { TagMap } from './tags.js';

/** converge scales ECS services only: one namespace, one dimension. */
export const ECS_NAMESPACE = 'ecs';
export const ECS_DESIRED_COUNT = 'ecs:service:DesiredCount';

/** DescribeScalableTargets takes at most 50 ResourceIds and answers at most 50 targets a page. */
export const SCALABLE_TARGETS_PER_CALL = 50;
/** DescribeScalingPolicies answers at most 10 policies a page (MaxResults 1 to 10). */
export const SCALING_POLICIES_PER_PAGE = 10;
/** Policy names per DescribeScalingPolicies call (converge's own bound: one request stays small). */
export const POLICY_NAMES_PER_CALL = 50;

export interface LiveScalableTarget {
  resourceId: string;
  arn: string;
  minCapacity?: number;
  maxCapacity?: number;
}

/** A target tracking policy as converge compares it; anything converge does not set is kept for display. */
export interface LiveScalingPolicy {
  policyName: string;
  policyArn?: string;
  resourceId: string;
  policyType: string;
  metric?: string;
  resourceLabel?: string;
  /** A customized metric specification instead of a predefined one. */
  customMetric: boolean;
  targetValue?: number;
  scaleInCooldownSeconds?: number;
  scaleOutCooldownSeconds?: number;
  disableScaleIn: boolean;
}

export interface TargetTrackingInput {
  resourceId: string;
  policyName: string;
  metric: MetricType;
  resourceLabel?: string;
  targetValue: number;
  scaleInCooldownSeconds: number;
  scaleOutCooldownSeconds: number;
}

/** The scalable targets of these ECS services (absent ones are simply not answered). */
export async function describeScalableTargets(client: ApplicationAutoScalingClient, resourceIds: readonly string[]): Promise<LiveScalableTarget[]> {
  const out: LiveScalableTarget[] = [];
  for (const ids of chunk([...new Set(resourceIds)], SCALABLE_TARGETS_PER_CALL)) {
    out.push(...(await describeTargetPages(client, ids)));
  }
  return out;
}

/** Every ECS scalable target of the account and region (the inventory filters it by cluster and tags). */
export async function listEcsScalableTargets(client: ApplicationAutoScalingClient): Promise<LiveScalableTarget[]> {
  return describeTargetPages(client, undefined);
}

async function describeTargetPages(client: ApplicationAutoScalingClient, resourceIds: string[] | undefined): Promise<LiveScalableTarget[]> {
  const out: LiveScalableTarget[] = [];
  let nextToken: string | undefined;
  do {
    const res = await client.send(
      new DescribeScalableTargetsCommand({ ServiceNamespace: ECS_NAMESPACE, ScalableDimension: ECS_DESIRED_COUNT, ResourceIds: resourceIds, MaxResults: SCALABLE_TARGETS_PER_CALL, NextToken: nextToken }),
    );
    for (const t of res.ScalableTargets ?? []) {
      if (!t.ResourceId || !t.ScalableTargetARN) continue;
      out.push({ resourceId: t.ResourceId, arn: t.ScalableTargetARN, minCapacity: t.MinCapacity, maxCapacity: t.MaxCapacity });
    }
    nextToken = res.NextToken ?? undefined;
  } while (nextToken);
  return out;
}

/** The ECS policies with these names, on any resource (the caller filters by ResourceId). */
export async function describeScalingPolicies(client: ApplicationAutoScalingClient, policyNames: readonly string[]): Promise<LiveScalingPolicy[]> {
  const out: LiveScalingPolicy[] = [];
  for (const names of chunk([...new Set(policyNames)], POLICY_NAMES_PER_CALL)) {
    let nextToken: string | undefined;
    do {
      const res = await client.send(
        new DescribeScalingPoliciesCommand({ ServiceNamespace: ECS_NAMESPACE, ScalableDimension: ECS_DESIRED_COUNT, PolicyNames: names, MaxResults: SCALING_POLICIES_PER_PAGE, NextToken: nextToken }),
      );
      for (const p of res.ScalingPolicies ?? []) {
        const live = liveScalingPolicy(p);
        if (live) out.push(live);
      }
      nextToken = res.NextToken ?? undefined;
    } while (nextToken);
  }
  return out;
}

export function liveScalingPolicy(p: ScalingPolicy): LiveScalingPolicy | undefined {
  if (!p.PolicyName || !p.ResourceId) return undefined;
  const config = p.TargetTrackingScalingPolicyConfiguration;
  const predefined = config?.PredefinedMetricSpecification;
  return {
    policyName: p.PolicyName,
    policyArn: p.PolicyARN,
    resourceId: p.ResourceId,
    policyType: p.PolicyType ?? 'unknown',
    metric: predefined?.PredefinedMetricType,
    resourceLabel: predefined?.ResourceLabel,
    customMetric: config?.CustomizedMetricSpecification !== undefined,
    targetValue: config?.TargetValue,
    scaleInCooldownSeconds: config?.ScaleInCooldown,
    scaleOutCooldownSeconds: config?.ScaleOutCooldown,
    disableScaleIn: config?.DisableScaleIn ?? false,
  };
}

/** Registers a new scalable target (with tags) or updates the capacity range of an existing one; answers its ARN. */
export async function registerScalableTarget(
  client: ApplicationAutoScalingClient,
  input: { resourceId: string; minCapacity: number; maxCapacity: number; tags?: TagMap },
): Promise<string | undefined> {
  const res = await client.send(
    new RegisterScalableTargetCommand({
      ServiceNamespace: ECS_NAMESPACE,
      ScalableDimension: ECS_DESIRED_COUNT,
      ResourceId: input.resourceId,
      MinCapacity: input.minCapacity,
      MaxCapacity: input.maxCapacity,
      Tags: input.tags,
    }),
  );
  return res.ScalableTargetARN;
}

/** Deregisters a target, which also deletes its policies and their alarms; one already gone is not an error. */
export async function deregisterScalableTarget(client: ApplicationAutoScalingClient, resourceId: string): Promise<void> {
  try {
    await client.send(new DeregisterScalableTargetCommand({ ServiceNamespace: ECS_NAMESPACE, ScalableDimension: ECS_DESIRED_COUNT, ResourceId: resourceId }));
  } catch (error) {
    if (awsErrorName(error) !== 'ObjectNotFoundException') throw error;
  }
}

/** Creates or replaces one target tracking policy (Application Auto Scaling creates and updates its alarms). */
export async function putTargetTrackingPolicy(client: ApplicationAutoScalingClient, input: TargetTrackingInput): Promise<void> {
  await client.send(
    new PutScalingPolicyCommand({
      ServiceNamespace: ECS_NAMESPACE,
      ScalableDimension: ECS_DESIRED_COUNT,
      ResourceId: input.resourceId,
      PolicyName: input.policyName,
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        TargetValue: input.targetValue,
        PredefinedMetricSpecification: { PredefinedMetricType: input.metric, ResourceLabel: input.resourceLabel },
        ScaleInCooldown: input.scaleInCooldownSeconds,
        ScaleOutCooldown: input.scaleOutCooldownSeconds,
        DisableScaleIn: false,
      },
    }),
  );
}

/** Deletes one policy; one already gone is not an error. */
export async function deleteScalingPolicy(client: ApplicationAutoScalingClient, resourceId: string, policyName: string): Promise<void> {
  try {
    await client.send(new DeleteScalingPolicyCommand({ ServiceNamespace: ECS_NAMESPACE, ScalableDimension: ECS_DESIRED_COUNT, ResourceId: resourceId, PolicyName: policyName }));
  } catch (error) {
    if (awsErrorName(error) !== 'ObjectNotFoundException') throw error;
  }
}

export async function listScalableTargetTags(client: ApplicationAutoScalingClient, arn: string): Promise<TagMap> {
  const res = await client.send(new ListTagsForResourceCommand({ ResourceARN: arn }));
  return res.Tags ?? {};
}

export async function tagScalableTarget(client: ApplicationAutoScalingClient, arn: string, tags: TagMap): Promise<void> {
  await client.send(new TagResourceCommand({ ResourceARN: arn, Tags: tags }));
}
