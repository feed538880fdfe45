/**
 * Preflight on the emulator: what would fail a deployment minutes later (an image tag never
 * pushed, a secret that is not there, a task role that does not trust ECS tasks, a private subnet
 * with no way to ECR) fails the workload's preflight at once, with nothing registered or deployed;
 * fixing the cause lets the next cycle deploy; `converge verify` lists every problem at once; a
 * steady-state cycle and a cold plan of an in-sync environment make no preflight call.
 */
import { ListDeploymentsCommand, CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { AssociateRouteTableCommand, CreateRouteTableCommand, CreateVpcEndpointCommand, DisassociateRouteTableCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeServicesCommand, ECSClient, ListTaskDefinitionsCommand } from '@aws-sdk/client-ecs';
import { CreateRoleCommand, IAMClient, UpdateAssumeRolePolicyCommand } from '@aws-sdk/client-iam';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedEnvironment, seedImages, type SeedResult } from '../../../scripts/seed.js';
import { Controller, type CycleSummary } from '../../../src/controller.js';
import { runCli } from '../../support/cli.js';
import { captureLogs } from '../../support/log-capture.js';
import { useMoto } from '../../support/moto.js';

const EXAMPLE = fileURLToPath(new URL('../../../desired-state/examples/shop/', import.meta.url));
const ECR = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const USERS_TASK = 'AWS::ECS::TaskDefinition shop-users';
const USERS_SERVICE = 'AWS::ECS::Service shop-users';
/** The calls only preflight makes (ACM's DescribeCertificate is the certificate reconciler's too). */
const PREFLIGHT_OPERATIONS = ['ECR:DescribeImages', 'IAM:GetRole', 'SSM:DescribeParameters', 'SecretsManager:DescribeSecret', 'EC2:DescribeRouteTables', 'EC2:DescribeVpcEndpoints'];

const preflightCalls = (summary: CycleSummary): Record<string, number> =>
  Object.fromEntries(Object.entries(summary.callsByOperation).filter(([op]) => PREFLIGHT_OPERATIONS.includes(op)));

