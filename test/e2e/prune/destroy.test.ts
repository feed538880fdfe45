/**
 * `converge destroy` on the emulator: without --yes it prints what it would delete and exits 2;
 * with --yes it deletes what the environment owns, in reverse order (DNS records with their owner
 * records and task definition revisions included), keeps log groups, leaves unowned resources
 * alone, and exits 0.
 */
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { ACMClient, ListCertificatesCommand, ListTagsForCertificateCommand, RequestCertificateCommand } from '@aws-sdk/client-acm';
import { CodeDeployClient, ListApplicationsCommand } from '@aws-sdk/client-codedeploy';
import { CreateSecurityGroupCommand, DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeClustersCommand, DescribeServicesCommand, ECSClient, ListServicesCommand, ListTaskDefinitionsCommand, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { ChangeResourceRecordSetsCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { DescribeLoadBalancersCommand, DescribeTargetGroupsCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { seedEnvironment, type SeedResult } from '../../../scripts/seed.js';
import { Controller } from '../../../src/controller.js';
import { runCli } from '../../support/cli.js';
import { captureLogs } from '../../support/log-capture.js';
import { useMoto } from '../../support/moto.js';

const EXAMPLE = fileURLToPath(new URL('../../../desired-state/examples/shop/', import.meta.url));

describe('converge destroy (moto)', () => {
  const moto = useMoto({ setProcessEnv: true, env: { MOTO_ACM_VALIDATION_WAIT: '0', CONVERGE_EMULATOR_DEPLOY_STEPS: '0' } });
  let seed: SeedResult;

  beforeAll(async () => {
    seed = await seedEnvironment({ endpoint: moto.endpoint, documentsDir: EXAMPLE });
    const controller = new Controller({ source: seed.source, log: captureLogs().log });
    let last = await controller.runCycle({ mode: 'apply', trigger: 'manual' });
    for (let i = 0; i < 4 && last.awsWrites > 0; i += 1) last = await controller.runCycle({ mode: 'apply', trigger: 'manual' });
    expect(last.outcome).toBe('converged');
    controller.close();
  }, 180_000);

  it('without --yes lists what it would delete, deletes nothing and exits 2; with --yes deletes what it owns and names what it left', async () => {
    const ec2 = new EC2Client(moto.clientConfig);
    const acm = new ACMClient(moto.clientConfig);
    await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'shop-not-ours', Description: 'unowned', VpcId: seed.vpcId }));
    const foreignCert = (await acm.send(new RequestCertificateCommand({ DomainName: 'api.example.com', ValidationMethod: 'DNS' }))).CertificateArn;
    const ecs = new ECSClient(moto.clientConfig);
    // A family named like the environment's, registered by somebody else.
    await ecs.send(new RegisterTaskDefinitionCommand({ family: 'shop-legacy', containerDefinitions: [{ name: 'legacy', image: 'legacy:1', memory: 512 }] }));
    const route53 = new Route53Client(moto.clientConfig);
    await route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: seed.hostedZoneId,
        ChangeBatch: { Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: 'legacy.example.com', Type: 'A', TTL: 60, ResourceRecords: [{ Value: '192.0.2.1' }] } }] },
      }),
    );
    const records = async (): Promise<string[]> =>
      ((await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: seed.hostedZoneId }))).ResourceRecordSets ?? [])
        .filter((r) => r.Type !== 'NS' && r.Type !== 'SOA')
        .map((r) => `${(r.Name ?? '').replace(/\.$/, '')} ${r.Type ?? ''}`);
    expect(await records()).toEqual(expect.arrayContaining(['api.example.com A', '_converge-owner.api.example.com TXT', 'www.example.com A']));

    const env = { ...moto.env, CONVERGE_WAIT_POLL_MS: '500', CONVERGE_LEASE_DURATION: '5s' };
    const plan = await runCli(['destroy', '--source', seed.source], env);
    expect(plan.code, plan.stderr.slice(-2000)).toBe(2);
    expect(plan.stderr).toMatch(/converge destroy would delete \d+ resource\(s\)/);
    expect(plan.stderr).toMatch(/delete AWS::ECS::Service shop-users \(Service users\)/);
    expect(plan.stderr).toMatch(/delete AWS::ElasticLoadBalancingV2::LoadBalancer shop-backend/);
    expect(plan.stderr).toMatch(/delete AWS::Route53::RecordSet api\.example\.com A \(Environment shop\)/);
    expect(plan.stderr).toMatch(/delete AWS::ECS::TaskDefinition shop-users \(Service users\)/);
    expect(plan.stderr).not.toMatch(/shop-legacy|legacy\.example\.com/);
    expect(plan.stderr).toMatch(/nothing deleted: run again with --yes/);
    const elbv2 = new ElasticLoadBalancingV2Client(moto.clientConfig);
    expect((await elbv2.send(new DescribeLoadBalancersCommand({}))).LoadBalancers).toHaveLength(3);

    const destroyed = await runCli(['destroy', '--source', seed.source, '--yes'], env);
    // Exit 0: nothing the environment owns is left but the log groups it keeps on purpose.
    expect(destroyed.code, destroyed.stderr.slice(-3000)).toBe(0);
    expect(destroyed.stderr).toMatch(/kept: AWS::Logs::LogGroup \/ecs\/shop\/users/);
    expect(destroyed.stderr).not.toMatch(/left: every/);
    expect(destroyed.stderr).not.toMatch(/^failed:/m);

    // Every record converge owned is gone with its owner record; the one it did not own stays.
    expect(await records()).toEqual(['legacy.example.com A']);
    // No ACTIVE revision of the environment's families is left; somebody else's family is.
    const active = async (family: string): Promise<string[]> => (await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: family, status: 'ACTIVE' }))).taskDefinitionArns ?? [];
    for (const family of ['shop-users', 'shop-billing', 'shop-orders', 'shop-gateway', 'shop-web']) expect(await active(family), family).toEqual([]);
    expect(await active('shop-legacy')).toHaveLength(1);
    const arns = (await ecs.send(new ListServicesCommand({ cluster: 'shop' }))).serviceArns ?? [];
    const services = arns.length === 0 ? [] : ((await ecs.send(new DescribeServicesCommand({ cluster: 'shop', services: arns }))).services ?? []);
    expect(services.filter((s) => s.status === 'ACTIVE').map((s) => s.serviceName)).toEqual([]);
    const clusters = (await ecs.send(new DescribeClustersCommand({ clusters: ['shop'] }))).clusters ?? [];
    expect(clusters.every((c) => c.status === 'INACTIVE')).toBe(true);
    expect((await elbv2.send(new DescribeLoadBalancersCommand({}))).LoadBalancers).toEqual([]);
    expect(((await elbv2.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? []).filter((t) => t.TargetGroupName?.startsWith('shop-'))).toEqual([]);
    const groups = ((await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [seed.vpcId] }] }))).SecurityGroups ?? []).map((g) => g.GroupName);
    expect(groups.filter((name) => name?.startsWith('shop-'))).toEqual(['shop-not-ours']);
    const cd = new CodeDeployClient(moto.clientConfig);
    expect((await cd.send(new ListApplicationsCommand({}))).applications ?? []).not.toContain('shop');
    // The certificates converge requested are gone; the one it did not request is not.
    const remaining = (await acm.send(new ListCertificatesCommand({}))).CertificateSummaryList ?? [];
    for (const cert of remaining) {
      const tags = (await acm.send(new ListTagsForCertificateCommand({ CertificateArn: cert.CertificateArn }))).Tags ?? [];
      expect(tags.find((t) => t.Key === 'converge:environment')).toBeUndefined();
    }
    expect(remaining.map((c) => c.CertificateArn)).toContain(foreignCert);
    // The published gateway configurations are gone with the rest; the desired state stays.
    const s3 = new S3Client({ ...moto.clientConfig, forcePathStyle: true });
    const listed = (await s3.send(new ListObjectsV2Command({ Bucket: seed.bucket, Prefix: seed.prefix }))).Contents ?? [];
    expect(listed.filter((o) => o.Key?.includes('.converge/gateway/'))).toEqual([]);
    expect(listed.some((o) => o.Key?.endsWith('services.yaml'))).toBe(true);
    s3.destroy();
    const logs = new CloudWatchLogsClient(moto.clientConfig);
    expect(((await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/ecs/shop/' }))).logGroups ?? []).length).toBe(5);
    for (const client of [ec2, acm, elbv2, ecs, cd, logs, route53]) client.destroy();
  }, 180_000);
});
