/**
 * Prune on the emulator: a Service removed from the desired state takes its ECS service,
 * deployment group, NLB listener, target groups, security group and task definition revisions with
 * it (its log group stays unless pruneLogs), an unowned look-alike is untouched, the mass-prune
 * guard holds until a person allows it, and a changed domain takes its old DNS records (alias,
 * validation CNAME and their owner records) with it.
 */
import { CloudWatchLogsClient, CreateLogGroupCommand, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { BatchGetDeploymentGroupsCommand, CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { CreateSecurityGroupCommand, DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeServicesCommand, ECSClient, ListTaskDefinitionsCommand, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { ChangeResourceRecordSetsCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
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

  it('a converged environment with prune on has nothing to delete, and a steady cycle makes no inventory call', async () => {
    const summary = await cycle('apply');
    expect(deletesOf(summary)).toEqual([]);
    expect(summary.awsWrites).toBe(0);
    // After a prune that found nothing, the same desired resources need no inventory (until 10 minutes pass).
    const steady = await cycle('apply');
    for (const listing of ['ECS:ListServices', 'ECS:ListTaskDefinitionFamilies', 'CodeDeploy:ListDeploymentGroups']) {
      expect(steady.callsByOperation[listing], listing).toBeUndefined();
    }
    expect(steady.prune?.kept).toEqual(summary.prune?.kept);
    console.log(JSON.stringify({ prune: 'steady', awsCalls: steady.awsCalls, callsByOperation: steady.callsByOperation }));
  });

  it('a removed Service takes its resources with it; its log group and an unowned look-alike stay', async () => {
    const ec2 = new EC2Client(moto.clientConfig);
    const elbv2 = new ElasticLoadBalancingV2Client(moto.clientConfig);
    const logs = new CloudWatchLogsClient(moto.clientConfig);
    // Look-alikes converge does not own: named like the environment's, without its tag.
    await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'shop-legacy-tasks', Description: 'not converge', VpcId: seed.vpcId }));
    const lookalikeTg = (await elbv2.send(new CreateTargetGroupCommand({ Name: 'shop-legacy-a', Protocol: 'TCP', Port: 80, VpcId: seed.vpcId, TargetType: 'ip' }))).TargetGroups?.[0];
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/ecs/shop/legacy' }));
    const ecs = new ECSClient(moto.clientConfig);
    await ecs.send(new RegisterTaskDefinitionCommand({ family: 'shop-legacy', containerDefinitions: [{ name: 'legacy', image: 'legacy:1', memory: 512 }] }));
    const activeRevisions = async (family: string): Promise<string[]> => (await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: family, status: 'ACTIVE' }))).taskDefinitionArns ?? [];
    expect(await activeRevisions('shop-orders')).not.toEqual([]);

    await upload('services.yaml', [users, billing].join('---\n'));
    const plan = await cycle('plan');
    const planned = deletesOf(plan).map((r) => `${r.resource} (${r.changes[0]?.summary ?? ''})`);
    expect(planned.sort()).toEqual(
      [
        'AWS::EC2::SecurityGroup shop-orders-tasks',
        'AWS::ECS::Service shop-orders',
        'AWS::ECS::TaskDefinition shop-orders',
        'AWS::ElasticLoadBalancingV2::Listener shop-services:10003 (TCP 10003)',
        'AWS::ElasticLoadBalancingV2::TargetGroup shop-orders-a',
        'AWS::ElasticLoadBalancingV2::TargetGroup shop-orders-b',
      ].map((r) => `${r} (pruned: Service orders is no longer in the desired state)`),
    );
    expect(plan.prune?.kept).toEqual(['AWS::Logs::LogGroup /ecs/shop/orders']);
    expect(plan.awsWrites).toBe(0);

    const applied = await applyUntilQuiet();
    expect(applied.errors, JSON.stringify(applied.resources.filter((r) => r.state === 'Failed' || r.state === 'Conflict'), null, 2)).toBe(0);

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
    // The removed Service's revisions are deregistered (and deleted); the look-alike family and the kept Services' are not.
    expect(await activeRevisions('shop-orders')).toEqual([]);
    expect(await activeRevisions('shop-legacy')).toHaveLength(1);
    expect(await activeRevisions('shop-users')).not.toEqual([]);

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
  it('a changed domain takes its old alias and validation records with their owner records; records converge does not own stay', async () => {
    const route53 = new Route53Client(moto.clientConfig);
    const zone = seed.hostedZoneId;
    const records = async (): Promise<string[]> =>
      ((await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zone }))).ResourceRecordSets ?? []).map((r) => `${(r.Name ?? '').replace(/\.$/, '')} ${r.Type ?? ''}`);
    // Look-alikes: a record without an owner record, and one another environment owns.
    await route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zone,
        ChangeBatch: {
          Changes: [
            { Action: 'UPSERT', ResourceRecordSet: { Name: 'legacy.example.com', Type: 'A', TTL: 60, ResourceRecords: [{ Value: '192.0.2.1' }] } },
            { Action: 'UPSERT', ResourceRecordSet: { Name: 'staging.example.com', Type: 'CNAME', TTL: 60, ResourceRecords: [{ Value: 'lb.example.net' }] } },
            {
              Action: 'UPSERT',
              ResourceRecordSet: { Name: '_converge-owner.staging.example.com', Type: 'TXT', TTL: 300, ResourceRecords: [{ Value: '"heritage=converge,converge/environment=shop-staging,converge/resource=Environment/shop-staging,converge/spec-hash=x"' }] },
            },
          ],
        },
      }),
    );
    const before = await records();
    expect(before).toEqual(expect.arrayContaining(['www.example.com A', '_converge-owner.www.example.com TXT']));
    const oldValidation = before.filter((r) => r.endsWith('.www.example.com CNAME'));
    expect(oldValidation).toHaveLength(1);

    const current = readFileSync(`${EXAMPLE}environment.yaml`, 'utf8').replace('prune: false', 'prune: true\n    maxPruneShare: 0.4').replace('domain: www.example.com', 'domain: shop.example.com');
    await upload('environment.yaml', current);
    const plan = await cycle('plan');
    expect(deletesOf(plan).map((r) => r.resource).sort()).toEqual([`AWS::Route53::RecordSet ${oldValidation[0] ?? ''}`, 'AWS::Route53::RecordSet www.example.com A']);
    const applied = await applyUntilQuiet();
    expect(applied.errors, JSON.stringify(applied.resources.filter((r) => r.state === 'Failed' || r.state === 'Conflict'), null, 2)).toBe(0);

    const after = await records();
    expect(after).toEqual(expect.arrayContaining(['shop.example.com A', '_converge-owner.shop.example.com TXT', 'api.example.com A', 'legacy.example.com A', 'staging.example.com CNAME', '_converge-owner.staging.example.com TXT']));
    expect(after.filter((r) => r.includes('www.example.com'))).toEqual([]);
    route53.destroy();
  }, 120_000);
});
