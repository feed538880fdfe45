/**
 * The policy `converge iam-policy --source` prints covers what converge really calls: the example
 * converges from empty on moto, deploys a new image blue/green, corrects drift and plans from a
 * fresh process; every operation counted in those cycles must be in src/aws/iam-actions.ts with
 * each of its IAM actions granted, and the resources converge made must fall inside the scope.
 */
import { CodeDeployClient, BatchGetDeploymentGroupsCommand } from '@aws-sdk/client-codedeploy';
import { CloudWatchLogsClient, DescribeLogGroupsCommand, PutRetentionPolicyCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeClustersCommand, DescribeServicesCommand, DescribeTaskDefinitionCommand, ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { DescribeListenersCommand, DescribeLoadBalancersCommand, DescribeTargetGroupsCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { seedEnvironment, seedImages, type SeedResult } from '../../../scripts/seed.js';
import { permissionsOf, type PolicyDocument, type PolicyStatement } from '../../../src/aws/iam-actions.js';
import { main } from '../../../src/cli/main.js';
import { Controller, type CycleSummary } from '../../../src/controller.js';
import { captureLogs } from '../../support/log-capture.js';
import { useMoto } from '../../support/moto.js';

const EXAMPLE = fileURLToPath(new URL('../../../desired-state/examples/shop/', import.meta.url));
const USERS = 'AWS::ECS::Service shop-users';

const resources = (s: PolicyStatement): string[] => (typeof s.Resource === 'string' ? [s.Resource] : s.Resource);
/** IAM's matching of ARNs and condition values: `*` any run of characters, `?` one. */
const matches = (pattern: string, value: string): boolean =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`).test(value);
/** The ARNs `action` is granted on nowhere in `doc` (conditions aside). */
const notAllowed = (doc: PolicyDocument, action: string, arns: readonly string[]): string[] =>
  arns.filter((arn) => !doc.Statement.some((s) => s.Action.includes(action) && resources(s).some((r) => matches(r, arn)))).map((arn) => `${action} on ${arn}`);

describe('the IAM policy covers every AWS call converge makes (moto)', () => {
  const moto = useMoto({ setProcessEnv: true, env: { CONVERGE_EMULATOR_DEPLOY_STEPS: '0', MOTO_ACM_VALIDATION_WAIT: '0' } });
  const calls = new Map<string, number>();
  let seed: SeedResult;
  let controller: Controller;
  const controllerLogs = captureLogs();

  beforeAll(async () => {
    seed = await seedEnvironment({ endpoint: moto.endpoint, documentsDir: EXAMPLE });
    controller = new Controller({ source: seed.source, log: controllerLogs.log });
  });

  /** One cycle of the long-lived controller, or of a fresh one (a restarted converge, cold caches); its calls are collected. */
  const cycle = async (mode: 'plan' | 'apply', fresh = false): Promise<CycleSummary> => {
    const c = fresh ? new Controller({ source: seed.source, log: captureLogs().log }) : controller;
    try {
      const summary = await c.runCycle({ mode, trigger: 'manual' });
      for (const [key, count] of Object.entries(summary.callsByOperation)) calls.set(key, (calls.get(key) ?? 0) + count);
      return summary;
    } finally {
      if (fresh) c.close();
    }
  };
  const failedOf = (summary: CycleSummary): string => JSON.stringify(summary.resources.filter((r) => r.state === 'Failed' || r.state === 'Conflict'), null, 2);

  it('converges the example from empty', async () => {
    let summary = await cycle('apply');
    expect(summary.errors, failedOf(summary)).toBe(0);
    // The HTTPS listeners, and what waits on them, follow once ACM has issued the certificates.
    for (let i = 0; i < 5 && summary.awsWrites > 0; i += 1) summary = await cycle('apply');
    expect(summary.outcome, failedOf(summary)).toBe('converged');
  });

  it('deploys a new image blue/green', async () => {
    const services = await readFile(`${EXAMPLE}services.yaml`, 'utf8');
    await seedImages({ endpoint: moto.endpoint, images: ['123456789012.dkr.ecr.us-east-1.amazonaws.com/users:1.4.3'] });
    const s3 = new S3Client({ ...moto.clientConfig, forcePathStyle: true });
    await s3.send(new PutObjectCommand({ Bucket: seed.bucket, Key: `${seed.prefix}services.yaml`, Body: services.replace('users:1.4.2', 'users:1.4.3') }));
    const started = await cycle('apply');
    expect(started.callsByOperation['CodeDeploy:CreateDeployment'], JSON.stringify(started.callsByOperation)).toBe(1);
    await moto.server.settleDeployments();
    const done = await cycle('apply');
    expect(done.resources.find((r) => r.resource === USERS)?.state, failedOf(done)).toBe('InSync');
  });

  it('corrects drift made behind its back', async () => {
    await new ECSClient(moto.clientConfig).send(new UpdateServiceCommand({ cluster: 'shop', service: 'shop-orders', desiredCount: 7 }));
    await new CloudWatchLogsClient(moto.clientConfig).send(new PutRetentionPolicyCommand({ logGroupName: '/ecs/shop/users', retentionInDays: 1 }));
    const corrected = await cycle('apply');
    expect(corrected.errors, failedOf(corrected)).toBe(0);
    expect(corrected.callsByOperation['ECS:UpdateService']).toBeGreaterThan(0);
    expect(corrected.callsByOperation['Logs:PutRetentionPolicy']).toBeGreaterThan(0);
  });

  it('plans from a restarted converge', async () => {
    const plan = await cycle('plan', true);
    expect(plan.outcome, failedOf(plan)).toBe('converged');
    expect(plan.awsWrites).toBe(0);
  });

  it('grants every action of every operation those cycles made, on the resources converge made', async () => {
    let stdout = '';
    let stderr = '';
    const code = await main(['iam-policy', '--source', seed.source], { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) });
    expect(code, stderr).toBe(0);
    const doc = JSON.parse(stdout) as PolicyDocument;
    expect(doc.Id).toBe('converge-task-role-shop');

    // Operations: each one counted is in the list, and every action the list gives it is in the policy.
    const granted = new Set(doc.Statement.flatMap((s) => s.Action));
    const problems: string[] = [];
    for (const key of [...calls.keys()].sort()) {
      const entry = permissionsOf(key);
      if (!entry) problems.push(`${key} is not in src/aws/iam-actions.ts`);
      else for (const g of entry.grants) if (!granted.has(g.action)) problems.push(`${key} needs ${g.action}, which the policy does not grant`);
    }
    expect(problems).toEqual([]);
    // The scenario exercised the parts of converge that need the most (a sanity floor, not the list).
    for (const key of ['ECS:CreateService', 'ECS:RegisterTaskDefinition', 'ELBv2:CreateListener', 'EC2:CreateSecurityGroup', 'Logs:CreateLogGroup', 'ACM:RequestCertificate', 'Route53:ChangeResourceRecordSets', 'CodeDeploy:CreateDeployment', 'S3:PutObject']) {
      expect(calls.has(key), `${key} was not called: ${[...calls.keys()].join(', ')}`).toBe(true);
    }

    // Resources: what converge created for the example is inside the statements that grant the writes.
    const ecs = new ECSClient(moto.clientConfig);
    const elbv2 = new ElasticLoadBalancingV2Client(moto.clientConfig);
    const cluster = (await ecs.send(new DescribeClustersCommand({ clusters: ['shop'] }))).clusters?.[0]?.clusterArn ?? '';
    const services = (await ecs.send(new DescribeServicesCommand({ cluster: 'shop', services: ['shop-users', 'shop-billing', 'shop-orders', 'shop-gateway', 'shop-web'] }))).services ?? [];
    expect(services).toHaveLength(5);
    const taskDefinitions = await Promise.all(services.map(async (s) => (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: s.taskDefinition }))).taskDefinition));
    const loadBalancers = (await elbv2.send(new DescribeLoadBalancersCommand({ Names: ['shop-backend', 'shop-frontend', 'shop-services'] }))).LoadBalancers ?? [];
    const listeners = (await Promise.all(loadBalancers.map(async (lb) => (await elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn }))).Listeners ?? []))).flat();
    const targetGroups = ((await elbv2.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? []).filter((tg) => tg.TargetGroupName?.startsWith('shop-'));
    const logGroups = (await new CloudWatchLogsClient(moto.clientConfig).send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/ecs/shop/' }))).logGroups ?? [];
    const groups = (await new CodeDeployClient(moto.clientConfig).send(new BatchGetDeploymentGroupsCommand({ applicationName: 'shop', deploymentGroupNames: ['users', 'billing', 'orders', 'gateway', 'web'] }))).deploymentGroupsInfo ?? [];
    const objects = (await new S3Client({ ...moto.clientConfig, forcePathStyle: true }).send(new ListObjectsV2Command({ Bucket: seed.bucket, Prefix: seed.prefix }))).Contents ?? [];
    const published = objects.map((o) => o.Key ?? '').filter((key) => key.includes('/.converge/gateway/'));
    expect(listeners.length).toBeGreaterThanOrEqual(7);
    expect(targetGroups).toHaveLength(10);
    expect(logGroups).toHaveLength(5);
    expect(published.length).toBeGreaterThan(0);

    const appArn = 'arn:aws:codedeploy:us-east-1:123456789012:application:shop';
    const outside = [
      ...notAllowed(doc, 'ecs:UpdateClusterSettings', [cluster]),
      ...notAllowed(doc, 'ecs:UpdateService', services.map((s) => s.serviceArn ?? '')),
      ...notAllowed(doc, 'ecs:TagResource', [cluster, ...services.map((s) => s.serviceArn ?? ''), ...taskDefinitions.map((t) => t?.taskDefinitionArn ?? '')]),
      ...notAllowed(doc, 'ecs:RegisterTaskDefinition', taskDefinitions.map((t) => t?.taskDefinitionArn ?? '')),
      ...notAllowed(doc, 'elasticloadbalancing:SetSubnets', loadBalancers.map((lb) => lb.LoadBalancerArn ?? '')),
      ...notAllowed(doc, 'elasticloadbalancing:ModifyListener', listeners.map((l) => l.ListenerArn ?? '')),
      ...notAllowed(doc, 'elasticloadbalancing:AddTags', [...loadBalancers.map((lb) => lb.LoadBalancerArn ?? ''), ...listeners.map((l) => l.ListenerArn ?? ''), ...targetGroups.map((tg) => tg.TargetGroupArn ?? '')]),
      ...notAllowed(doc, 'elasticloadbalancing:ModifyTargetGroup', targetGroups.map((tg) => tg.TargetGroupArn ?? '')),
      ...notAllowed(doc, 'logs:PutRetentionPolicy', logGroups.map((g) => g.arn ?? '')),
      ...notAllowed(doc, 'logs:TagResource', logGroups.map((g) => g.logGroupArn ?? (g.arn ?? '').replace(/:\*$/, ''))),
      ...notAllowed(doc, 'codedeploy:TagResource', [appArn]),
      ...notAllowed(doc, 'codedeploy:CreateDeployment', groups.map((g) => `arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:shop/${g.deploymentGroupName ?? ''}`)),
      ...notAllowed(doc, 'codedeploy:GetDeploymentConfig', groups.map((g) => `arn:aws:codedeploy:us-east-1:123456789012:deploymentconfig:${g.deploymentConfigName ?? ''}`)),
      ...notAllowed(doc, 'route53:ChangeResourceRecordSets', [`arn:aws:route53:::hostedzone/${seed.hostedZoneId}`]),
      ...notAllowed(doc, 's3:ListBucket', [`arn:aws:s3:::${seed.bucket}`]),
      ...notAllowed(doc, 's3:GetObject', objects.map((o) => `arn:aws:s3:::${seed.bucket}/${o.Key ?? ''}`)),
      ...notAllowed(doc, 's3:PutObject', published.map((key) => `arn:aws:s3:::${seed.bucket}/${key}`)),
      ...notAllowed(doc, 's3:DeleteObject', published.map((key) => `arn:aws:s3:::${seed.bucket}/${key}`)),
      ...notAllowed(doc, 'iam:PassRole', [
        ...taskDefinitions.flatMap((t) => [t?.executionRoleArn, t?.taskRoleArn].filter((r): r is string => r !== undefined)),
        ...groups.map((g) => g.serviceRoleArn ?? ''),
      ]),
    ];
    expect(outside).toEqual([]);
    // Each role goes only to the service that takes it.
    const passedTo = (arn: string): unknown[] => doc.Statement.filter((s) => s.Action.includes('iam:PassRole') && resources(s).includes(arn)).map((s) => s.Condition?.StringEquals?.['iam:PassedToService']);
    expect(passedTo(groups[0]?.serviceRoleArn ?? '')).toEqual(['codedeploy.amazonaws.com']);
    expect(passedTo(taskDefinitions[0]?.executionRoleArn ?? '')).toEqual(['ecs-tasks.amazonaws.com']);

    // Conditions: the records converge wrote carry names, types and actions the Route 53 statement admits,
    // and the security groups converge writes to carry the ownership tag the EC2 statement asks for.
    const route53 = doc.Statement.find((s) => s.Action.includes('route53:ChangeResourceRecordSets'));
    const names = route53?.Condition?.['ForAllValues:StringLike']?.['route53:ChangeResourceRecordSetsNormalizedRecordNames'] ?? [];
    const types = route53?.Condition?.['ForAllValues:StringEquals']?.['route53:ChangeResourceRecordSetsRecordTypes'] ?? [];
    const records = ((await new Route53Client(moto.clientConfig).send(new ListResourceRecordSetsCommand({ HostedZoneId: seed.hostedZoneId }))).ResourceRecordSets ?? []).filter(
      (r) => r.Type !== 'NS' && r.Type !== 'SOA',
    );
    expect(records.length).toBeGreaterThanOrEqual(6);
    for (const r of records) {
      const name = (r.Name ?? '').toLowerCase().replace(/\.$/, '');
      expect([names].flat().some((pattern) => matches(pattern, name)), `${name} is outside ${JSON.stringify(names)}`).toBe(true);
      expect([types].flat()).toContain(r.Type);
    }
    const ownership = doc.Statement.find((s) => s.Sid === 'Ec2OwnedSecurityGroups')?.Condition?.StringEquals ?? {};
    expect(ownership).toEqual({ 'aws:ResourceTag/converge:environment': 'shop' });
    const securityGroups = (await new EC2Client(moto.clientConfig).send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [seed.vpcId] }] }))).SecurityGroups ?? [];
    const ours = securityGroups.filter((g) => g.GroupName?.startsWith('shop-'));
    expect(ours.length).toBeGreaterThanOrEqual(8);
    for (const g of ours) expect(g.Tags, g.GroupName).toEqual(expect.arrayContaining([{ Key: 'converge:environment', Value: 'shop' }]));
  });
});
