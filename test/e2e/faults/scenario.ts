/**
 * What every case of the fault suite shares: an account prepared from empty or converged (with
 * unowned resources beside converge's), converge run through the fault proxy until it converges,
 * and the checks made afterwards with direct clients to moto: nothing duplicated, everything
 * desired there, a last apply without a write, and no forwarded write that names a resource
 * converge does not own.
 */
import { ACMClient, ListCertificatesCommand, ListTagsForCertificateCommand, RequestCertificateCommand } from '@aws-sdk/client-acm';
import { CloudWatchLogsClient, CreateLogGroupCommand, DescribeLogGroupsCommand, ListTagsForResourceCommand as ListLogTagsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  BatchGetDeploymentsCommand,
  CodeDeployClient,
  CreateApplicationCommand,
  ListDeploymentGroupsCommand,
  ListDeploymentsCommand,
  ListApplicationsCommand,
  ListTagsForResourceCommand as ListCodeDeployTagsCommand,
} from '@aws-sdk/client-codedeploy';
import { CreateSecurityGroupCommand, CreateVpcCommand, DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  CreateClusterCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListServicesCommand,
  ListTagsForResourceCommand as ListEcsTagsCommand,
  ListTaskDefinitionsCommand,
} from '@aws-sdk/client-ecs';
import {
  CreateTargetGroupCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ChangeResourceRecordSetsCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedEnvironment, seedImages, type SeedResult } from '../../../scripts/seed.js';
import { Controller, type CycleSummary } from '../../../src/controller.js';
import { runCli } from '../../support/cli.js';
import { startFaultProxy, type FaultProxy, type FaultRule, type ForwardedWrite, type RequestInfo } from '../../support/fault-proxy.js';
import { captureLogs } from '../../support/log-capture.js';
import { useMoto, type MotoHandle } from '../../support/moto.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const EXAMPLE = join(ROOT, 'desired-state', 'examples', 'shop');
const ENV = 'shop';
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

/** moto as the fault suite runs it: a deployment ends at its first read; certificates are issued at once. */
export const MOTO_ENV = { CONVERGE_EMULATOR_DEPLOY_STEPS: '1', MOTO_ACM_VALIDATION_WAIT: '0' };

const WORKLOADS = ['users', 'billing', 'orders', 'gateway', 'web'] as const;
const BLUE_GREEN = ['users', 'billing', 'gateway', 'web'] as const;
/** What the changed desired state deploys: a new image for users, and a new route that regenerates the gateway configuration. */
export const NEW_USERS_IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/users:1.5.0';
export const NEW_ROUTE = '/users/{id}/profile';

/** Resources converge must never write to, and what identifies them in a request. */
export interface Unowned {
  /** Strings (ids, ARNs, names, keys) that no forwarded write may contain. */
  identifiers: Record<string, string>;
}

export interface Account {
  seed: SeedResult;
  unowned: Unowned;
  /** Whether the desired state was changed after converging (a new image and a new route). */
  changed: boolean;
  /** The published gateway configurations' prefix. */
  gatewayPrefix: string;
  /** Writes of the earlier cases on this account (a converged case that follows an empty one). */
  priorWrites: readonly ForwardedWrite[];
}

/** What a case leaves for the next: its account, converged and checked, and the writes it made. */
export interface CaseResult {
  account: Account;
  writes: readonly ForwardedWrite[];
}

const clientConfig = (moto: MotoHandle) => moto.clientConfig;

/**
 * Resources beside converge's that it must leave alone: some it sees while observing (a certificate
 * for its own domain without its tags, a log group under its prefix, a record in its zone, an object
 * under its gateway prefix), some it never should (a security group with the name it wants but in
 * another VPC, another environment's target group, cluster and CodeDeploy application).
 */
