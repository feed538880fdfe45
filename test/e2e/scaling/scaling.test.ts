/**
 * Scaling on the emulator: a Service (CPU) and the Frontend (CPU and ALB requests per target)
 * scale through Application Auto Scaling. The count Application Auto Scaling chooses is never
 * drift and never reset, also across a blue/green deployment; range and policies are enforced
 * with drift and ownership like every other type.
 */
import {
  ApplicationAutoScalingClient,
  DescribeScalableTargetsCommand,
  DescribeScalingPoliciesCommand,
  ListTagsForResourceCommand,
  PutScalingPolicyCommand,
  TagResourceCommand,
} from '@aws-sdk/client-application-auto-scaling';
import { DescribeServicesCommand, ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { DescribeListenersCommand, DescribeLoadBalancersCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { seedEnvironment, seedImages, type SeedResult } from '../../../scripts/seed.js';
import { Controller } from '../../../src/controller.js';
import { captureLogs } from '../../support/log-capture.js';
import { useMoto } from '../../support/moto.js';

const EXAMPLE = fileURLToPath(new URL('../../../desired-state/examples/shop/', import.meta.url));
const ECS_TARGETS = { ServiceNamespace: 'ecs', ScalableDimension: 'ecs:service:DesiredCount' } as const;

const USERS_SCALING = '  scaling: { minCount: 1, maxCount: 4, targetCpuPercent: 60 }\n';
const webScaling = (maxCount: number) => `  scaling: { minCount: 2, maxCount: ${maxCount}, targetCpuPercent: 70, requestsPerTarget: 500, scaleInCooldownSeconds: 120 }\n`;

describe('scaling (moto)', () => {
  const moto = useMoto({ setProcessEnv: true, env: { MOTO_ACM_VALIDATION_WAIT: '0', CONVERGE_EMULATOR_DEPLOY_STEPS: '0' } });
  let seeded: SeedResult;
  let aas: ApplicationAutoScalingClient;
  let ecs: ECSClient;
  let frontend = '';

  const cycle = async (mode: 'plan' | 'apply') => {
    const logs = captureLogs();
    const summary = await new Controller({ source: seeded.source, log: logs.log }).runCycle({ mode, trigger: 'manual' });
    return { summary, logs };
  };
  const putDocument = async (file: string, body: string) => {
    await new S3Client({ ...moto.clientConfig, forcePathStyle: true }).send(new PutObjectCommand({ Bucket: seeded.bucket, Key: `${seeded.prefix}${file}`, Body: body }));
  };
  const target = async (service: string) =>
    (await aas.send(new DescribeScalableTargetsCommand({ ...ECS_TARGETS, ResourceIds: [`service/shop/${service}`] }))).ScalableTargets?.[0];
  const policies = async (service: string) =>
    new Map(((await aas.send(new DescribeScalingPoliciesCommand({ ...ECS_TARGETS, ResourceId: `service/shop/${service}` }))).ScalingPolicies ?? []).map((p) => [p.PolicyName ?? '', p]));
  const countOf = async (service: string) => (await ecs.send(new DescribeServicesCommand({ cluster: 'shop', services: [service] }))).services?.[0]?.desiredCount;
  const scalingResult = (summary: Awaited<ReturnType<typeof cycle>>['summary'], service: string) => summary.resources.find((r) => r.id === `scaling/service/shop/${service}`);

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'converge-scaling-'));
    cpSync(EXAMPLE, dir, { recursive: true });
    const services = readFileSync(join(dir, 'services.yaml'), 'utf8');
    writeFileSync(join(dir, 'services.yaml'), services.replace('  listenerPort: 10001\n', `  listenerPort: 10001\n${USERS_SCALING}`));
    frontend = readFileSync(join(dir, 'frontend.yaml'), 'utf8');
    writeFileSync(join(dir, 'frontend.yaml'), `${frontend}${webScaling(6)}`);
    seeded = await seedEnvironment({ endpoint: moto.endpoint, documentsDir: dir });
    aas = new ApplicationAutoScalingClient(moto.clientConfig);
    ecs = new ECSClient(moto.clientConfig);
  });

  it('converges: targets and policies exist with the desired values and ownership tags; a plan right after shows nothing pending', async () => {
    const first = await cycle('apply');
    expect(first.summary.errors, JSON.stringify(first.summary.resources.filter((r) => r.state === 'Failed'), null, 2)).toBe(0);
    const second = await cycle('apply');
    expect(second.summary.outcome, JSON.stringify(second.summary.resources.filter((r) => r.state !== 'InSync'), null, 2)).toBe('converged');

    expect(await target('shop-users')).toMatchObject({ MinCapacity: 1, MaxCapacity: 4 });
    const web = await target('shop-web');
    expect(web).toMatchObject({ MinCapacity: 2, MaxCapacity: 6 });
    const tags = (await aas.send(new ListTagsForResourceCommand({ ResourceARN: web?.ScalableTargetARN }))).Tags;
    expect(tags).toMatchObject({ 'converge:environment': 'shop', 'converge:resource': 'Frontend/web', team: 'storefront' });
    expect(tags?.['converge:spec-hash']).toMatch(/.+/);

    const users = await policies('shop-users');
    expect([...users.keys()]).toEqual(['shop-users-cpu']);
    expect(users.get('shop-users-cpu')?.TargetTrackingScalingPolicyConfiguration).toMatchObject({ TargetValue: 60, ScaleInCooldown: 300, ScaleOutCooldown: 60 });
    const webPolicies = await policies('shop-web');
    expect([...webPolicies.keys()].sort()).toEqual(['shop-web-cpu', 'shop-web-requests']);
    const requests = webPolicies.get('shop-web-requests')?.TargetTrackingScalingPolicyConfiguration;
    expect(requests).toMatchObject({ TargetValue: 500, ScaleInCooldown: 120, PredefinedMetricSpecification: { PredefinedMetricType: 'ALBRequestCountPerTarget' } });
    expect(requests?.PredefinedMetricSpecification?.ResourceLabel).toBe(await liveLabel());

    const plan = await cycle('plan');
    expect(plan.summary.pending).toBe(0);
    expect(plan.logs.ofEvent('drift')).toEqual([]);
  });

  /** The label of the group the frontend ALB's HTTPS listener sends (most) traffic to. */
  async function liveLabel(): Promise<string> {
    const elb = new ElasticLoadBalancingV2Client(moto.clientConfig);
    const lb = (await elb.send(new DescribeLoadBalancersCommand({ Names: ['shop-frontend'] }))).LoadBalancers?.[0];
    const listener = (await elb.send(new DescribeListenersCommand({ LoadBalancerArn: lb?.LoadBalancerArn }))).Listeners?.find((l) => l.Port === 443);
    const groups = listener?.DefaultActions?.[0]?.ForwardConfig?.TargetGroups ?? [];
    const active = [...groups].sort((a, b) => (b.Weight ?? 0) - (a.Weight ?? 0))[0]?.TargetGroupArn ?? listener?.DefaultActions?.[0]?.TargetGroupArn ?? '';
    const lbPart = (lb?.LoadBalancerArn ?? '').split(':loadbalancer/')[1];
    return `${lbPart ?? ''}/${active.slice(active.lastIndexOf(':') + 1)}`;
  }

  it('leaves the count Application Auto Scaling chose alone: no drift, no UpdateService', async () => {
    await ecs.send(new UpdateServiceCommand({ cluster: 'shop', service: 'shop-users', desiredCount: 4 }));
    await ecs.send(new UpdateServiceCommand({ cluster: 'shop', service: 'shop-web', desiredCount: 5 }));
    for (const mode of ['plan', 'apply', 'apply'] as const) {
      const { summary, logs } = await cycle(mode);
      expect(logs.ofEvent('drift'), mode).toEqual([]);
      expect(summary.callsByOperation['ECS:UpdateService'] ?? 0, mode).toBe(0);
      expect(summary.awsWrites, JSON.stringify(summary.callsByOperation)).toBe(0);
    }
    expect(await countOf('shop-users')).toBe(4);
    expect(await countOf('shop-web')).toBe(5);
  });

  it('keeps the count across a blue/green deployment, and the requests policy follows the live target group', async () => {
    const before = await liveLabel();
    // The new image is pushed before the desired state names it (preflight checks it is in ECR).
    await seedImages({ endpoint: moto.endpoint, images: ['123456789012.dkr.ecr.us-east-1.amazonaws.com/web:2.1.0'] });
    await putDocument('frontend.yaml', `${frontend.replace('web:2.0.0', 'web:2.1.0')}${webScaling(6)}`);
    const deploy = await cycle('apply');
    expect(deploy.summary.errors, JSON.stringify(deploy.summary.resources.filter((r) => r.state === 'Failed'), null, 2)).toBe(0);
    const after = await cycle('apply');
    await cycle('apply');
    expect(await liveLabel()).not.toBe(before);
    expect(after.logs.ofEvent('drift')).toEqual([]);
    expect(await countOf('shop-web')).toBe(5);
    expect((await policies('shop-web')).get('shop-web-requests')?.TargetTrackingScalingPolicyConfiguration?.PredefinedMetricSpecification?.ResourceLabel).toBe(await liveLabel());
    const plan = await cycle('plan');
    expect(plan.summary.pending, JSON.stringify(plan.summary.resources.filter((r) => r.changes.length > 0), null, 2)).toBe(0);
  });

  it('updates a changed maxCount as a new revision, not drift', async () => {
    await putDocument('frontend.yaml', `${frontend.replace('web:2.0.0', 'web:2.1.0')}${webScaling(8)}`);
    const { summary, logs } = await cycle('apply');
    expect(logs.ofEvent('drift')).toEqual([]);
    expect(scalingResult(summary, 'shop-web')?.changes).toEqual([expect.objectContaining({ action: 'update', applied: true, diffs: [{ field: 'maxCount', desired: 8, live: 6 }] })]);
    expect(await target('shop-web')).toMatchObject({ MinCapacity: 2, MaxCapacity: 8 });
    expect(await countOf('shop-web')).toBe(5);
  });

  it('reports a policy changed by hand as drift and corrects it', async () => {
    await aas.send(
      new PutScalingPolicyCommand({
        ...ECS_TARGETS,
        ResourceId: 'service/shop/shop-users',
        PolicyName: 'shop-users-cpu',
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: { TargetValue: 90, PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' }, ScaleInCooldown: 300, ScaleOutCooldown: 60 },
      }),
    );
    const plan = await cycle('plan');
    expect(plan.logs.ofEvent('drift')).toEqual([expect.objectContaining({ kind: 'Service', name: 'users', resource: 'AWS::ApplicationAutoScaling::ScalableTarget service/shop/shop-users', field: 'policies.cpu.targetValue', desired: 60, live: 90 })]);
    expect(plan.summary.pending).toBe(1);
    const apply = await cycle('apply');
    expect(apply.summary.errors).toBe(0);
    expect((await policies('shop-users')).get('shop-users-cpu')?.TargetTrackingScalingPolicyConfiguration?.TargetValue).toBe(60);
    expect((await cycle('plan')).summary.pending).toBe(0);
  });

  it("never writes a scalable target that another environment's tags claim (Conflict)", async () => {
    const users = await target('shop-users');
    await aas.send(new TagResourceCommand({ ResourceARN: users?.ScalableTargetARN, Tags: { 'converge:environment': 'staging' } }));
    await putDocument('services.yaml', readFileSync(join(EXAMPLE, 'services.yaml'), 'utf8').replace('  listenerPort: 10001\n', `  listenerPort: 10001\n${USERS_SCALING.replace('maxCount: 4', 'maxCount: 9')}`));
    const { summary, logs } = await cycle('apply');
    expect(scalingResult(summary, 'shop-users')).toMatchObject({ state: 'Conflict' });
    expect(logs.ofEvent('conflict')).toEqual([expect.objectContaining({ resource: 'AWS::ApplicationAutoScaling::ScalableTarget service/shop/shop-users' })]);
    expect(summary.callsByOperation['ApplicationAutoScaling:RegisterScalableTarget'] ?? 0).toBe(0);
    expect(await target('shop-users')).toMatchObject({ MaxCapacity: 4 });
  });
});