describe('preflight (moto)', () => {
  const moto = useMoto({ setProcessEnv: true, env: { CONVERGE_EMULATOR_DEPLOY_STEPS: '0', MOTO_ACM_VALIDATION_WAIT: '0' } });
  let dir = '';
  let seed: SeedResult;
  let services = '';
  let ec2: EC2Client;
  let ecs: ECSClient;
  let codedeploy: CodeDeployClient;
  let iam: IAMClient;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'converge-preflight-'));
    await cp(EXAMPLE, dir, { recursive: true });
    seed = await seedEnvironment({ endpoint: moto.endpoint, documentsDir: dir });
    services = await readFile(join(dir, 'services.yaml'), 'utf8');
    ec2 = new EC2Client(moto.clientConfig);
    ecs = new ECSClient(moto.clientConfig);
    codedeploy = new CodeDeployClient(moto.clientConfig);
    iam = new IAMClient(moto.clientConfig);
  });

  afterAll(async () => {
    for (const client of [ec2, ecs, codedeploy, iam]) client.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  /** Uploads services.yaml with `edit` applied to the example's text. */
  const publishServices = async (edit?: (text: string) => string): Promise<void> => {
    const text = edit ? edit(services) : services;
    if (edit && text === services) throw new Error('the edit did not change services.yaml');
    const s3 = new S3Client({ ...moto.clientConfig, forcePathStyle: true });
    await s3.send(new PutObjectCommand({ Bucket: seed.bucket, Key: `${seed.prefix}services.yaml`, Body: text }));
    s3.destroy();
  };
  const usersImage = (tag: string) => (text: string) => text.replace('users:1.4.2', `users:${tag}`);

  const cycle = async (controller: Controller, mode: 'plan' | 'apply') => {
    const summary = await controller.runCycle({ mode, trigger: 'manual' });
    return { summary, of: (resource: string) => summary.resources.find((r) => r.resource === resource) };
  };
  const newController = () => new Controller({ source: seed.source, log: captureLogs().log });
  const usersRevisions = async (): Promise<number> => (await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: 'shop-users' }))).taskDefinitionArns?.length ?? 0;
  const usersDeployments = async (): Promise<number> => (await codedeploy.send(new ListDeploymentsCommand({ applicationName: 'shop', deploymentGroupName: 'users' }))).deployments?.length ?? 0;
  const usersRunning = async (): Promise<string> => (await ecs.send(new DescribeServicesCommand({ cluster: 'shop', services: ['shop-users'] }))).services?.[0]?.taskDefinition ?? '';

  /** A failing cycle leaves users' revision and deployment alone and the rest of the environment in sync. */
  const expectRefused = async (controller: Controller, message: string | RegExp): Promise<void> => {
    const before = { revisions: await usersRevisions(), deployments: await usersDeployments(), running: await usersRunning() };
    const { summary, of } = await cycle(controller, 'apply');
    expect(of(USERS_TASK)?.state, JSON.stringify(of(USERS_TASK))).toBe('Failed');
    expect(of(USERS_TASK)?.message).toMatch(message);
    expect(of(USERS_SERVICE)).toMatchObject({ state: 'Pending', waiting: true });
    expect(summary.resources.filter((r) => r.state === 'Failed').map((r) => r.resource)).toEqual([USERS_TASK]);
    expect(summary.callsByOperation['ECS:RegisterTaskDefinition'] ?? 0).toBe(0);
    expect(summary.callsByOperation['CodeDeploy:CreateDeployment'] ?? 0).toBe(0);
    expect({ revisions: await usersRevisions(), deployments: await usersDeployments(), running: await usersRunning() }).toEqual(before);
  };

  /** Once the cause is fixed, the same controller's next cycle registers the revision and deploys it. */
  const expectDeployed = async (controller: Controller): Promise<void> => {
    const before = { revisions: await usersRevisions(), deployments: await usersDeployments() };
    const { summary, of } = await cycle(controller, 'apply');
    expect(summary.errors, JSON.stringify(summary.resources.filter((r) => r.state === 'Failed'))).toBe(0);
    expect(of(USERS_TASK)?.changes).toEqual([expect.objectContaining({ action: 'create', applied: true })]);
    expect(of(USERS_SERVICE)?.changes).toEqual([expect.objectContaining({ action: 'deploy', applied: true })]);
    expect({ revisions: await usersRevisions(), deployments: await usersDeployments() }).toEqual({ revisions: before.revisions + 1, deployments: before.deployments + 1 });
  };

  it('converges the seeded example with preflight passing; a steady-state cycle and a cold plan make no preflight call', async () => {
    const controller = newController();
    const totals: Record<string, number> = {};
    let last: CycleSummary | undefined;
    for (let i = 0; i < 6; i += 1) {
      last = (await cycle(controller, 'apply')).summary;
      expect(last.errors, JSON.stringify(last.resources.filter((r) => r.state === 'Failed'))).toBe(0);
      for (const [op, n] of Object.entries(preflightCalls(last))) totals[op] = (totals[op] ?? 0) + n;
      if (last.outcome === 'converged') break;
    }
    expect(last?.outcome).toBe('converged');
    // One DescribeImages per ECR repository (users, billing, orders, web), one GetRole per role
    // (execution, CodeDeploy, the gateway's and billing's task roles), one secret, one parameter.
    expect(totals).toMatchObject({ 'ECR:DescribeImages': 4, 'IAM:GetRole': 4, 'SecretsManager:DescribeSecret': 1, 'SSM:DescribeParameters': 1 });
    expect(totals['EC2:DescribeRouteTables']).toBeGreaterThanOrEqual(1);
    // The NAT route serves every private subnet: the VPC endpoints are never read.
    expect(totals['EC2:DescribeVpcEndpoints']).toBeUndefined();

    const steady = await cycle(controller, 'apply');
    expect(steady.summary.outcome).toBe('converged');
    expect(preflightCalls(steady.summary)).toEqual({});
    const coldPlan = await cycle(newController(), 'plan');
    expect(coldPlan.summary.pending).toBe(0);
    expect(preflightCalls(coldPlan.summary)).toEqual({});
  });

  it('a missing image tag fails preflight: nothing registered, no deployment; pushing it lets the next cycle deploy', async () => {
    await publishServices(usersImage('1.4.3'));
    const controller = newController();
    await expectRefused(controller, `preflight: image ${ECR}/users:1.4.3 is not in ECR repository users (no image tagged 1.4.3)`);
    // `plan` shows it too, and exits as an error.
    const plan = await cycle(controller, 'plan');
    expect(plan.of(USERS_TASK)).toMatchObject({ state: 'Failed', message: expect.stringMatching(/^preflight: image .*users:1\.4\.3 is not in ECR/) as unknown });
    expect(plan.summary.outcome).toBe('error');
    expect(plan.of(USERS_SERVICE)).toMatchObject({ state: 'Pending', message: expect.stringMatching(/^would wait for task-definition\/shop-users/) as unknown });

    await seedImages({ endpoint: moto.endpoint, images: [`${ECR}/users:1.4.3`] });
    await expectDeployed(controller);
  });

  it('a missing secret fails preflight until it exists', async () => {
    const secret = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:users-db-v2';
    await publishServices((text) => usersImage('1.4.3')(text).replace(':secret:users-db', ':secret:users-db-v2'));
    const controller = newController();
    await expectRefused(controller, `preflight: secret DB_PASSWORD: Secrets Manager secret ${secret} is missing`);
    const sm = new SecretsManagerClient(moto.clientConfig);
    await sm.send(new CreateSecretCommand({ Name: 'users-db-v2', SecretString: 'emulator-placeholder' }));
    sm.destroy();
    await expectDeployed(controller);
  });

  it('a task role that does not trust ECS tasks fails preflight until its trust policy is fixed', async () => {
    const role = 'arn:aws:iam::123456789012:role/shop-users-task';
    const trusting = (service: string): string => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }] });
    await iam.send(new CreateRoleCommand({ RoleName: 'shop-users-task', AssumeRolePolicyDocument: trusting('lambda.amazonaws.com') }));
    await publishServices((text) => usersImage('1.4.3')(text).replace('  listenerPort: 10001\n', `  listenerPort: 10001\n  taskRoleArn: ${role}\n`));
    const controller = newController();
    await expectRefused(controller, `preflight: task role ${role} does not trust ecs-tasks.amazonaws.com (its trust policy allows lambda.amazonaws.com)`);
    await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'shop-users-task', PolicyDocument: trusting('ecs-tasks.amazonaws.com') }));
    await expectDeployed(controller);
  });

  it('a private subnet without a route out fails preflight until VPC endpoints serve it', async () => {
    const [subnet = ''] = seed.privateSubnetIds;
    const table = (await ec2.send(new CreateRouteTableCommand({ VpcId: seed.vpcId }))).RouteTable?.RouteTableId ?? '';
    const association = (await ec2.send(new AssociateRouteTableCommand({ RouteTableId: table, SubnetId: subnet }))).AssociationId ?? '';
    await seedImages({ endpoint: moto.endpoint, images: [`${ECR}/users:1.5.0`] });
    await publishServices(usersImage('1.5.0'));
    const controller = newController();
    await expectRefused(
      controller,
      `preflight: private subnet ${subnet} (route table ${table}) has no 0.0.0.0/0 route to a NAT gateway, and the VPC has no VPC endpoint for ecr.api, ecr.dkr, s3, logs, secretsmanager`,
    );
    // Interface endpoints with private DNS, and S3 through a gateway endpoint on the subnet's table.
    for (const service of ['ecr.api', 'ecr.dkr', 'logs', 'secretsmanager']) {
      await ec2.send(new CreateVpcEndpointCommand({ VpcId: seed.vpcId, ServiceName: `com.amazonaws.us-east-1.${service}`, VpcEndpointType: 'Interface', SubnetIds: [subnet], PrivateDnsEnabled: true }));
    }
    await ec2.send(new CreateVpcEndpointCommand({ VpcId: seed.vpcId, ServiceName: 'com.amazonaws.us-east-1.s3', VpcEndpointType: 'Gateway', RouteTableIds: [table] }));
    await expectDeployed(controller);
    await ec2.send(new DisassociateRouteTableCommand({ AssociationId: association }));
  });

  it('converge verify lists every problem at once (exit 1) and exits 0 once they are fixed', async () => {
    const [, subnet = ''] = seed.privateSubnetIds;
    const table = (await ec2.send(new CreateRouteTableCommand({ VpcId: seed.vpcId }))).RouteTable?.RouteTableId ?? '';
    const association = (await ec2.send(new AssociateRouteTableCommand({ RouteTableId: table, SubnetId: subnet }))).AssociationId ?? '';
    await iam.send(
      new CreateRoleCommand({
        RoleName: 'shop-verify-task',
        AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] }),
      }),
    );
    await publishServices((text) =>
      usersImage('9.9.9')(text)
        .replace('  listenerPort: 10001\n', '  listenerPort: 10001\n  taskRoleArn: arn:aws:iam::123456789012:role/shop-verify-task\n')
        .replace('parameter/shop/billing/stripe-api-key', 'parameter/shop/billing/stripe-key-typo'),
    );
    const broken = await runCli(['verify', '--source', seed.source], moto.env);
    const route = `private subnet ${subnet} (route table ${table}) has no 0.0.0.0/0 route to a NAT gateway`;
    expect(broken.code, broken.stderr).toBe(1);
    const lines = broken.stdout.trim().split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        `problem: Service/users: image ${ECR}/users:9.9.9 is not in ECR repository users (no image tagged 9.9.9)`,
        'problem: Service/users: task role arn:aws:iam::123456789012:role/shop-verify-task does not trust ecs-tasks.amazonaws.com (its trust policy allows ec2.amazonaws.com)',
        'problem: Service/billing: secret STRIPE_API_KEY: SSM parameter /shop/billing/stripe-key-typo is missing (account 123456789012, us-east-1)',
        // The same problem once, with the workloads it holds back (the endpoints of the last test serve all but S3 here).
        `problem: Frontend/web, Service/orders, Service/users: ${route}, and the VPC has no VPC endpoint for s3`,
        `problem: Service/billing: ${route}, and the VPC has no VPC endpoint for s3, ssm`,
        `problem: Gateway/gateway: ${route}, and the VPC has no VPC endpoint for s3; image devopsfaith/krakend:2.10 (registry docker.io), image public.ecr.aws/aws-cli/aws-cli:2.17.0 (registry public.ecr.aws) cannot be reached through VPC endpoints`,
        'not verified: Gateway/gateway: image devopsfaith/krakend:2.10 is not in a private ECR registry (docker.io): not verified',
      ]),
    );
    expect(lines.at(-1)).toBe('verify: 6 problem(s) in 5 of 5 workload(s), 2 not verified');

    // Fixed: the subnet routes through the NAT gateway again, the parameter exists, the role trusts ECS tasks, the image is pushed.
    await ec2.send(new DisassociateRouteTableCommand({ AssociationId: association }));
    const ssm = new SSMClient(moto.clientConfig);
    await ssm.send(new PutParameterCommand({ Name: '/shop/billing/stripe-key-typo', Type: 'SecureString', Value: 'emulator-placeholder' }));
    ssm.destroy();
    await iam.send(
      new UpdateAssumeRolePolicyCommand({
        RoleName: 'shop-verify-task',
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' }] }),
      }),
    );
    await seedImages({ endpoint: moto.endpoint, images: [`${ECR}/users:9.9.9`] });
    const fixed = await runCli(['verify', '--source', seed.source, '--json'], moto.env);
    expect(fixed.code, fixed.stdout + fixed.stderr).toBe(0);
    const report = JSON.parse(fixed.stdout) as { problems: unknown[]; notVerified: { message: string; workloads: string[] }[]; workloads: string[] };
    expect(report.problems).toEqual([]);
    expect(report.workloads).toEqual(['Gateway/gateway', 'Frontend/web', 'Service/billing', 'Service/orders', 'Service/users']);
    expect(report.notVerified.map((n) => n.workloads)).toEqual([['Gateway/gateway'], ['Gateway/gateway']]);
  });
});