async function seedUnowned(moto: MotoHandle, seed: SeedResult, gatewayPrefix: string): Promise<Unowned> {
  const config = clientConfig(moto);
  const ec2 = new EC2Client(config);
  const otherVpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.1.0.0/16' }))).Vpc?.VpcId ?? '';
  const sameNameOtherVpc = (await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'shop-users-tasks', Description: 'not converge', VpcId: otherVpc }))).GroupId ?? '';
  const otherEnvGroup = (
    await ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: 'other-users-tasks',
        Description: 'another environment',
        VpcId: seed.vpcId,
        TagSpecifications: [{ ResourceType: 'security-group', Tags: [{ Key: 'converge:environment', Value: 'other' }] }],
      }),
    )
  ).GroupId ?? '';
  const elbv2 = new ElasticLoadBalancingV2Client(config);
  const otherTargetGroup =
    (
      await elbv2.send(
        new CreateTargetGroupCommand({ Name: 'other-users-a', Protocol: 'TCP', Port: 8000, VpcId: seed.vpcId, TargetType: 'ip', Tags: [{ Key: 'converge:environment', Value: 'other' }] }),
      )
    ).TargetGroups?.[0]?.TargetGroupArn ?? '';
  const acm = new ACMClient(config);
  const foreignCertificate = (await acm.send(new RequestCertificateCommand({ DomainName: 'api.example.com', ValidationMethod: 'DNS', Tags: [{ Key: 'team', Value: 'someone-else' }] }))).CertificateArn ?? '';
  await new CloudWatchLogsClient(config).send(new CreateLogGroupCommand({ logGroupName: '/ecs/shop/legacy', tags: { team: 'someone-else' } }));
  await new Route53Client(config).send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: seed.hostedZoneId,
      ChangeBatch: { Changes: [{ Action: 'CREATE', ResourceRecordSet: { Name: 'legacy.example.com', Type: 'A', TTL: 60, ResourceRecords: [{ Value: '192.0.2.10' }] } }] },
    }),
  );
  await new S3Client({ ...config, forcePathStyle: true }).send(new PutObjectCommand({ Bucket: seed.bucket, Key: `${gatewayPrefix}README.txt`, Body: 'not a configuration' }));
  const otherCluster = (await new ECSClient(config).send(new CreateClusterCommand({ clusterName: 'other-cluster', tags: [{ key: 'converge:environment', value: 'other' }] }))).cluster?.clusterArn ?? '';
  await new CodeDeployClient(config).send(new CreateApplicationCommand({ applicationName: 'legacy-app', computePlatform: 'ECS', tags: [{ Key: 'converge:environment', Value: 'other' }] }));
  return {
    identifiers: {
      'security group shop-users-tasks in another VPC': sameNameOtherVpc,
      "another environment's security group": otherEnvGroup,
      "another environment's target group": otherTargetGroup,
      'a certificate for api.example.com without converge tags': foreignCertificate,
      'the log group /ecs/shop/legacy': '/ecs/shop/legacy',
      'the record legacy.example.com': 'legacy.example.com',
      'an object under the gateway prefix': `${gatewayPrefix}README.txt`,
      "another environment's cluster": otherCluster,
      "another environment's CodeDeploy application": 'legacy-app',
    },
  };
}

/** The services document with a new users image and a new users route. */
function changedServicesYaml(): string {
  const original = readFileSync(join(EXAMPLE, 'services.yaml'), 'utf8');
  const changed = original
    .replace('users:1.4.2', 'users:1.5.0')
    .replace('    - { path: "/users/{id}", methods: [GET, PUT, DELETE], backendPath: "/v1/users/{id}" }', `    - { path: "/users/{id}", methods: [GET, PUT, DELETE], backendPath: "/v1/users/{id}" }\n    - { path: "${NEW_ROUTE}", methods: [GET] }`);
  if (!changed.includes('users:1.5.0') || !changed.includes(NEW_ROUTE)) throw new Error('the services.yaml edit did not apply');
  return changed;
}

export async function changeDesiredState(moto: MotoHandle, seed: SeedResult): Promise<void> {
  // The new image is pushed before the desired state names it, as a release does (preflight checks it is in ECR).
  await seedImages({ endpoint: moto.endpoint, images: ['123456789012.dkr.ecr.us-east-1.amazonaws.com/users:1.5.0'] });
  await new S3Client({ ...clientConfig(moto), forcePathStyle: true }).send(new PutObjectCommand({ Bucket: seed.bucket, Key: `${seed.prefix}services.yaml`, Body: changedServicesYaml(), ContentType: 'application/yaml' }));
}

/**
 * Apply cycles in this process, straight to moto (process.env points at it: useMoto's
 * setProcessEnv), until one converges or `passes` ran; the last summary.
 */
export async function applyDirect(source: string, passes = 1): Promise<CycleSummary> {
  const { log } = captureLogs();
  const controller = new Controller({ source, log });
  try {
    let summary = await controller.runCycle({ mode: 'apply', trigger: 'manual' });
    for (let pass = 1; pass < passes && summary.outcome !== 'converged'; pass += 1) summary = await controller.runCycle({ mode: 'apply', trigger: 'manual' });
    return summary;
  } finally {
    controller.close();
  }
}

/**
 * An empty account (seeded: VPC, subnets, zone, bucket with the example) with the unowned resources;
 * with `converged`, converge applied to the end straight to moto and the desired state then changed.
 * A converged account may be the one an earlier case of the file left (`after`: it converged from
 * empty through its faults and passed every check, a last apply without a write included), which
 * saves applying it all again.
 */
