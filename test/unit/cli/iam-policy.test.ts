import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IAM_OPERATIONS, type PolicyDocument, type PolicyStatement } from '../../../src/aws/iam-actions.js';
import { main } from '../../../src/cli/main.js';
import { INLINE_POLICY_LIMIT, policySize } from '../../../src/cli/iam-policy.js';

const EXAMPLE = fileURLToPath(new URL('../../../desired-state/examples/shop/', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'converge-iam-policy-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(...args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main(['iam-policy', ...args], { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) });
  return { code, stdout, stderr };
}

async function policy(...args: string[]): Promise<{ doc: PolicyDocument; stderr: string }> {
  const { code, stdout, stderr } = await run(...args);
  expect(code, stderr).toBe(0);
  return { doc: JSON.parse(stdout) as PolicyDocument, stderr };
}

const statement = (doc: PolicyDocument, sid: string): PolicyStatement => {
  const found = doc.Statement.find((s) => s.Sid === sid);
  if (!found) throw new Error(`no statement ${sid} in ${doc.Statement.map((s) => s.Sid).join(', ')}`);
  return found;
};
const resources = (s: PolicyStatement): string[] => (typeof s.Resource === 'string' ? [s.Resource] : s.Resource);
/** IAM's ARN matching: `*` any run of characters, `?` one. */
const matches = (pattern: string, value: string): boolean =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`).test(value);
const allows = (doc: PolicyDocument, action: string, arn: string): boolean => doc.Statement.some((s) => s.Action.includes(action) && resources(s).some((r) => matches(r, arn)));

// Nothing here may reach AWS: a folder source needs no call, and anything else fails fast locally.
const saved = { ...process.env };
beforeEach(() => {
  Object.assign(process.env, { AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' });
  delete process.env.CONVERGE_SOURCE;
  delete process.env.CONVERGE_ARTIFACTS;
});
afterEach(() => {
  for (const key of ['AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION', 'CONVERGE_SOURCE', 'CONVERGE_ARTIFACTS']) {
    if (saved[key] === undefined) delete process.env[key];
    else process.env[key] = saved[key];
  }
});

const NOTIFICATION_ACTIONS = new Set(['sns:Publish', 'secretsmanager:GetSecretValue']);
const NAMED_BY_DESIRED_STATE = new Set(['iam:PassRole', 'iam:GetRole', ...NOTIFICATION_ACTIONS]);

/** The shape every printed policy has, scoped or not. */
function expectWellFormed(doc: PolicyDocument): void {
  expect(Object.keys(doc)).toEqual(['Version', 'Id', 'Statement']);
  expect(doc.Version).toBe('2012-10-17');
  expect(doc.Statement.length).toBeGreaterThan(20);
  const sids = doc.Statement.map((s) => s.Sid);
  expect(new Set(sids).size).toBe(sids.length);
  for (const s of doc.Statement) {
    expect(s.Sid).toMatch(/^[A-Za-z0-9]+$/);
    expect(s.Effect).toBe('Allow');
    expect(s.Action.length).toBeGreaterThan(0);
    for (const action of s.Action) expect(action).toMatch(/^[a-z0-9-]+:[A-Z][A-Za-z0-9]+$/);
    expect(resources(s).length).toBeGreaterThan(0);
    for (const r of resources(s)) expect(r === '*' || r.startsWith('arn:')).toBe(true);
    // The account is never known offline: only ARNs named by the desired state (roles, the notification topic and secret) carry one.
    for (const r of resources(s)) if (!s.Action.some((a) => NAMED_BY_DESIRED_STATE.has(a))) expect(r).not.toMatch(/:\d{12}:/);
  }
  // Every action of the list is granted, grouped by service in the list's order (IAM last).
  const granted = new Set(doc.Statement.flatMap((s) => s.Action));
  // Notifications are granted only where the Environment configures them.
  for (const entry of IAM_OPERATIONS) for (const g of entry.grants) if (!NOTIFICATION_ACTIONS.has(g.action)) expect(granted, g.action).toContain(g.action);
  const prefixes = doc.Statement.map((s) => s.Action[0]?.split(':')[0]);
  expect([...new Set(prefixes)]).toEqual(['ecs', 'elasticloadbalancing', 'ec2', 'logs', 'acm', 'route53', 'codedeploy', 's3', 'secretsmanager', 'ecr', 'ssm', 'tag', 'application-autoscaling', 'cloudwatch', 'iam']);
}

describe('converge iam-policy', () => {
  it('prints pretty JSON scoped to the example Environment', async () => {
    const { code, stdout, stderr } = await run('--source', EXAMPLE);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^\{\n {2}"Version": "2012-10-17",\n/);
    const doc = JSON.parse(stdout) as PolicyDocument;
    expectWellFormed(doc);
    expect(doc.Id).toBe('converge-task-role-shop');
    expect(stderr).toMatch(/Environment shop in us-east-1/);

    // Actions without resource-level permissions: "*".
    for (const sid of ['EcsDescribeTaskDefinitions', 'ElbDescribe', 'Ec2Describe', 'LogsDescribeLogGroups', 'AcmListAndRequestCertificates', 'Route53FindHostedZones', 'CodeDeployListDeployments']) {
      expect(statement(doc, sid).Resource).toBe('*');
    }
    expect(statement(doc, 'ElbDescribe').Action).toEqual(
      expect.arrayContaining(['elasticloadbalancing:DescribeListeners', 'elasticloadbalancing:DescribeLoadBalancers', 'elasticloadbalancing:DescribeTags', 'elasticloadbalancing:DescribeTargetGroups']),
    );
    // Only reads, and acm:RequestCertificate (no resource type in the SAR), go on "*".
    for (const s of doc.Statement.filter((st) => st.Resource === '*')) for (const action of s.Action) expect(action).toMatch(/:(Describe|List|Get|Request)/);

    // Names derived from the Environment.
    expect(statement(doc, 'EcsCluster').Resource).toEqual(['arn:aws:ecs:us-east-1:*:cluster/shop']);
    expect(statement(doc, 'EcsServices').Resource).toEqual(['arn:aws:ecs:us-east-1:*:service/shop/shop-*']);
    expect(statement(doc, 'EcsTaskDefinitions').Resource).toEqual(['arn:aws:ecs:us-east-1:*:task-definition/shop-*:*']);
    expect(statement(doc, 'ElbLoadBalancers').Resource).toEqual([
      'arn:aws:elasticloadbalancing:us-east-1:*:loadbalancer/app/shop-backend/*',
      'arn:aws:elasticloadbalancing:us-east-1:*:loadbalancer/app/shop-frontend/*',
      'arn:aws:elasticloadbalancing:us-east-1:*:loadbalancer/net/shop-services/*',
      // The NLBs more Services spread to (shop-services-2, ...), so the policy need not change as Services are added.
      'arn:aws:elasticloadbalancing:us-east-1:*:loadbalancer/net/shop-services-*/*',
    ]);
    expect(statement(doc, 'ElbTargetGroups').Resource).toEqual(['arn:aws:elasticloadbalancing:us-east-1:*:targetgroup/shop-*/*']);
    expect(statement(doc, 'LogsLogGroups').Resource).toEqual(['arn:aws:logs:us-east-1:*:log-group:/ecs/shop/*']);
    expect(statement(doc, 'CodeDeployApplication').Resource).toEqual(['arn:aws:codedeploy:us-east-1:*:application:shop']);
    expect(statement(doc, 'CodeDeployDeploymentGroups').Resource).toEqual(['arn:aws:codedeploy:us-east-1:*:deploymentgroup:shop/*']);
    expect(statement(doc, 'CodeDeployDeploymentConfigs').Resource).toEqual([
      'arn:aws:codedeploy:us-east-1:*:deploymentconfig:CodeDeployDefault.ECSAllAtOnce',
      'arn:aws:codedeploy:us-east-1:*:deploymentconfig:CodeDeployDefault.ECSCanary10Percent5Minutes',
    ]);
    // The zone is named, not given by id: its id is not known offline.
    expect(statement(doc, 'Route53ReadHostedZone').Resource).toEqual(['arn:aws:route53:::hostedzone/*']);
    expect(statement(doc, 'Route53ChangeRecords').Condition).toEqual({
      'ForAllValues:StringEquals': { 'route53:ChangeResourceRecordSetsActions': ['UPSERT', 'DELETE'], 'route53:ChangeResourceRecordSetsRecordTypes': ['A', 'CNAME', 'TXT'] },
      'ForAllValues:StringLike': { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['api.example.com', '*.api.example.com', 'www.example.com', '*.www.example.com'] },
    });
    expect(statement(doc, 'Ec2OwnedSecurityGroups').Condition).toEqual({ StringEquals: { 'aws:ResourceTag/converge:environment': 'shop' } });

    // Roles the desired state names, each passed only to the service that takes it.
    expect(statement(doc, 'IamPassRolesToEcsTasks')).toMatchObject({
      Action: ['iam:PassRole'],
      Resource: ['arn:aws:iam::123456789012:role/shop-billing-task', 'arn:aws:iam::123456789012:role/shop-ecs-execution', 'arn:aws:iam::123456789012:role/shop-gateway-task'],
      Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
    });
    expect(statement(doc, 'IamPassRoleToCodeDeploy')).toMatchObject({
      Resource: ['arn:aws:iam::123456789012:role/shop-codedeploy'],
      Condition: { StringEquals: { 'iam:PassedToService': 'codedeploy.amazonaws.com' } },
    });
    expect(statement(doc, 'IamCreateServiceLinkedRoles')).toMatchObject({
      Action: ['iam:CreateServiceLinkedRole'],
      Condition: { StringEquals: { 'iam:AWSServiceName': ['ecs.amazonaws.com', 'elasticloadbalancing.amazonaws.com', 'ecs.application-autoscaling.amazonaws.com'] } },
    });

    // What converge creates for the example is inside the scope; a neighbour's resources are not.
    expect(allows(doc, 'ecs:UpdateService', 'arn:aws:ecs:us-east-1:123456789012:service/shop/shop-users')).toBe(true);
    expect(allows(doc, 'ecs:UpdateService', 'arn:aws:ecs:us-east-1:123456789012:service/other/other-users')).toBe(false);
    expect(allows(doc, 'elasticloadbalancing:ModifyTargetGroup', 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop-users-b/0123456789abcdef')).toBe(true);
    expect(allows(doc, 'elasticloadbalancing:ModifyListener', 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/net/shop-services/0123456789abcdef/fedcba9876543210')).toBe(true);
    expect(allows(doc, 'elasticloadbalancing:ModifyListener', 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/billing-alb/0123456789abcdef/fedcba9876543210')).toBe(false);
    expect(allows(doc, 'logs:PutRetentionPolicy', 'arn:aws:logs:us-east-1:123456789012:log-group:/ecs/shop/users:*')).toBe(true);
    expect(allows(doc, 'logs:PutRetentionPolicy', 'arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/x')).toBe(false);
    expect(allows(doc, 'ecs:UpdateService', 'arn:aws:ecs:eu-west-1:123456789012:service/shop/shop-users')).toBe(false);

    // Fits an inline role policy (IAM counts the characters without white space).
    expect(JSON.stringify(doc).length).toBeLessThan(10_240);
  });

  it('scopes S3 to the source prefix and the gateway configurations of an S3 artifacts location', async () => {
    const { doc } = await policy('--source', EXAMPLE, '--artifacts', 's3://shop-artifacts/converge/');
    expect(statement(doc, 'S3ListDesiredState')).toMatchObject({
      Action: ['s3:ListBucket'],
      Resource: ['arn:aws:s3:::shop-artifacts'],
      Condition: { StringLike: { 's3:prefix': ['converge/.converge/gateway/shop/*'] } },
    });
    expect(statement(doc, 'S3ReadDesiredState').Resource).toEqual(['arn:aws:s3:::shop-artifacts/converge/.converge/gateway/shop/*']);
    expect(statement(doc, 'S3PublishGatewayConfigs')).toMatchObject({
      Action: ['s3:DeleteObject', 's3:PutObject'],
      Resource: ['arn:aws:s3:::shop-artifacts/converge/.converge/gateway/shop/*'],
    });
    // A folder source has no writer lease: nothing to grant for it.
    expect(doc.Statement.map((s) => s.Sid)).not.toContain('S3WriterLease');
  });

  it('grants sns:Publish on the configured topic and secretsmanager:GetSecretValue on the webhook secret only', async () => {
    const dir = join(work, 'notifications');
    cpSync(EXAMPLE, dir, { recursive: true });
    const topic = 'arn:aws:sns:us-east-1:123456789012:shop-alerts';
    const secret = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:shop-hook';
    const environment = readFileSync(join(dir, 'environment.yaml'), 'utf8');
    const edited = environment.replace(/^spec:\n/m, `spec:\n  notifications:\n    snsTopicArn: ${topic}\n    webhook: { url: "https://hooks.example.com/T0/B0/x", secretArn: ${secret} }\n`);
    expect(edited).not.toBe(environment);
    writeFileSync(join(dir, 'environment.yaml'), edited);
    const { doc } = await policy('--source', dir);
    expect(statement(doc, 'SnsPublishNotifications')).toMatchObject({ Action: ['sns:Publish'], Resource: [topic] });
    expect(statement(doc, 'SecretsManagerWebhookSecret')).toMatchObject({ Action: ['secretsmanager:GetSecretValue'], Resource: [secret, `${secret}-??????`] });
    expect(allows(doc, 'secretsmanager:GetSecretValue', `${secret}-AbC123`)).toBe(true);
    expect(allows(doc, 'secretsmanager:GetSecretValue', 'arn:aws:secretsmanager:us-east-1:123456789012:secret:other-AbC123')).toBe(false);
    // Without notifications (the example), neither statement exists.
    const plain = await policy('--source', EXAMPLE);
    expect(plain.doc.Statement.map((s) => s.Sid)).not.toContain('SnsPublishNotifications');
    expect(plain.doc.Statement.map((s) => s.Sid)).not.toContain('SecretsManagerWebhookSecret');
  });

  it('scopes the VPC and the hosted zone when the Environment gives their ids', async () => {
    const dir = join(work, 'ids');
    cpSync(EXAMPLE, dir, { recursive: true });
    const environment = readFileSync(join(dir, 'environment.yaml'), 'utf8');
    const edited = environment.replace('vpc: { name: shop }', 'vpc: { id: vpc-0abc1234 }').replace('dns: { zone: example.com }', 'dns: { zoneId: Z0123456789ABC }');
    expect(edited).not.toBe(environment);
    writeFileSync(join(dir, 'environment.yaml'), edited);
    const { doc } = await policy('--source', dir);
    expect(statement(doc, 'Ec2CreateSecurityGroups').Resource).toEqual(['arn:aws:ec2:us-east-1:*:vpc/vpc-0abc1234', 'arn:aws:ec2:us-east-1:*:security-group/*']);
    expect(statement(doc, 'Route53ReadHostedZone').Resource).toEqual(['arn:aws:route53:::hostedzone/Z0123456789ABC']);
    expect(statement(doc, 'Route53ChangeRecords').Resource).toEqual(['arn:aws:route53:::hostedzone/Z0123456789ABC']);
  });

  it('names each target group when a long Environment name has them shortened (no `<env>-*` covers them)', async () => {
    const dir = join(work, 'long');
    cpSync(EXAMPLE, dir, { recursive: true });
    const env = 'storefront-production-eu-central';
    const environment = readFileSync(join(dir, 'environment.yaml'), 'utf8');
    writeFileSync(join(dir, 'environment.yaml'), environment.replace(/^ {2}name: shop\b/m, `  name: ${env}`));
    const { doc } = await policy('--source', dir);
    expect(doc.Id).toBe(`converge-task-role-${env}`);
    const groups = resources(statement(doc, 'ElbTargetGroups'));
    expect(groups).toHaveLength(10);
    for (const arn of groups) expect(arn).toMatch(/^arn:aws:elasticloadbalancing:us-east-1:\*:targetgroup\/[a-z0-9-]{1,32}\/\*$/);
    // ECS names are never shortened: the pattern still covers new workloads.
    expect(statement(doc, 'EcsServices').Resource).toEqual([`arn:aws:ecs:us-east-1:*:service/shop/${env}-*`]);
    expect(statement(doc, 'LogsLogGroups').Resource).toEqual([`arn:aws:logs:us-east-1:*:log-group:/ecs/${env}/*`]);
  });

  it('without a desired state prints the wildcard policy and says so', async () => {
    const { doc, stderr } = await policy();
    expectWellFormed(doc);
    expect(doc.Id).toMatch(/UNSCOPED.*wildcard/);
    expect(stderr).toMatch(/no desired state.*wildcard/);
    expect(JSON.stringify(doc)).not.toContain('shop');
    // Still least privilege where the code fixes it: converge's own prefix and tag, the services roles go to.
    expect(statement(doc, 'S3PublishGatewayConfigs').Resource).toEqual(['arn:*:s3:::*/*.converge/gateway/*']);
    expect(statement(doc, 'S3WriterLease')).toMatchObject({ Action: ['s3:PutObject'], Resource: ['arn:*:s3:::*/*.converge/lease.json'] });
    expect(statement(doc, 'S3StatusDocument')).toMatchObject({ Action: ['s3:PutObject'], Resource: ['arn:*:s3:::*/*.converge/status.json'] });
    // Reading every secret is not granted on a guess: notifications need the scoped policy.
    expect(doc.Statement.flatMap((s) => s.Action)).not.toContain('secretsmanager:GetSecretValue');
    expect(doc.Statement.flatMap((s) => s.Action)).not.toContain('sns:Publish');
    expect(statement(doc, 'Ec2OwnedSecurityGroups').Condition).toEqual({ Null: { 'aws:ResourceTag/converge:environment': 'false' } });
    expect(statement(doc, 'IamPassRolesToEcsTasks').Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } });
    expect(statement(doc, 'EcsCluster').Resource).toEqual(['arn:*:ecs:*:*:cluster/*']);
  });

  it('reads CONVERGE_SOURCE like every other command', async () => {
    process.env.CONVERGE_SOURCE = EXAMPLE;
    const { doc } = await policy();
    expect(doc.Id).toBe('converge-task-role-shop');
  });

  it('exits 1 on an invalid desired state, naming the problem', async () => {
    const dir = join(work, 'invalid');
    cpSync(EXAMPLE, dir, { recursive: true });
    writeFileSync(join(dir, 'services.yaml'), readFileSync(join(dir, 'services.yaml'), 'utf8').replace('listenerPort: 10002', 'listenerPort: 10001'));
    const { code, stdout, stderr } = await run('--source', dir);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/listenerPort/);
  });

  it('is in the usage text', async () => {
    let stdout = '';
    await main(['--help'], { stdout: (text) => (stdout += text), stderr: () => undefined });
    expect(stdout).toMatch(/converge iam-policy \[--source SRC\]/);
  });

  it('counts a policy as IAM does (no whitespace), and the example fits in a role\'s inline limit', async () => {
    const { stdout, stderr } = await run('--source', EXAMPLE);
    const document = JSON.parse(stdout) as PolicyDocument;
    expect(policySize(document)).toBe(JSON.stringify(document).length);
    expect(policySize(document)).toBeLessThanOrEqual(INLINE_POLICY_LIMIT);
    expect(stderr).not.toContain('warning');
  });
});
