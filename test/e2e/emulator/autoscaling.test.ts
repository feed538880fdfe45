/**
 * The emulator's Application Auto Scaling (test/emulator/autoscaling_ext.py): tags on scalable
 * targets, which moto lacked, and the refusals AWS makes that moto did not, each checked with the
 * SDK v3 error `name` converge sees.
 */
import {
  ApplicationAutoScalingClient,
  DeregisterScalableTargetCommand,
  DescribeScalingPoliciesCommand,
  ListTagsForResourceCommand,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
  TagResourceCommand,
  UntagResourceCommand,
  type PutScalingPolicyCommandInput,
} from '@aws-sdk/client-application-auto-scaling';
import { CreateClusterCommand, CreateServiceCommand, DeleteServiceCommand, ECSClient, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useMoto } from '../../support/moto.js';

const ECS = { ServiceNamespace: 'ecs', ScalableDimension: 'ecs:service:DesiredCount' } as const;
const LABEL = 'app/shop-frontend/50dc6c495c0c9188/targetgroup/shop-web-a/73e2d6bc24d8a067';

async function refusal(promise: Promise<unknown>): Promise<{ name: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    const e = error as Error;
    return { name: e.name, message: e.message };
  }
  throw new Error('expected AWS to refuse the call');
}

describe('emulated Application Auto Scaling', () => {
  const moto = useMoto();
  let aas: ApplicationAutoScalingClient;
  let ecs: ECSClient;

  const policy = (resourceId: string, spec: Partial<PutScalingPolicyCommandInput['TargetTrackingScalingPolicyConfiguration']> = {}, name = 'p'): PutScalingPolicyCommandInput => ({
    ...ECS,
    ResourceId: resourceId,
    PolicyName: name,
    PolicyType: 'TargetTrackingScaling',
    TargetTrackingScalingPolicyConfiguration: { TargetValue: 50, PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' }, ...spec },
  });

  beforeAll(async () => {
    aas = new ApplicationAutoScalingClient(moto.clientConfig);
    ecs = new ECSClient(moto.clientConfig);
    await ecs.send(new CreateClusterCommand({ clusterName: 'shop' }));
    await ecs.send(new RegisterTaskDefinitionCommand({ family: 'web', containerDefinitions: [{ name: 'web', image: 'nginx', memory: 512 }] }));
    for (const name of ['web', 'api', 'gone']) await ecs.send(new CreateServiceCommand({ cluster: 'shop', serviceName: name, taskDefinition: 'web', desiredCount: 1 }));
    await ecs.send(new DeleteServiceCommand({ cluster: 'shop', service: 'gone', force: true }));
  });

  it('keeps the tags of a new target, lists, adds and removes them by ARN', async () => {
    const { ScalableTargetARN: arn } = await aas.send(new RegisterScalableTargetCommand({ ...ECS, ResourceId: 'service/shop/web', MinCapacity: 1, MaxCapacity: 4, Tags: { 'converge:environment': 'shop' } }));
    expect(arn).toMatch(/^arn:aws:application-autoscaling:us-east-1:\d{12}:scalable-target\//);
    expect((await aas.send(new ListTagsForResourceCommand({ ResourceARN: arn }))).Tags).toEqual({ 'converge:environment': 'shop' });
    // Registering again updates the range, not the tags.
    await aas.send(new RegisterScalableTargetCommand({ ...ECS, ResourceId: 'service/shop/web', MinCapacity: 2, MaxCapacity: 6, Tags: { other: 'x' } }));
    await aas.send(new TagResourceCommand({ ResourceARN: arn, Tags: { 'converge:spec-hash': 'h1' } }));
    await aas.send(new UntagResourceCommand({ ResourceARN: arn, TagKeys: ['converge:environment'] }));
    expect((await aas.send(new ListTagsForResourceCommand({ ResourceARN: arn }))).Tags).toEqual({ 'converge:spec-hash': 'h1' });
    const missing = await refusal(aas.send(new ListTagsForResourceCommand({ ResourceARN: `${arn ?? ''}x` })));
    expect(missing.name).toBe('ResourceNotFoundException');
  });

  it('refuses MinCapacity above MaxCapacity, also against the values a target keeps', async () => {
    expect((await refusal(aas.send(new RegisterScalableTargetCommand({ ...ECS, ResourceId: 'service/shop/api', MinCapacity: 5, MaxCapacity: 2 })))).name).toBe('ValidationException');
    await aas.send(new RegisterScalableTargetCommand({ ...ECS, ResourceId: 'service/shop/api', MinCapacity: 1, MaxCapacity: 3 }));
    expect((await refusal(aas.send(new RegisterScalableTargetCommand({ ...ECS, ResourceId: 'service/shop/api', MinCapacity: 4 })))).name).toBe('ValidationException');
  });

  it('refuses a ResourceId whose ECS service or cluster does not exist, or whose service was deleted', async () => {
    for (const resourceId of ['service/shop/nope', 'service/nocluster/web', 'service/shop/gone']) {
      const refused = await refusal(aas.send(new RegisterScalableTargetCommand({ ...ECS, ResourceId: resourceId, MinCapacity: 1, MaxCapacity: 2 })));
      expect(refused.name, resourceId).toBe('ValidationException');
      expect(refused.message).toContain(resourceId);
    }
  });

  it('refuses a policy on a target that is not registered', async () => {
    expect((await refusal(aas.send(new PutScalingPolicyCommand(policy('service/shop/unregistered')))))).toMatchObject({ name: 'ObjectNotFoundException' });
  });

  it('refuses ALBRequestCountPerTarget without a well-formed ResourceLabel, and a label on another metric', async () => {
    const requests = (label?: string) => policy('service/shop/web', { PredefinedMetricSpecification: { PredefinedMetricType: 'ALBRequestCountPerTarget', ResourceLabel: label } }, 'requests');
    for (const label of [undefined, 'targetgroup/shop-web-a/73e2d6bc24d8a067', 'app/shop-frontend/50dc6c495c0c9188', `${LABEL}/extra`]) {
      expect((await refusal(aas.send(new PutScalingPolicyCommand(requests(label))))).name, String(label)).toBe('ValidationException');
    }
    await aas.send(new PutScalingPolicyCommand(requests(LABEL)));
    const cpuWithLabel = policy('service/shop/web', { PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization', ResourceLabel: LABEL } });
    expect((await refusal(aas.send(new PutScalingPolicyCommand(cpuWithLabel)))).name).toBe('ValidationException');
  });

  it('filters policies by name and exact ResourceId, ten a page; deregistering deletes the policies', async () => {
    await aas.send(new PutScalingPolicyCommand(policy('service/shop/web', {}, 'cpu')));
    await aas.send(new PutScalingPolicyCommand(policy('service/shop/api', {}, 'cpu')));
    const named = await aas.send(new DescribeScalingPoliciesCommand({ ...ECS, PolicyNames: ['cpu'] }));
    expect(named.ScalingPolicies?.map((p) => p.ResourceId).sort()).toEqual(['service/shop/api', 'service/shop/web']);
    const exact = await aas.send(new DescribeScalingPoliciesCommand({ ...ECS, ResourceId: 'service/shop/we' }));
    expect(exact.ScalingPolicies).toEqual([]);
    expect((await refusal(aas.send(new DescribeScalingPoliciesCommand({ ...ECS, MaxResults: 11 })))).name).toBe('ValidationException');

    await aas.send(new DeregisterScalableTargetCommand({ ...ECS, ResourceId: 'service/shop/web' }));
    const left = await aas.send(new DescribeScalingPoliciesCommand({ ...ECS }));
    expect(left.ScalingPolicies?.map((p) => `${p.ResourceId ?? ''}:${p.PolicyName ?? ''}`)).toEqual(['service/shop/api:cpu']);
    expect((await refusal(aas.send(new DeregisterScalableTargetCommand({ ...ECS, ResourceId: 'service/shop/web' })))).name).toBe('ObjectNotFoundException');
  });
});