export async function prepareAccount(moto: MotoHandle, options: { converged: boolean; after?: CaseResult }): Promise<Account> {
  if (options.converged && options.after && !options.after.account.changed) {
    await changeDesiredState(moto, options.after.account.seed);
    return { ...options.after.account, changed: true, priorWrites: [...options.after.account.priorWrites, ...options.after.writes] };
  }
  await moto.reset();
  const seed = await seedEnvironment({ endpoint: moto.endpoint, documentsDir: EXAMPLE });
  const gatewayPrefix = `${seed.prefix}.converge/gateway/${ENV}/`;
  const unowned = await seedUnowned(moto, seed, gatewayPrefix);
  if (!options.converged) return { seed, unowned, changed: false, gatewayPrefix, priorWrites: [] };
  expect((await applyDirect(seed.source, 6)).outcome, 'the account converges before the faults').toBe('converged');
  await changeDesiredState(moto, seed);
  return { seed, unowned, changed: true, gatewayPrefix, priorWrites: [] };
}

/** converge's environment for a child process that talks to AWS through the proxy. */
export function throughProxy(moto: MotoHandle, proxy: FaultProxy, extra: Record<string, string> = {}): Record<string, string> {
  // The writer lease (src/lease): a converge that dies or is cut off holding it holds it until it
  // expires, so the next run waits that long. 10 s keeps that short while leaving the holder 6.7 s
  // of writes after each renewal: a 2-core machine busy with other suites held a converge's event
  // loop past the 3.3 s of a 5 s lease, and the gateway configuration's write was fenced run after run.
  return { ...moto.env, AWS_ENDPOINT_URL: proxy.endpoint, CONVERGE_REQUEST_TIMEOUT: '2s', CONVERGE_LEASE_DURATION: '10s', ...extra };
}

export interface ApplyRuns {
  runs: number;
  codes: (number | null)[];
  last: { code: number | null; stderr: string };
  /** Each run's stderr, for a failure report. */
  stderrs: string[];
}

/** `converge apply` through the proxy until it exits 0 (converged), at most `maxRuns` times. */
export async function applyUntilConverged(proxy: FaultProxy, env: Record<string, string>, source: string, maxRuns = 10): Promise<ApplyRuns> {
  const codes: (number | null)[] = [];
  const stderrs: string[] = [];
  let last = { code: null as number | null, stderr: '' };
  for (let run = 0; run < maxRuns; run += 1) {
    await waitUntilUp(proxy);
    const result = await runCli(['apply', '--source', source], env);
    codes.push(result.code);
    stderrs.push(`${result.stderr}\n---- stdout\n${result.stdout}`);
    last = result;
    if (result.code === 0) return { runs: codes.length, codes, last, stderrs };
  }
  throw Object.assign(new Error(`converge apply did not converge in ${maxRuns} runs through the faults (exit codes ${codes.join(', ')}); last stderr:\n${last.stderr.slice(-4000)}`), { stderrs });
}

