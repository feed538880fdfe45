import {
  ApplicationAutoScalingClient,
  DeleteScalingPolicyCommand,
  DeregisterScalableTargetCommand,
  DescribeScalableTargetsCommand,
  DescribeScalingPoliciesCommand,
  ListTagsForResourceCommand,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
  TagResourceCommand,
} from '@aws-sdk/client-application-auto-scaling';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { SPEC_HASH_TAG, UNKNOWN, type DesiredResource } from '../../../../desired-state/graph.js';
import type { ScalingSpec } from '../../../../desired-state/resources.js';
import { planScaling, resourceLabelOf, scalingReconciler, type LiveScaling } from '../../../../reconcilers/scaling/index.js';
import type { LiveScalingPolicy } from '../../../../src/aws/application-autoscaling.js';
import { MapCache } from '../../../../src/engine/engine.js';
import type { Observation } from '../../../../src/engine/types.js';
import { ENVIRONMENT, HASH, reconcileContext } from '../context.js';

const aasMock = mockClient(ApplicationAutoScalingClient);
afterEach(() => aasMock.reset());
const autoscaling = new ApplicationAutoScalingClient({ region: 'us-east-1' });

const LB = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/shop-frontend/50dc6c495c0c9188';
const TG_A = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop-web-a/73e2d6bc24d8a067';
const TG_B = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop-web-b/1111222233334444';
const LABEL_A = 'app/shop-frontend/50dc6c495c0c9188/targetgroup/shop-web-a/73e2d6bc24d8a067';
const LABEL_B = 'app/shop-frontend/50dc6c495c0c9188/targetgroup/shop-web-b/1111222233334444';
const TARGET_ARN = 'arn:aws:application-autoscaling:us-east-1:123456789012:scalable-target/abc';

const spec = (overrides: Partial<ScalingSpec> = {}): ScalingSpec => ({
  clusterName: 'shop',
  serviceName: 'shop-web',
  resourceId: 'service/shop/shop-web',
  minCapacity: 2,
  maxCapacity: 10,
  scaleInCooldownSeconds: 300,
  scaleOutCooldownSeconds: 60,
  policies: [
    { kind: 'cpu', policyName: 'shop-web-cpu', metric: 'ECSServiceAverageCPUUtilization', targetValue: 60 },
    { kind: 'requests', policyName: 'shop-web-requests', metric: 'ALBRequestCountPerTarget', targetValue: 1000 },
  ],
  ownedPolicyNames: ['shop-web-cpu', 'shop-web-memory', 'shop-web-requests'],
  serviceArn: 'arn:aws:ecs:us-east-1:123456789012:service/shop/shop-web',
  requestCount: { loadBalancerArn: LB, targetGroupArn: TG_A, pairTargetGroupArns: [TG_A, TG_B] },
  ...overrides,
});
const resource = (s: ScalingSpec = spec()): DesiredResource<ScalingSpec> => ({
  id: 'scaling/service/shop/shop-web',
  type: 'scaling',
  name: 'service/shop/shop-web',
  owner: { kind: 'Frontend', name: 'web' },
  tags: { 'converge:environment': ENVIRONMENT },
  spec: s,
  dependsOn: [],
});

const livePolicy = (overrides: Partial<LiveScalingPolicy> = {}): LiveScalingPolicy => ({
  policyName: 'shop-web-cpu',
  resourceId: 'service/shop/shop-web',
  policyType: 'TargetTrackingScaling',
  metric: 'ECSServiceAverageCPUUtilization',
  customMetric: false,
  targetValue: 60,
  scaleInCooldownSeconds: 300,
  scaleOutCooldownSeconds: 60,
  disableScaleIn: false,
  ...overrides,
});
const inSyncPolicies = (): LiveScalingPolicy[] => [livePolicy(), livePolicy({ policyName: 'shop-web-requests', metric: 'ALBRequestCountPerTarget', targetValue: 1000, resourceLabel: LABEL_A })];
const observed = (policies = inSyncPolicies(), range = { minCapacity: 2, maxCapacity: 10 }): Observation<LiveScaling> => ({
  live: { target: { resourceId: 'service/shop/shop-web', arn: TARGET_ARN, ...range }, policies },
  tags: { 'converge:environment': ENVIRONMENT },
});

describe('scaling: resource labels', () => {
  it('joins the final parts of the ALB and target group ARNs; unknown until both are known', () => {
    expect(resourceLabelOf(LB, TG_A)).toBe(LABEL_A);
    expect(resourceLabelOf(LB, UNKNOWN)).toBe(UNKNOWN);
    expect(resourceLabelOf({ $ref: 'load-balancer/x', attr: 'arn' }, TG_A)).toBe(UNKNOWN);
    expect(resourceLabelOf(LB, 'arn:aws:elasticloadbalancing:us-east-1:1:listener/app/x/1/2')).toBe(UNKNOWN);
  });
});

