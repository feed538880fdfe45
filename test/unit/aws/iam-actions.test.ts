/**
 * Keeps src/aws/iam-actions.ts equal to what the adapters send: every `new <Name>Command(` in
 * src/aws/*.ts is an operation of the list, and every operation of the list is sent somewhere,
 * so the policy never lacks an action converge calls nor grants one it never calls.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  AWS_SERVICES,
  IAM_OPERATIONS,
  ROUTE53_CHANGE_ACTIONS,
  S3_ACTION_OF_OPERATION,
  operationKey,
  partitionOfRegion,
  permissionsOf,
  policyStatements,
  type AwsService,
  type PolicyScope,
} from '../../../src/aws/iam-actions.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const AWS_DIR = join(ROOT, 'src', 'aws');

interface SentCommand {
  file: string;
  service: AwsService;
  operation: string;
}

const serviceOfPackage = new Map(Object.entries(AWS_SERVICES).map(([service, info]) => [info.sdkPackage, service as AwsService]));

/** `{ A, type B, C as D }` imported from each `@aws-sdk/client-*` package: local name -> [package, exported name]. */
function sdkImports(source: string): Map<string, { pkg: string; name: string }> {
  const out = new Map<string, { pkg: string; name: string }>();
  for (const m of source.matchAll(/import\s+(type\s+)?\{([^}]*)\}\s*from\s*'(@aws-sdk\/client-[\w-]+)'/g)) {
    if (m[1]) continue;
    const pkg = m[3] ?? '';
    for (const raw of (m[2] ?? '').split(',')) {
      const part = raw.trim();
      if (part === '' || part.startsWith('type ')) continue;
      const [name = '', alias] = part.split(/\s+as\s+/);
      out.set((alias ?? name).trim(), { pkg, name: name.trim() });
    }
  }
  return out;
}

/** Every command the adapters construct, with the service its package belongs to. */
function sentCommands(): { sent: SentCommand[]; problems: string[] } {
  const sent: SentCommand[] = [];
  const problems: string[] = [];
  for (const entry of readdirSync(AWS_DIR)) {
    if (!entry.endsWith('.ts')) continue;
    const file = join(AWS_DIR, entry);
    const source = readFileSync(file, 'utf8');
    const imports = sdkImports(source);
    for (const m of source.matchAll(/new\s+(\w+)Command\s*\(/g)) {
      const local = `${m[1] ?? ''}Command`;
      const imported = imports.get(local);
      const service = imported ? serviceOfPackage.get(imported.pkg) : undefined;
      if (!imported || !service) {
        problems.push(`src/aws/${entry}: new ${local}( does not come from a known @aws-sdk/client-* package (${imported?.pkg ?? 'not imported'})`);
        continue;
      }
      sent.push({ file: `src/aws/${entry}`, service, operation: imported.name.replace(/Command$/, '') });
    }
  }
  return { sent, problems };
}

function productSourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...productSourceFiles(path));
    else if (entry.endsWith('.ts')) out.push(path);
  }
  return out;
}