async function waitUntilUp(proxy: FaultProxy): Promise<void> {
  for (let i = 0; i < 200 && proxy.isDown; i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
}

export interface KillLoop {
  runs: number;
  killPoints: string[];
  codes: (number | null)[];
  stderrs: string[];
  /** `error` events any run logged (before its kill, or to its end). */
  errors: string[];
}

/**
 * `converge apply` through the proxy, SIGKILLed right after the answer to the first write of a kind
 * (service and operation) not yet used as a kill point was sent, run again and again until a run
 * completes without a kill: every kind of write the apply makes becomes a kill point once.
 */
export async function applyKillingAfterEachWriteKind(proxy: FaultProxy, env: Record<string, string>, args: readonly string[], maxRuns = 40): Promise<KillLoop> {
  const used = new Set<string>();
  const killPoints: string[] = [];
  const codes: (number | null)[] = [];
  const stderrs: string[] = [];
  const errors: string[] = [];
  for (let run = 0; run < maxRuns; run += 1) {
    const outcome = await new Promise<{ code: number | null; killedAfter?: string; stderr: string; errors: string[] }>((resolve, reject) => {
      const child = spawn(process.execPath, [join(ROOT, 'bin', 'converge.js'), 'apply', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let killedAfter: string | undefined;
      let stderr = '';
      let stdout = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      const off = proxy.onResponse((response) => {
        if (killedAfter !== undefined || !response.forwarded || response.kind !== 'write' || response.status >= 300) return;
        const kind = `${response.service}:${response.operation}`;
        if (used.has(kind)) return;
        used.add(kind);
        killedAfter = kind;
        child.kill('SIGKILL');
      });
      child.on('error', (error) => {
        off();
        reject(error);
      });
      child.on('close', (code) => {
        off();
        resolve({ code, killedAfter, stderr: `${stderr}\n---- stdout\n${stdout}`, errors: stdout.split('\n').filter((line) => line.includes('"event":"error"')) });
      });
    });
    codes.push(outcome.code);
    stderrs.push(outcome.stderr);
    errors.push(...outcome.errors);
    if (outcome.killedAfter !== undefined) {
      killPoints.push(outcome.killedAfter);
      continue;
    }
    if (outcome.code === 0) return { runs: codes.length, killPoints, codes, stderrs, errors };
    if (outcome.code !== 3) throw Object.assign(new Error(`converge apply exited ${outcome.code} without being killed:\n${outcome.stderr.slice(-4000)}`), { stderrs });
  }
  throw Object.assign(new Error(`no apply completed without a kill in ${maxRuns} runs (kill points: ${killPoints.join(', ')})`), { stderrs });
}

// ---- checks ------------------------------------------------------------------------------

/** Names that occur more than once. */
function repeated(values: readonly string[]): string[] {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const value of values) (seen.has(value) ? twice : seen).add(value);
  return [...twice].sort();
}

interface Verification {
  /** Duplicates found, by what is duplicated (empty when none). */
  duplicates: Record<string, string[]>;
  /** Resources referenced by forwarded writes, checked for converge's ownership. */
  referencesChecked: number;
}

const isOwnedTags = (tags: Record<string, string | undefined>): boolean => tags['converge:environment'] === ENV;

/** Task definition registrations / deployments whose answer never reached converge (so a retry could repeat them). */
function lostAnswers(writes: readonly ForwardedWrite[], operation: string, needle: string): number {
  return writes.filter((w) => w.operation === operation && !w.delivered && w.body.includes(needle)).length;
}

/**
 * Everything the fault suite asserts after converge converged through the faults. `writes` is the
 * proxy's log of forwarded writes (every run of the case), `before` the task definition revisions
 * and deployments there were before the faulted runs.
 */
export async function verifyEnvironment(moto: MotoHandle, account: Account, writes: readonly ForwardedWrite[]): Promise<Verification> {
  const config = clientConfig(moto);
  const { seed } = account;
  // Revisions and deployments an earlier case on this account may have repeated count too.
  const allWrites = [...account.priorWrites, ...writes];
  const duplicates: Record<string, string[]> = {};
  const note = (what: string, names: string[]): void => {
    if (names.length > 0) duplicates[what] = names;
  };

  // Security groups, by name per VPC: converge's eight, once each.
  const ec2 = new EC2Client(config);
  const groups = (await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [seed.vpcId] }] }))).SecurityGroups ?? [];
  note('security groups (by name, in the VPC)', repeated(groups.map((g) => g.GroupName ?? '')));
  const ownedGroups = groups.filter((g) => (g.Tags ?? []).some((t) => t.Key === 'converge:environment' && t.Value === ENV));
  expect(ownedGroups.map((g) => g.GroupName).sort()).toEqual(['shop-backend-alb', 'shop-frontend-alb', 'shop-services-nlb', ...WORKLOADS.map((w) => `shop-${w}-tasks`)].sort());

  // Load balancers, target groups, listeners per port.
  const elbv2 = new ElasticLoadBalancingV2Client(config);
  const balancers = (await elbv2.send(new DescribeLoadBalancersCommand({}))).LoadBalancers ?? [];
  note('load balancers', repeated(balancers.map((b) => b.LoadBalancerName ?? '')));
  expect(balancers.map((b) => b.LoadBalancerName).sort()).toEqual(['shop-backend', 'shop-frontend', 'shop-services']);
  const targetGroups = (await elbv2.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? [];
  note('target groups', repeated(targetGroups.map((t) => t.TargetGroupName ?? '')));
  expect(targetGroups.map((t) => t.TargetGroupName).sort()).toEqual(['other-users-a', ...WORKLOADS.flatMap((w) => [`shop-${w}-a`, `shop-${w}-b`])].sort());
  const listenerPorts: Record<string, number[]> = {};
  for (const balancer of balancers) {
    const listeners = (await elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: balancer.LoadBalancerArn }))).Listeners ?? [];
    const ports = listeners.map((l) => l.Port ?? 0);
    note(`listeners of ${balancer.LoadBalancerName ?? '?'} (by port)`, repeated(ports.map(String)));
    listenerPorts[balancer.LoadBalancerName ?? '?'] = [...ports].sort((a, b) => a - b);
  }
  expect(listenerPorts).toEqual({ 'shop-backend': [80, 443], 'shop-frontend': [80, 443], 'shop-services': [10001, 10002, 10003] });

  // ECS services, task definition revisions, what the services run.
  const ecs = new ECSClient(config);
  const serviceArns = (await ecs.send(new ListServicesCommand({ cluster: 'shop', maxResults: 100 }))).serviceArns ?? [];
  const services = (await ecs.send(new DescribeServicesCommand({ cluster: 'shop', services: serviceArns, include: ['TAGS'] }))).services ?? [];
  note('ECS services', repeated(services.filter((s) => s.status === 'ACTIVE').map((s) => s.serviceName ?? '')));
  expect(services.filter((s) => s.status === 'ACTIVE').map((s) => s.serviceName).sort()).toEqual(WORKLOADS.map((w) => `shop-${w}`).sort());
  for (const workload of WORKLOADS) {
    const family = `shop-${workload}`;
    const revisions = (await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: family }))).taskDefinitionArns?.filter((arn) => arn.includes(`/${family}:`)) ?? [];
    // One revision per desired revision; a registration whose answer was lost may have been repeated by the SDK's retry.
    const expected = (account.changed && (workload === 'users' || workload === 'gateway') ? 2 : 1) + lostAnswers(allWrites, 'RegisterTaskDefinition', `"family":"${family}"`);
    expect(revisions.length, `${family} revisions: ${revisions.join(', ')}`).toBeLessThanOrEqual(expected);
  }
  const running = async (workload: string) => {
    const arn = services.find((s) => s.serviceName === `shop-${workload}`)?.taskDefinition ?? '';
    return (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn }))).taskDefinition;
  };
  const users = await running('users');
  expect(users?.containerDefinitions?.[0]?.image).toBe(account.changed ? NEW_USERS_IMAGE : '123456789012.dkr.ecr.us-east-1.amazonaws.com/users:1.4.2');

  // The gateway runs the configuration of today's routes, published once under its hash.
  const gateway = await running('gateway');
  const configUri = gateway?.containerDefinitions?.flatMap((c) => c.command ?? []).find((arg) => arg.startsWith(`s3://${seed.bucket}/${account.gatewayPrefix}`)) ?? '';
  expect(configUri, 'the gateway pins a published configuration').not.toBe('');
  const s3 = new S3Client({ ...config, forcePathStyle: true });
  const published = await (await s3.send(new GetObjectCommand({ Bucket: seed.bucket, Key: configUri.slice(`s3://${seed.bucket}/`.length) }))).Body?.transformToString('utf8');
  expect(published?.includes(`"endpoint": "${NEW_ROUTE}"`) || published?.includes(`"endpoint":"${NEW_ROUTE}"`)).toBe(account.changed);

  // Certificates: one of converge's per domain (the unowned one for api.example.com stays beside it).
  const acm = new ACMClient(config);
  const certificates = (await acm.send(new ListCertificatesCommand({}))).CertificateSummaryList ?? [];
  const ownedDomains: string[] = [];
  for (const certificate of certificates) {
    const tags = (await acm.send(new ListTagsForCertificateCommand({ CertificateArn: certificate.CertificateArn }))).Tags ?? [];
    if (isOwnedTags(Object.fromEntries(tags.map((t) => [t.Key ?? '', t.Value])))) ownedDomains.push(certificate.DomainName ?? '');
  }
  note('ACM certificates (by domain)', repeated(ownedDomains));
  expect(ownedDomains.sort()).toEqual(['api.example.com', 'www.example.com']);

  // Route 53: each record set once; one validation record per domain (a second certificate would add one).
  const records = (await new Route53Client(config).send(new ListResourceRecordSetsCommand({ HostedZoneId: seed.hostedZoneId }))).ResourceRecordSets ?? [];
  note('Route 53 record sets (by name and type)', repeated(records.map((r) => `${r.Name ?? ''} ${r.Type ?? ''}`)));
  expect(records.filter((r) => r.Type === 'CNAME')).toHaveLength(2);
  expect(records.filter((r) => r.Type === 'A').map((r) => r.Name).sort()).toEqual(['api.example.com.', 'legacy.example.com.', 'www.example.com.']);

  // Log groups.
  const logGroups = (await new CloudWatchLogsClient(config).send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/ecs/shop/' }))).logGroups ?? [];
  note('log groups', repeated(logGroups.map((g) => g.logGroupName ?? '')));
  expect(logGroups.map((g) => g.logGroupName).sort()).toEqual(['/ecs/shop/legacy', ...WORKLOADS.map((w) => `/ecs/shop/${w}`)].sort());

  // CodeDeploy: one application, one group per blue/green workload, at most one active deployment per group.
  const codedeploy = new CodeDeployClient(config);
  const applications = (await codedeploy.send(new ListApplicationsCommand({}))).applications ?? [];
  note('CodeDeploy applications', repeated(applications));
  expect(applications.sort()).toEqual(['legacy-app', 'shop']);
  const deploymentGroups = (await codedeploy.send(new ListDeploymentGroupsCommand({ applicationName: 'shop' }))).deploymentGroups ?? [];
  note('CodeDeploy deployment groups', repeated(deploymentGroups));
  expect([...deploymentGroups].sort()).toEqual([...BLUE_GREEN].sort());
  for (const group of BLUE_GREEN) {
    const ids = (await codedeploy.send(new ListDeploymentsCommand({ applicationName: 'shop', deploymentGroupName: group }))).deployments ?? [];
    const infos = ids.length === 0 ? [] : ((await codedeploy.send(new BatchGetDeploymentsCommand({ deploymentIds: ids }))).deploymentsInfo ?? []);
    const active = infos.filter((d) => ['Created', 'Queued', 'InProgress', 'Baking', 'Ready'].includes(d.status ?? ''));
    if (active.length > 1) note(`active deployments of ${group}`, active.map((d) => d.deploymentId ?? ''));
    const expected = (account.changed && (group === 'users' || group === 'gateway') ? 1 : 0) + lostAnswers(allWrites, 'CreateDeployment', `"deploymentGroupName":"${group}"`);
    expect(infos.length, `deployments of ${group}: ${infos.map((d) => `${d.deploymentId} ${d.status}`).join(', ')}`).toBeLessThanOrEqual(expected);
    if (account.changed && (group === 'users' || group === 'gateway')) expect(infos.some((d) => d.status === 'Succeeded')).toBe(true);
  }

  // Nothing lost: a last apply, straight to moto, finds nothing to do.
  const quiet = await applyDirect(seed.source);
  expect(quiet.outcome, JSON.stringify(quiet.resources.filter((r) => r.state !== 'InSync'), null, 2)).toBe('converged');
  expect(quiet.awsWrites, JSON.stringify(quiet.callsByOperation)).toBe(0);

  const referencesChecked = await verifyWrites(moto, account, writes);
  return { duplicates, referencesChecked };
}