describe('scaling: plan', () => {
  it('creates an absent target with its policies', () => {
    const plan = planScaling(resource(), undefined);
    expect(plan.changes).toHaveLength(1);
    expect(plan.changes[0]).toMatchObject({ action: 'create', payload: { kind: 'create' } });
    expect(plan.changes[0]?.diffs.map((d) => d.field)).toEqual(['minCount', 'maxCount', 'policies.cpu', 'policies.requests']);
  });

  it('has nothing to do when range and policies match', () => {
    const plan = planScaling(resource(), observed());
    expect(plan.changes).toEqual([]);
    expect(plan.outputs).toEqual({ arn: TARGET_ARN, resourceId: 'service/shop/shop-web' });
  });

  it('updates the range with RegisterScalableTarget, named as reconcile.ignore takes them', () => {
    const plan = planScaling(resource(), observed(inSyncPolicies(), { minCapacity: 2, maxCapacity: 4 }));
    expect(plan.changes).toEqual([
      { action: 'update', diffs: [{ field: 'maxCount', desired: 10, live: 4 }], payload: { kind: 'update', registerTarget: true, put: [], delete: [] } },
    ]);
  });

  it('puts a policy whose target value or cooldowns differ, and a missing one', () => {
    const plan = planScaling(resource(), observed([livePolicy({ targetValue: 90, scaleInCooldownSeconds: 10 })]));
    expect(plan.changes[0]?.diffs).toEqual([
      { field: 'policies.cpu.targetValue', desired: 60, live: 90 },
      { field: 'policies.cpu.scaleInCooldown', desired: 300, live: 10 },
      { field: 'policies.requests', desired: expect.stringContaining('ALBRequestCountPerTarget target 1000') as unknown, live: undefined },
    ]);
    expect(plan.changes[0]?.payload).toEqual({ kind: 'update', registerTarget: false, put: ['shop-web-cpu', 'shop-web-requests'], delete: [] });
  });

  it('deletes a policy converge named that is no longer desired, and leaves policies of other names alone', () => {
    const policies = [...inSyncPolicies(), livePolicy({ policyName: 'shop-web-memory', metric: 'ECSServiceAverageMemoryUtilization' })];
    const plan = planScaling(resource(), observed(policies));
    expect(plan.changes).toEqual([
      { action: 'update', diffs: [{ field: 'policies.memory', desired: undefined, live: expect.stringContaining('ECSServiceAverageMemoryUtilization') as unknown }], payload: { kind: 'update', registerTarget: false, put: [], delete: ['shop-web-memory'] } },
    ]);
  });

  it('moves the requests policy to the group CodeDeploy sends traffic to as housekeeping, never drift', () => {
    const live = [livePolicy(), livePolicy({ policyName: 'shop-web-requests', metric: 'ALBRequestCountPerTarget', targetValue: 1000, resourceLabel: LABEL_B })];
    const plan = planScaling(resource(), observed(live));
    expect(plan.changes).toEqual([
      {
        action: 'update',
        diffs: [{ field: 'policies.requests.resourceLabel', desired: LABEL_A, live: LABEL_B }],
        payload: { kind: 'update', registerTarget: false, put: ['shop-web-requests'], delete: [] },
        summary: expect.any(String) as unknown,
        housekeeping: true,
      },
    ]);
  });

  it('reports a label outside the pair (somebody pointed it elsewhere) as a plain update, and ignores an unknown label', () => {
    const elsewhere = 'app/other/1/targetgroup/other/2';
    const live = [livePolicy(), livePolicy({ policyName: 'shop-web-requests', metric: 'ALBRequestCountPerTarget', targetValue: 1000, resourceLabel: elsewhere })];
    const plan = planScaling(resource(), observed(live));
    expect(plan.changes).toHaveLength(1);
    expect(plan.changes[0]?.housekeeping).toBeUndefined();
    const unknown = planScaling(resource(spec({ requestCount: { loadBalancerArn: UNKNOWN, targetGroupArn: UNKNOWN, pairTargetGroupArns: [UNKNOWN, UNKNOWN] } })), observed(live));
    expect(unknown.changes).toEqual([]);
  });
});

