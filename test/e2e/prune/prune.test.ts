/**
 * Prune on the emulator: a Service removed from the desired state takes its ECS service,
 * deployment group, NLB listener, target groups and security group with it (its log group stays
 * unless pruneLogs), an unowned look-alike is untouched, and the mass-prune guard holds until a
 * person allows it.
 */
import { CloudWatchLogsClient, CreateLogGroupCommand, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { BatchGetDeploymentGroupsCommand, CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { CreateSecurityGroupCommand, DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import { CreateTargetGroupCommand, DescribeTargetGroupsCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { seedEnvironment, type SeedResult } from '../../../scripts/seed.js';
import { Controller, type CycleSummary } from '../../../src/controller.js';
import { captureLogs } from '../../support/log-capture.js';
import { useMoto } from '../../support/moto.js';

const EXAMPLE = fileURLToPath(new URL('../../../desired-state/examples/shop/', import.meta.url));
const environment = readFileSync(`${EXAMPLE}environment.yaml`, 'utf8').replace('prune: false', 'prune: true');
const services = readFileSync(`${EXAMPLE}services.yaml`, 'utf8');
const [users = '', billing = ''] = services.split(/^---\n/m);

describe('prune (moto)', () => {
  const moto = useMoto({ setProcessEnv: true, env: { MOTO_ACM_VALIDATION_WAIT: '0', CONVERGE_EMULATOR_DEPLOY_STEPS: '0' } });
  let seed: SeedResult;
  let controller: Controller;

  const upload = async (file: string, body: string): Promise<void> => {
    const s3 = new S3Client({ ...moto.clientConfig, forcePathStyle: true });
    await s3.send(new PutObjectCommand({ Bucket: seed.bucket, Key: `${seed.prefix}${file}`, Body: body }));
    s3.destroy();
  };
  const cycle = (mode: 'plan' | 'apply', allowMassPrune = false): Promise<CycleSummary> => controller.runCycle({ mode, trigger: 'manual', allowMassPrune });
  const applyUntilQuiet = async (allowMassPrune = false): Promise<CycleSummary> => {
    let last = await cycle('apply', allowMassPrune);
    for (let i = 0; i < 5 && (last.awsWrites > 0 || last.outcome === 'progressing'); i += 1) last = await cycle('apply', allowMassPrune);
    return last;
  };
  const deletesOf = (summary: CycleSummary) => summary.resources.filter((r) => r.changes.some((c) => c.action === 'delete'));

  beforeAll(async () => {
    seed = await seedEnvironment({ endpoint: moto.endpoint, documentsDir: EXAMPLE });
    await upload('environment.yaml', environment);
    controller = new Controller({ source: seed.source, log: captureLogs().log });
    const converged = await applyUntilQuiet();
    expect(converged.errors, JSON.stringify(converged.resources.filter((r) => r.state === 'Failed'), null, 2)).toBe(0);
    expect(deletesOf(converged)).toEqual([]);
  }, 180_000);

  it('a converged environment with prune on has nothing to delete, and the inventory costs a few reads', async () => {
    const summary = await cycle('apply');
    expect(deletesOf(summary)).toEqual([]);
    expect(summary.awsWrites).toBe(0);
    console.log(JSON.stringify({ prune: 'steady', awsCalls: summary.awsCalls, callsByOperation: summary.callsByOperation }));
  });

  it('a removed Service takes its resources with it; its log group and an unowned look-alike stay', async () => {
    const ec2 = new EC2Client(moto.clientConfig);
    const elbv2 = new ElasticLoadBalancingV2Client(moto.clientConfig);
    const logs = new CloudWatchLogsClient(moto.clientConfig);
    // Look-alikes converge does not own: named like the environment's, without its tag.
    await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'shop-legacy-tasks', Description: 'not converge', VpcId: seed.vpcId }));
    const lookalikeTg = (await elbv2.send(new CreateTargetGroupCommand({ Name: 'shop-legacy-a', Protocol: 'TCP', Port: 80, VpcId: seed.vpcId, TargetType: 'ip' }))).TargetGroups?.[0];
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/ecs/shop/legacy' }));

    await upload('services.yaml', [users, billing].join('---\n'));
    const plan = await cycle('plan');
    const planned = deletesOf(plan).map((r) => `${r.resource} (${r.changes[0]?.summary ?? ''})`);
    expect(planned.sort()).toEqual(
      [
        'AWS::EC2::SecurityGroup shop-orders-tasks',
        'AWS::ECS::Service shop-orders',
        'AWS::ElasticLoadBalancingV2::Listener shop-services:10003 (TCP 10003)',
        'AWS::ElasticLoadBalancingV2::TargetGroup shop-orders-a',
        'AWS::ElasticLoadBalancingV2::TargetGroup shop-orders-b',
      ].map((r) => `${r} (pruned: Service orders is no longer in the desired state)`),
    );
    expect(plan.prune?.kept).toEqual(['AWS::Logs::LogGroup /ecs/shop/orders']);
    expect(plan.awsWrites).toBe(0);

    const applied = await applyUntilQuiet();
    expect(applied.errors, JSON.stringify(applied.resources.filter((r) => r.state === 'Failed' || r.state === 'Conflict'), null, 2)).toBe(0);

    const ecs = new ECSClient(moto.clientConfig);
    const service = (await ecs.send(new DescribeServicesCommand({ cluster: 'shop', services: ['shop-orders'] }))).services?.[0];
    expect(service === undefined || service.status !== 'ACTIVE').toBe(true);
    const cd = new CodeDeployClient(moto.clientConfig);
    const groups = await cd.send(new BatchGetDeploymentGroupsCommand({ applicationName: 'shop', deploymentGroupNames: ['billing', 'users'] }));
    expect(groups.deploymentGroupsInfo?.map((g) => g.deploymentGroupName).sort()).toEqual(['billing', 'users']);
    const tgNames = ((await elbv2.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? []).map((t) => t.TargetGroupName);
    expect(tgNames).not.toContain('shop-orders-a');
    expect(tgNames).not.toContain('shop-orders-b');
    expect(tgNames).toContain('shop-users-a');
    expect(tgNames).toContain(lookalikeTg?.TargetGroupName);
    const sgNames = ((await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [seed.vpcId] }] }))).SecurityGroups ?? []).map((g) => g.GroupName);
    expect(sgNames).not.toContain('shop-orders-tasks');
    expect(sgNames).toEqual(expect.arrayContaining(['shop-users-tasks', 'shop-legacy-tasks']));
    const logGroups = ((await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/ecs/shop/' }))).logGroups ?? []).map((g) => g.logGroupName);
    expect(logGroups).toEqual(expect.arrayContaining(['/ecs/shop/orders', '/ecs/shop/legacy']));

    const quiet = await cycle('apply');

    expect(deletesOf(quiet)).toEqual([]);
    expect(quiet.awsWrites, JSON.stringify(quiet.callsByOperation)).toBe(0);
    for (const client of [ec2, elbv2, logs, ecs, cd]) client.destroy();
  }, 120_000);

  it('refuses to prune more than maxPruneShare of the workloads until a person allows it', async () => {
    // Both remaining Services at once: 2 of 4 workloads is the default limit (0.5); with maxPruneShare 0.4 it is past it.
    await upload('environment.yaml', environment.replace('prune: true', 'prune: true\n    maxPruneShare: 0.4'));
    await upload('services.yaml', '');
    const refused = await cycle('apply');
    expect(refused.prune?.refused).toMatch(/prune refused: it would delete 2 of 4 workloads \(Service\/billing, Service\/users\)/);
    // Their deployment groups go with them once allowed (checked below through the services).
    expect(refused.outcome).toBe('error');
    const ecs = new ECSClient(moto.clientConfig);
    const live = async (): Promise<string[]> =>
      ((await ecs.send(new DescribeServicesCommand({ cluster: 'shop', services: ['shop-users', 'shop-billing'] }))).services ?? []).filter((s) => s.status === 'ACTIVE').map((s) => s.serviceName ?? '');
    expect((await live()).sort()).toEqual(['shop-billing', 'shop-users']);

    const allowed = await applyUntilQuiet(true);
    expect(allowed.errors).toBe(0);
    expect(await live()).toEqual([]);
    ecs.destroy();
  }, 120_000);
});