// ---- what the forwarded writes touched -------------------------------------------------------

const ELB_ARN = /arn:aws:elasticloadbalancing:[a-z0-9-]+:\d{12}:(?:loadbalancer|targetgroup|listener)\/[A-Za-z0-9._/-]+/g;
const ACM_ARN = /arn:aws:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+/g;
const ECS_ARN = /arn:aws:ecs:[a-z0-9-]+:\d{12}:(?:cluster|service|task-definition)\/[A-Za-z0-9._/:-]+/g;
const SECURITY_GROUP = /\bsg-[0-9a-f]{8,17}\b/g;
const LOG_GROUP = /"logGroupName":"([^"]+)"|arn:aws:logs:[a-z0-9-]+:\d{12}:log-group:([^":*]+)/g;
const CODEDEPLOY_APP = /"applicationName":"([^"]+)"/g;
const R53_NAME = /<Name>([^<]+)<\/Name>/g;

const matches = (text: string, pattern: RegExp): string[] => [...text.matchAll(pattern)].map((m) => m[0]);
const captures = (text: string, pattern: RegExp): string[] => [...text.matchAll(pattern)].map((m) => m[1] ?? m[2] ?? '');

/**
 * No forwarded write names an unowned resource, and every resource a write names (security group
 * ids, ELBv2, ACM and ECS ARNs, log groups, the CodeDeploy application, record names, S3 keys) is
 * converge's: tagged for this environment (or, for records and objects, one converge derives).
 */