describe('scaling: observe, apply, tags, inventory, delete', () => {
  const described = () => {
    aasMock.on(DescribeScalableTargetsCommand).resolves({ ScalableTargets: [{ ResourceId: 'service/shop/shop-web', ScalableTargetARN: TARGET_ARN, MinCapacity: 2, MaxCapacity: 10, ServiceNamespace: 'ecs', ScalableDimension: 'ecs:service:DesiredCount', RoleARN: 'r', CreationTime: new Date() }] });
    aasMock.on(DescribeScalingPoliciesCommand).resolves({
      ScalingPolicies: [
        { PolicyName: 'shop-web-cpu', PolicyARN: 'p1', ResourceId: 'service/shop/shop-web', ServiceNamespace: 'ecs', ScalableDimension: 'ecs:service:DesiredCount', PolicyType: 'TargetTrackingScaling', CreationTime: new Date(), TargetTrackingScalingPolicyConfiguration: { TargetValue: 60, PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' }, ScaleInCooldown: 300, ScaleOutCooldown: 60 } },
        // Same name on another environment's service: not this target's.
        { PolicyName: 'shop-web-cpu', PolicyARN: 'p2', ResourceId: 'service/other/shop-web', ServiceNamespace: 'ecs', ScalableDimension: 'ecs:service:DesiredCount', PolicyType: 'TargetTrackingScaling', CreationTime: new Date() },
      ],
    });
    aasMock.on(ListTagsForResourceCommand).resolves({ Tags: { 'converge:environment': ENVIRONMENT, [SPEC_HASH_TAG]: 'h1' } });
  };

  it('reads targets and policies in one batch each, and serves the tags from the process cache', async () => {
    described();
    const cache = new MapCache();
    const first = (await scalingReconciler.observe([resource()], reconcileContext({ autoscaling }, { cache }))).get(resource().id);
    expect(first?.live.policies.map((p) => p.policyArn)).toEqual(['p1']);
    expect(first).toMatchObject({ tags: { [SPEC_HASH_TAG]: 'h1' }, tagsFromCache: false });
    expect(aasMock.commandCalls(DescribeScalableTargetsCommand)[0]?.args[0].input).toMatchObject({ ServiceNamespace: 'ecs', ResourceIds: ['service/shop/shop-web'] });
    expect(aasMock.commandCalls(DescribeScalingPoliciesCommand)[0]?.args[0].input.PolicyNames).toEqual(['shop-web-cpu', 'shop-web-memory', 'shop-web-requests']);
    const second = (await scalingReconciler.observe([resource()], reconcileContext({ autoscaling }, { cache }))).get(resource().id);
    expect(second?.tagsFromCache).toBe(true);
    expect(aasMock.commandCalls(ListTagsForResourceCommand)).toHaveLength(1);
  });

  it('reads no policies when no target exists', async () => {
    aasMock.on(DescribeScalableTargetsCommand).resolves({ ScalableTargets: [] });
    expect((await scalingReconciler.observe([resource()], reconcileContext({ autoscaling }))).size).toBe(0);
    expect(aasMock.commandCalls(DescribeScalingPoliciesCommand)).toHaveLength(0);
  });

  it('creates: registers with the ownership tags, puts each policy, then records the spec hash', async () => {
    aasMock.on(RegisterScalableTargetCommand).resolves({ ScalableTargetARN: TARGET_ARN });
    const ctx = reconcileContext({ autoscaling });
    const out = await scalingReconciler.apply(resource(), { action: 'create', diffs: [], payload: { kind: 'create' } }, ctx);
    expect(out).toEqual({ arn: TARGET_ARN, resourceId: 'service/shop/shop-web' });
    expect(aasMock.commandCalls(RegisterScalableTargetCommand)[0]?.args[0].input).toMatchObject({ MinCapacity: 2, MaxCapacity: 10, Tags: { 'converge:environment': ENVIRONMENT } });
    expect(aasMock.commandCalls(RegisterScalableTargetCommand)[0]?.args[0].input.Tags?.[SPEC_HASH_TAG]).toBeUndefined();
    const puts = aasMock.commandCalls(PutScalingPolicyCommand).map((c) => c.args[0].input);
    expect(puts.map((p) => [p.PolicyName, p.TargetTrackingScalingPolicyConfiguration?.PredefinedMetricSpecification?.ResourceLabel])).toEqual([
      ['shop-web-cpu', undefined],
      ['shop-web-requests', LABEL_A],
    ]);
    expect(puts[0]?.TargetTrackingScalingPolicyConfiguration).toMatchObject({ TargetValue: 60, ScaleInCooldown: 300, ScaleOutCooldown: 60 });
    expect(aasMock.commandCalls(TagResourceCommand)[0]?.args[0].input).toEqual({ ResourceARN: TARGET_ARN, Tags: { [SPEC_HASH_TAG]: HASH } });
  });

  it('updates: registers again only for the range, puts and deletes by name', async () => {
    aasMock.on(RegisterScalableTargetCommand).resolves({});
    const ctx = reconcileContext({ autoscaling });
    await scalingReconciler.apply(resource(), { action: 'update', diffs: [], payload: { kind: 'update', registerTarget: true, put: ['shop-web-cpu'], delete: ['shop-web-memory'] } }, ctx);
    expect(aasMock.commandCalls(RegisterScalableTargetCommand)[0]?.args[0].input).toMatchObject({ MinCapacity: 2, MaxCapacity: 10, Tags: undefined });
    expect(aasMock.commandCalls(PutScalingPolicyCommand).map((c) => c.args[0].input.PolicyName)).toEqual(['shop-web-cpu']);
    expect(aasMock.commandCalls(DeleteScalingPolicyCommand)[0]?.args[0].input).toMatchObject({ ResourceId: 'service/shop/shop-web', PolicyName: 'shop-web-memory' });
    aasMock.reset();
    await scalingReconciler.apply(resource(), { action: 'update', diffs: [], payload: { kind: 'update', registerTarget: false, put: [], delete: [] } }, ctx);
    expect(aasMock.commandCalls(RegisterScalableTargetCommand)).toHaveLength(0);
  });

  it('recordSpecHash tags the target; readTags reads afresh', async () => {
    aasMock.on(ListTagsForResourceCommand).resolves({ Tags: {} });
    const ctx = reconcileContext({ autoscaling });
    await scalingReconciler.recordSpecHash?.(resource(), { arn: TARGET_ARN }, 'h2', ctx);
    expect(aasMock.commandCalls(TagResourceCommand)[0]?.args[0].input).toEqual({ ResourceARN: TARGET_ARN, Tags: { [SPEC_HASH_TAG]: 'h2' } });
    expect(await scalingReconciler.readTags?.(resource(), observed(), ctx)).toEqual({});
  });

  it('inventory: only this environment\'s targets of the cluster, keyed by graph id; delete deregisters, gone is fine', async () => {
    aasMock.on(DescribeScalableTargetsCommand).resolves({
      ScalableTargets: [
        { ResourceId: 'service/shop/shop-web', ScalableTargetARN: 'arn:1', MinCapacity: 1, MaxCapacity: 2, ServiceNamespace: 'ecs', ScalableDimension: 'ecs:service:DesiredCount', RoleARN: 'r', CreationTime: new Date() },
        { ResourceId: 'service/shop/shop-old', ScalableTargetARN: 'arn:2', MinCapacity: 1, MaxCapacity: 2, ServiceNamespace: 'ecs', ScalableDimension: 'ecs:service:DesiredCount', RoleARN: 'r', CreationTime: new Date() },
        { ResourceId: 'service/shop/hand-made', ScalableTargetARN: 'arn:3', MinCapacity: 1, MaxCapacity: 2, ServiceNamespace: 'ecs', ScalableDimension: 'ecs:service:DesiredCount', RoleARN: 'r', CreationTime: new Date() },
        { ResourceId: 'service/other/shop-web', ScalableTargetARN: 'arn:4', MinCapacity: 1, MaxCapacity: 2, ServiceNamespace: 'ecs', ScalableDimension: 'ecs:service:DesiredCount', RoleARN: 'r', CreationTime: new Date() },
      ],
    });
    aasMock
      .on(ListTagsForResourceCommand, { ResourceARN: 'arn:1' })
      .resolves({ Tags: { 'converge:environment': ENVIRONMENT, 'converge:resource': 'Frontend/web' } })
      .on(ListTagsForResourceCommand, { ResourceARN: 'arn:2' })
      .resolves({ Tags: { 'converge:environment': ENVIRONMENT, 'converge:resource': 'Service/old' } })
      .on(ListTagsForResourceCommand, { ResourceARN: 'arn:3' })
      .resolves({ Tags: { 'converge:environment': 'staging' } });
    const cluster: DesiredResource = { id: 'ecs-cluster/shop', type: 'ecs-cluster', name: 'shop', owner: { kind: 'Environment', name: 'shop' }, tags: {}, spec: { clusterName: 'shop' }, dependsOn: [] };
    const ctx = reconcileContext({ autoscaling }, { graph: [cluster] });
    const owned = await scalingReconciler.inventory!(ctx);
    expect([...owned.keys()]).toEqual(['scaling/service/shop/shop-web', 'scaling/service/shop/shop-old']);
    expect(owned.get('scaling/service/shop/shop-old')).toMatchObject({ type: 'scaling', name: 'service/shop/shop-old', owner: { kind: 'Service', name: 'old' } });
    expect(aasMock.commandCalls(ListTagsForResourceCommand).map((c) => c.args[0].input.ResourceARN)).toEqual(['arn:1', 'arn:2', 'arn:3']);

    aasMock.on(DeregisterScalableTargetCommand).rejectsOnce(Object.assign(new Error('gone'), { name: 'ObjectNotFoundException' }));
    await scalingReconciler.delete!(owned.get('scaling/service/shop/shop-old')!, ctx);
    expect(aasMock.commandCalls(DeregisterScalableTargetCommand)[0]?.args[0].input).toMatchObject({ ServiceNamespace: 'ecs', ResourceId: 'service/shop/shop-old', ScalableDimension: 'ecs:service:DesiredCount' });
  });
});