describe('the IAM action list (src/aws/iam-actions.ts)', () => {
  const { sent, problems } = sentCommands();
  const sentKeys = new Set(sent.map((c) => operationKey(c.service, c.operation)));
  const listedKeys = IAM_OPERATIONS.map((entry) => operationKey(entry.service, entry.operation));

  it('finds the adapters and the commands they send', () => {
    expect(problems).toEqual([]);
    // A sanity floor: the scan must see the adapters (ecs.ts alone sends 11 operations).
    expect(sentKeys.size).toBeGreaterThan(50);
    expect(sentKeys).toContain('ECS:DescribeServices');
    expect(sentKeys).toContain('S3:ListObjectsV2');
  });

  it('covers every operation an adapter sends', () => {
    const missing = sent.filter((c) => !permissionsOf(operationKey(c.service, c.operation))).map((c) => `${operationKey(c.service, c.operation)} (${c.file})`);
    expect(missing, 'add these operations and their IAM actions to src/aws/iam-actions.ts').toEqual([]);
  });

  it('names no operation that no adapter sends', () => {
    const unused = listedKeys.filter((key) => !sentKeys.has(key));
    expect(unused, 'remove these from src/aws/iam-actions.ts: the policy must not grant what converge never calls').toEqual([]);
  });

  it('lists each operation once', () => {
    expect(listedKeys.filter((key, i) => listedKeys.indexOf(key) !== i)).toEqual([]);
  });

  it('sends no AWS command outside src/aws, so the scan sees every call', () => {
    const outside: string[] = [];
    for (const dir of ['src', 'reconcilers', 'desired-state']) {
      for (const file of productSourceFiles(join(ROOT, dir))) {
        if (file.startsWith(`${AWS_DIR}/`)) continue;
        const source = readFileSync(file, 'utf8');
        if (/new\s+\w+Command\s*\(/.test(source) && /from\s*'@aws-sdk\/client-/.test(source)) outside.push(relative(ROOT, file));
      }
    }
    expect(outside).toEqual([]);
  });

  it("grants each operation its own IAM action first (the operation's name with the service prefix; S3 by its table)", () => {
    const wrong = IAM_OPERATIONS.filter((entry) => {
      const own = entry.service === 'S3' ? S3_ACTION_OF_OPERATION[entry.operation] : `${AWS_SERVICES[entry.service].iamPrefix}:${entry.operation}`;
      return entry.grants[0]?.action !== own;
    }).map((entry) => `${entry.service}:${entry.operation} -> ${entry.grants[0]?.action ?? 'nothing'}`);
    expect(wrong).toEqual([]);
  });

  it('names only well-formed actions of the services converge uses, and explains every extra one', () => {
    // cloudwatch: the alarms target tracking policies create (no CloudWatch call of converge's own).
    const prefixes = new Set([...Object.values(AWS_SERVICES).map((s) => s.iamPrefix), 'iam', 'cloudwatch']);
    for (const entry of IAM_OPERATIONS) {
      for (const [i, g] of entry.grants.entries()) {
        expect(g.action).toMatch(/^[a-z0-9-]+:[A-Z][A-Za-z0-9]+$/);
        expect(prefixes).toContain(g.action.split(':')[0]);
        // Actions beyond the operation's own (tag-on-create, PassRole, service-linked roles, ...) say why.
        if (i > 0 && g.action !== entry.grants[0]?.action) expect(g.because, `${entry.service}:${entry.operation} ${g.action}`).toBeTruthy();
      }
    }
  });

  it('grants the tag-on-create and role actions AWS requires with the create calls', () => {
    const actionsOf = (key: string) => permissionsOf(key)?.grants.map((g) => g.action) ?? [];
    expect(actionsOf('ECS:CreateService')).toContain('ecs:TagResource');
    expect(actionsOf('ECS:CreateCluster')).toEqual(expect.arrayContaining(['ecs:TagResource', 'iam:CreateServiceLinkedRole']));
    expect(actionsOf('ECS:RegisterTaskDefinition')).toEqual(expect.arrayContaining(['ecs:TagResource', 'iam:PassRole']));
    for (const create of ['ELBv2:CreateLoadBalancer', 'ELBv2:CreateTargetGroup', 'ELBv2:CreateListener']) expect(actionsOf(create)).toContain('elasticloadbalancing:AddTags');
    expect(actionsOf('ELBv2:CreateLoadBalancer')).toContain('iam:CreateServiceLinkedRole');
    expect(actionsOf('EC2:CreateSecurityGroup')).toContain('ec2:CreateTags');
    expect(actionsOf('Logs:CreateLogGroup')).toEqual(expect.arrayContaining(['logs:TagResource', 'logs:TagLogGroup']));
    expect(actionsOf('ACM:RequestCertificate')).toContain('acm:AddTagsToCertificate');
    expect(actionsOf('CodeDeploy:CreateApplication')).toContain('codedeploy:TagResource');
    expect(actionsOf('CodeDeploy:CreateDeploymentGroup')).toEqual(expect.arrayContaining(['codedeploy:TagResource', 'iam:PassRole']));
    expect(actionsOf('CodeDeploy:UpdateDeploymentGroup')).toContain('iam:PassRole');
    expect(actionsOf('CodeDeploy:CreateDeployment')).toContain('codedeploy:GetDeploymentConfig');
  });

  it('conditions Route 53 changes on the change actions route53.ts actually sends', () => {
    const source = readFileSync(join(AWS_DIR, 'route53.ts'), 'utf8');
    const actions = [...source.matchAll(/Action:\s*'([A-Z]+)'/g)].map((m) => m[1]);
    expect(actions.length).toBeGreaterThan(0);
    for (const action of actions) expect(ROUTE53_CHANGE_ACTIONS as readonly string[]).toContain(action);
  });

  it('puts every listed action into the policy, with unique alphanumeric Sids', () => {
    const scope: PolicyScope = {
      partition: 'aws',
      region: 'eu-west-1',
      ownershipTag: { key: 'converge:environment', value: 'e' },
      cluster: 'e',
      services: ['e-*'],
      taskFamilies: ['e-*'],
      applicationLoadBalancers: ['e-backend'],
      networkLoadBalancers: ['e-services'],
      targetGroups: ['e-*'],
      logGroups: ['/ecs/e/*'],
      vpcId: 'vpc-1',
      hostedZoneId: 'Z1',
      recordNames: ['a.example.com'],
      codeDeployApplication: 'e',
      deploymentGroups: ['*'],
      deploymentConfigs: ['CodeDeployDefault.ECSAllAtOnce'],
      listBuckets: [{ bucket: 'b', prefixes: ['p/'] }],
      readObjects: ['b/p/*'],
      writeObjects: ['b/p/.converge/gateway/e/*'],
      leaseObjects: ['b/p/.converge/lease.json'],
      statusObjects: ['b/p/.converge/status.json'],
      snsTopics: ['arn:aws:sns:eu-west-1:111122223333:alerts'],
      webhookSecrets: ['arn:aws:secretsmanager:eu-west-1:111122223333:secret:hook'],
      ecsTaskRoles: ['arn:aws:iam::111122223333:role/exec'],
      codeDeployRoles: ['arn:aws:iam::111122223333:role/cd'],
    };
    const statements = policyStatements(scope);
    const granted = new Set(statements.flatMap((s) => s.Action));
    const listed = new Set(IAM_OPERATIONS.flatMap((entry) => entry.grants.map((g) => g.action)));
    expect([...listed].filter((a) => !granted.has(a))).toEqual([]);
    expect([...granted].filter((a) => !listed.has(a))).toEqual([]);
    const sids = statements.map((s) => s.Sid);
    expect(new Set(sids).size).toBe(sids.length);
    for (const sid of sids) expect(sid).toMatch(/^[A-Za-z0-9]+$/);
    // No role to pass: the PassRole statements are left out rather than granted on nothing.
    const withoutRoles = policyStatements({ ...scope, ecsTaskRoles: [], codeDeployRoles: [] });
    expect(withoutRoles.map((s) => s.Sid)).not.toContain('IamPassRolesToEcsTasks');
    expect(withoutRoles.map((s) => s.Sid)).not.toContain('IamPassRoleToCodeDeploy');
    // No notifications configured: nothing is published and no secret value is read (preflight describes secrets, never reads them).
    const withoutNotifications = policyStatements({ ...scope, snsTopics: [], webhookSecrets: [] });
    expect(withoutNotifications.flatMap((s) => s.Action).filter((a) => a.startsWith('sns:') || a === 'secretsmanager:GetSecretValue')).toEqual([]);
  });

  it('knows the partition of a region', () => {
    expect(partitionOfRegion('us-east-1')).toBe('aws');
    expect(partitionOfRegion('cn-north-1')).toBe('aws-cn');
    expect(partitionOfRegion('us-gov-west-1')).toBe('aws-us-gov');
  });
});