async function verifyWrites(moto: MotoHandle, account: Account, writes: readonly ForwardedWrite[]): Promise<number> {
  expect(writes.length, 'the faulted runs forwarded writes').toBeGreaterThan(0);
  for (const write of writes) {
    const text = `${write.path}\n${write.body}`;
    for (const [what, identifier] of Object.entries(account.unowned.identifiers)) {
      expect(text.includes(identifier), `${write.service} ${write.operation} names ${what} (${identifier})`).toBe(false);
    }
  }
  const config = clientConfig(moto);
  const all = writes.map((w) => `${w.path}\n${w.body}`).join('\n');
  let checked = 0;

  const groupIds = [...new Set(matches(all, SECURITY_GROUP))];
  if (groupIds.length > 0) {
    const groups = (await new EC2Client(config).send(new DescribeSecurityGroupsCommand({ GroupIds: groupIds }))).SecurityGroups ?? [];
    for (const id of groupIds) {
      const group = groups.find((g) => g.GroupId === id);
      expect(group && isOwnedTags(Object.fromEntries((group.Tags ?? []).map((t) => [t.Key ?? '', t.Value]))), `a write names security group ${id}, not converge's`).toBe(true);
      checked += 1;
    }
  }
  const elbArns = [...new Set(matches(all, ELB_ARN))];
  const elbv2 = new ElasticLoadBalancingV2Client(config);
  for (let i = 0; i < elbArns.length; i += 20) {
    const batch = elbArns.slice(i, i + 20);
    const described = (await elbv2.send(new DescribeTagsCommand({ ResourceArns: batch }))).TagDescriptions ?? [];
    for (const arn of batch) {
      const tags = described.find((d) => d.ResourceArn === arn)?.Tags ?? [];
      expect(isOwnedTags(Object.fromEntries(tags.map((t) => [t.Key ?? '', t.Value]))), `a write names ${arn}, not converge's`).toBe(true);
      checked += 1;
    }
  }
  const acm = new ACMClient(config);
  for (const arn of new Set(matches(all, ACM_ARN))) {
    const tags = (await acm.send(new ListTagsForCertificateCommand({ CertificateArn: arn }))).Tags ?? [];
    expect(isOwnedTags(Object.fromEntries(tags.map((t) => [t.Key ?? '', t.Value]))), `a write names ${arn}, not converge's`).toBe(true);
    checked += 1;
  }
  const ecs = new ECSClient(config);
  for (const arn of new Set(matches(all, ECS_ARN).map((a) => a.replace(/[.,]$/, '')))) {
    const tags = (await ecs.send(new ListEcsTagsCommand({ resourceArn: arn }))).tags ?? [];
    expect(isOwnedTags(Object.fromEntries(tags.map((t) => [t.key ?? '', t.value]))), `a write names ${arn}, not converge's`).toBe(true);
    checked += 1;
  }
  const logs = new CloudWatchLogsClient(config);
  for (const name of new Set(writes.filter((w) => w.service === 'Logs').flatMap((w) => captures(w.body, LOG_GROUP)))) {
    const arn = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${name}`;
    const tags = (await logs.send(new ListLogTagsCommand({ resourceArn: arn }))).tags ?? {};
    expect(isOwnedTags(tags), `a write names log group ${name}, not converge's`).toBe(true);
    checked += 1;
  }
  const codedeploy = new CodeDeployClient(config);
  for (const application of new Set(writes.filter((w) => w.service === 'CodeDeploy').flatMap((w) => captures(w.body, CODEDEPLOY_APP)))) {
    expect(application).toBe('shop');
    const tags = (await codedeploy.send(new ListCodeDeployTagsCommand({ ResourceArn: `arn:aws:codedeploy:${REGION}:${ACCOUNT}:application:${application}` }))).Tags ?? [];
    expect(isOwnedTags(Object.fromEntries(tags.map((t) => [t.Key ?? '', t.Value]))), `a write names CodeDeploy application ${application}, not converge's`).toBe(true);
    checked += 1;
  }
  for (const write of writes.filter((w) => w.service === 'Route53')) {
    for (const name of captures(write.body, R53_NAME)) {
      expect(/(^|\.)(api|www)\.example\.com\.?$/.test(name), `Route 53 ${write.operation} writes ${name}, not one of converge's records`).toBe(true);
      checked += 1;
    }
  }
  const escape = (text: string): string => text.replace(/[.]/g, '\\.');
  // converge's own objects: published gateway configurations (named by their hash), and its state
  // objects directly under the reserved prefix (the writer lease, the daemon's status).
  const ownKey = new RegExp(`^(?:${escape(account.gatewayPrefix)}[0-9a-f]{64}\\.json|${escape(account.seed.prefix)}\\.converge/[a-z-]+\\.json)$`);
  for (const write of writes.filter((w) => w.service === 'S3')) {
    const key = write.path.replace(/^\/[^/]+\//, '').replace(/\?.*$/, '');
    expect(key, `S3 ${write.operation} ${key}: not one of converge's objects`).toMatch(ownKey);
    checked += 1;
  }
  for (const write of writes.filter((w) => w.operation === 'CreateSecurityGroup')) {
    expect(write.body).toContain(`VpcId=${account.seed.vpcId}`);
  }
  return checked;
}

// ---- figures ---------------------------------------------------------------------------------

export interface CaseFigures {
  case: string;
  start: 'empty' | 'converged';
  driver: 'apply' | 'run';
  faults: Record<string, number>;
  /** Faults on writes, before forwarding (never reached moto) and after (moto did it, the answer was lost). */
  writeFaults: { before: number; after: number };
  runs?: number;
  cycles?: number;
  exitCodes?: (number | null)[];
  killPoints?: number;
  writesForwarded: number;
  writesAnswerLost: number;
  referencesChecked: number;
  duplicates: number;
  seconds: number;
}

/** One line of JSON per case, for the closing note: `[fault-figures] {...}`. */
export function reportFigures(figures: CaseFigures): void {
  console.log(`[fault-figures] ${JSON.stringify(figures)}`);
}

export function faultFigures(proxy: FaultProxy): Pick<CaseFigures, 'faults' | 'writeFaults' | 'writesForwarded' | 'writesAnswerLost'> {
  const faults: Record<string, number> = {};
  for (const [kind, count] of Object.entries(proxy.counts)) if (count > 0) faults[kind] = count;
  return {
    faults,
    writeFaults: {
      before: proxy.faults.filter((f) => f.kind === 'write' && f.when === 'before').length,
      after: proxy.faults.filter((f) => f.kind === 'write' && f.when === 'after').length,
    },
    writesForwarded: proxy.writes.length,
    writesAnswerLost: proxy.writes.filter((w) => !w.delivered).length,
  };
}

/**
 * Writes to a file what a failed case needs to be understood: the runs' output, the faults and
 * the forwarded writes (every case does it when it fails; CONVERGE_FAULT_DUMP=1 also for the
 * daemon case that passed). Figures go to stdout as `[fault-figures] {...}`, one line per case.
 */
export function dumpCase(name: string, stderrs: readonly string[], proxy: FaultProxy): string {
  const file = join(tmpdir(), `converge-faults-${name.replace(/[^a-z0-9]+/gi, '-')}.log`);
  const writes = proxy.writes.map((w) => `#${w.seq} ${w.service} ${w.operation} status=${w.status ?? '-'} delivered=${w.delivered} ${w.path} ${w.body.slice(0, 400).replace(/\n/g, ' ')}`);
  const faults = proxy.faults.map((f) => `#${f.seq} ${f.fault} ${f.when} ${f.service} ${f.operation} ${f.kind}`);
  writeFileSync(file, [...stderrs.map((s, i) => `==== run ${i + 1}\n${s}`), '==== faults', ...faults, '==== writes', ...writes].join('\n'));
  return file;
}

// ---- one case of rule-driven faults ------------------------------------------------------------

export const isWrite = (r: RequestInfo): boolean => r.kind === 'write';
export const writeKind = (r: RequestInfo): string => `${r.service}:${r.operation}`;

export interface FaultCase {
  name: string;
  rules: FaultRule[];
  env?: Record<string, string>;
  /** Writes must have been hit both before forwarding and after. */
  bothSides: boolean;
}

/**
 * One case: the account prepared (empty, or converged with a changed desired state), `converge
 * apply` through the proxy under the case's rules until it exits 0, then every check, and the
 * figures printed.
 */
export async function runFaultCase(moto: MotoHandle, proxy: FaultProxy, c: FaultCase, start: 'empty' | 'converged', after?: CaseResult): Promise<CaseResult> {
  const started = Date.now();
  const account = await prepareAccount(moto, { converged: start === 'converged', after });
  proxy.resetStats();
  proxy.setRules(c.rules);
  const runs = await applyUntilConverged(proxy, throughProxy(moto, proxy, c.env), account.seed.source)
    .catch((error: unknown) => {
      console.log(`[fault-figures] failed case ${c.name} from ${start}; details in ${dumpCase(`${c.name}-${start}`, (error as { stderrs?: string[] }).stderrs ?? [], proxy)}`);
      throw error;
    })
    .finally(() => proxy.setRules([]));
  const figures = faultFigures(proxy);
  const verified = await verifyEnvironment(moto, account, proxy.writes).catch((error: unknown) => {
    console.log(`[fault-figures] failed case ${c.name} from ${start}: ${JSON.stringify({ ...figures, runs: runs.codes })}; details in ${dumpCase(`${c.name}-${start}`, runs.stderrs, proxy)}`);
    throw error;
  });
  reportFigures({
    case: c.name,
    start,
    driver: 'apply',
    ...figures,
    runs: runs.runs,
    exitCodes: runs.codes,
    referencesChecked: verified.referencesChecked,
    duplicates: Object.values(verified.duplicates).flat().length,
    seconds: Math.round((Date.now() - started) / 100) / 10,
  });
  expect(verified.duplicates).toEqual({});
  expect(Object.values(figures.faults).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  if (c.bothSides) {
    expect(figures.writeFaults.before, 'writes hit before forwarding').toBeGreaterThan(0);
    expect(figures.writeFaults.after, 'writes hit after forwarding').toBeGreaterThan(0);
  }
  return { account, writes: [...proxy.writes] };
}

/**
 * One emulator behind one fault proxy (seeded) for the file, and per case two tests: from an empty
 * account, then from the account that case converged, with a changed desired state.
 */
export function describeFaultCases(title: string, cases: readonly FaultCase[], seed: number): void {
  describe(title, () => {
    const moto = useMoto({ setProcessEnv: true, env: MOTO_ENV });
    let proxy: FaultProxy;

    beforeAll(async () => {
      proxy = await startFaultProxy({ target: moto.endpoint, seed });
    });
    afterAll(async () => {
      await proxy?.close();
    });

    for (const c of cases) {
      // The converged case goes on with the account the empty one converged (and checked).
      let fromEmpty: CaseResult | undefined;
      it(`${c.name}, from an empty account`, async () => {
        fromEmpty = await runFaultCase(moto, proxy, c, 'empty');
      }, 300_000);
      it(`${c.name}, from a converged account with a new image and route`, async () => {
        await runFaultCase(moto, proxy, c, 'converged', fromEmpty);
      }, 300_000);
    }
  });
}
