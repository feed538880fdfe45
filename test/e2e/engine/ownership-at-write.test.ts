/**
 * Ownership must hold when converge writes, not only when it first saw a resource.
 *
 * A long-running converge (one Controller reused across cycles, as the daemon does) must stop
 * modifying a resource as soon as somebody removes converge's ownership tags from it: the
 * resource then is a conflict (reported, never adopted, modified or deleted), exactly as a
 * same-named resource without the tags is on a fresh start. For each taggable type converge
 * manages: converge the example once, remove `converge:environment` and `converge:resource`
 * from one resource with the SDK, change that resource behind converge's back, run one more
 * apply cycle on the same Controller, and read the resource back.
 */
import { CloudWatchLogsClient, DescribeLogGroupsCommand, ListTagsForResourceCommand as ListLogTagsCommand, PutRetentionPolicyCommand, TagResourceCommand as TagLogCommand, UntagResourceCommand as UntagLogCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  BatchGetDeploymentGroupsCommand,
  CodeDeployClient,
  ListTagsForResourceCommand as ListCodeDeployTagsCommand,
  TagResourceCommand as TagCodeDeployCommand,
  UntagResourceCommand as UntagCodeDeployCommand,
  UpdateDeploymentGroupCommand,
} from '@aws-sdk/client-codedeploy';
import { CreateSecurityGroupCommand, CreateTagsCommand, DeleteTagsCommand, DescribeSecurityGroupsCommand, EC2Client, RevokeSecurityGroupIngressCommand, type IpPermission } from '@aws-sdk/client-ec2';
import { DescribeClustersCommand, DescribeServicesCommand, ECSClient, ListTagsForResourceCommand as ListEcsTagsCommand, TagResourceCommand as TagEcsCommand, UntagResourceCommand as UntagEcsCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import {
  AddTagsCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
  ModifyTargetGroupCommand,
  RemoveTagsCommand,
  SetSecurityGroupsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedEnvironment, type SeedResult } from '../../../scripts/seed.js';
import { Controller } from '../../../src/controller.js';
import type { ResourceResult } from '../../../src/engine/engine.js';
import { captureLogs } from '../../support/log-capture.js';
import { useMoto, type MotoClientConfig } from '../../support/moto.js';

const EXAMPLE = fileURLToPath(new URL('../../../desired-state/examples/shop/', import.meta.url));
const OWNERSHIP_TAGS = ['converge:environment', 'converge:resource'];
/** The seeded VPC's CIDR (scripts/seed.ts). */
const VPC_CIDR = '10.0.0.0/16';

type Tags = Record<string, string>;

interface Clients {
  elbv2: ElasticLoadBalancingV2Client;
  logs: CloudWatchLogsClient;
  ec2: EC2Client;
  ecs: ECSClient;
  cd: CodeDeployClient;
  seed: SeedResult;
  /** Partition/region/account prefix of this emulator's ARNs: `arn:aws:codedeploy:us-east-1:123456789012`. */
  codeDeployArnPrefix: string;
}

/** Reads, removes and re-adds tags of one resource through its service's own tagging API. */
interface Tagging {
  read(id: string): Promise<Tags>;
  remove(id: string, keys: string[]): Promise<void>;
  add(id: string, tags: Tags): Promise<void>;
}

interface OwnershipCase {
  /** The resource type, as the test title names it. */
  type: string;
  /** `ResourceResult.resource` and the `resource` field of its log events. */
  resource: string;
  /** The id its service's tagging API takes (an ARN, or a security group id). */
  id(c: Clients): Promise<string>;
  tagging(c: Clients): Tagging;
  /** What the drift changes, read back from AWS. */
  live(c: Clients): Promise<unknown>;
  /** What `live` reads, when it is not the resource itself. */
  reads?: string;
  /** Changes the resource behind converge's back. */
  injectDrift(c: Clients): Promise<void>;
  /** What `live` reads after `injectDrift`. */
  drifted: unknown;
  /** The write calls the drift would make converge do on an owned resource. */
  writes: string[];
}

// ---- tagging, per service --------------------------------------------------------------------

const elbv2Tagging = (c: Clients): Tagging => ({
  async read(arn) {
    const res = await c.elbv2.send(new DescribeTagsCommand({ ResourceArns: [arn] }));
    return Object.fromEntries((res.TagDescriptions?.[0]?.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
  },
  async remove(arn, keys) {
    await c.elbv2.send(new RemoveTagsCommand({ ResourceArns: [arn], TagKeys: keys }));
  },
  async add(arn, tags) {
    await c.elbv2.send(new AddTagsCommand({ ResourceArns: [arn], Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }));
  },
});

const logsTagging = (c: Clients): Tagging => ({
  async read(arn) {
    return (await c.logs.send(new ListLogTagsCommand({ resourceArn: arn }))).tags ?? {};
  },
  async remove(arn, keys) {
    await c.logs.send(new UntagLogCommand({ resourceArn: arn, tagKeys: keys }));
  },
  async add(arn, tags) {
    await c.logs.send(new TagLogCommand({ resourceArn: arn, tags }));
  },
});

const ec2Tagging = (c: Clients): Tagging => ({
  async read(groupId) {
    const res = await c.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
    return Object.fromEntries((res.SecurityGroups?.[0]?.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
  },
  async remove(groupId, keys) {
    await c.ec2.send(new DeleteTagsCommand({ Resources: [groupId], Tags: keys.map((Key) => ({ Key })) }));
  },
  async add(groupId, tags) {
    await c.ec2.send(new CreateTagsCommand({ Resources: [groupId], Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }));
  },
});

const ecsTagging = (c: Clients): Tagging => ({
  async read(arn) {
    const res = await c.ecs.send(new ListEcsTagsCommand({ resourceArn: arn }));
    return Object.fromEntries((res.tags ?? []).map((t) => [t.key ?? '', t.value ?? '']));
  },
  async remove(arn, keys) {
    await c.ecs.send(new UntagEcsCommand({ resourceArn: arn, tagKeys: keys }));
  },
  async add(arn, tags) {
    await c.ecs.send(new TagEcsCommand({ resourceArn: arn, tags: Object.entries(tags).map(([key, value]) => ({ key, value })) }));
  },
});

const codeDeployTagging = (c: Clients): Tagging => ({
  async read(arn) {
    const res = await c.cd.send(new ListCodeDeployTagsCommand({ ResourceArn: arn }));
    return Object.fromEntries((res.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
  },
  async remove(arn, keys) {
    await c.cd.send(new UntagCodeDeployCommand({ ResourceArn: arn, TagKeys: keys }));
  },
  async add(arn, tags) {
    await c.cd.send(new TagCodeDeployCommand({ ResourceArn: arn, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }));
  },
});

// ---- reading resources back ------------------------------------------------------------------

const targetGroup = async (c: Clients, name: string) => (await c.elbv2.send(new DescribeTargetGroupsCommand({ Names: [name] }))).TargetGroups?.[0];
const loadBalancer = async (c: Clients, name: string) => (await c.elbv2.send(new DescribeLoadBalancersCommand({ Names: [name] }))).LoadBalancers?.[0];
const listener = async (c: Clients, lbName: string, port: number) => {
  const lb = await loadBalancer(c, lbName);
  return (await c.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lb?.LoadBalancerArn }))).Listeners?.find((l) => l.Port === port);
};
const logGroup = async (c: Clients, name: string) => (await c.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name }))).logGroups?.find((g) => g.logGroupName === name);
const securityGroup = async (c: Clients, name: string) =>
  (await c.ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [c.seed.vpcId] }, { Name: 'group-name', Values: [name] }] }))).SecurityGroups?.[0];
const ecsService = async (c: Clients, name: string) => (await c.ecs.send(new DescribeServicesCommand({ cluster: 'shop', services: [name] }))).services?.[0];
const deploymentGroup = async (c: Clients, name: string) => (await c.cd.send(new BatchGetDeploymentGroupsCommand({ applicationName: 'shop', deploymentGroupNames: [name] }))).deploymentGroupsInfo?.[0];
const terminateBlueMinutes = async (c: Clients, group: string) => (await deploymentGroup(c, group))?.blueGreenDeploymentConfiguration?.terminateBlueInstancesOnDeploymentSuccess?.terminationWaitTimeInMinutes;
/** Shortens a deployment group's blue termination wait to 1 minute (the example says 5, 30 and 15). */
const shortenTerminateBlue = async (c: Clients, group: string): Promise<void> => {
  await c.cd.send(
    new UpdateDeploymentGroupCommand({
      applicationName: 'shop',
      currentDeploymentGroupName: group,
      blueGreenDeploymentConfiguration: { terminateBlueInstancesOnDeploymentSuccess: { action: 'TERMINATE', terminationWaitTimeInMinutes: 1 }, deploymentReadyOption: { actionOnTimeout: 'CONTINUE_DEPLOYMENT' } },
    }),
  );
};
const ruleKeys = (rules: IpPermission[] | undefined): string[] =>
  (rules ?? []).flatMap((r) => [...(r.IpRanges ?? []).map((x) => `${r.FromPort}-${r.ToPort} from ${x.CidrIp}`), ...(r.UserIdGroupPairs ?? []).map((x) => `${r.FromPort}-${r.ToPort} from ${x.GroupId}`)]).sort();

// ---- the cases: one resource of each taggable type, each from a different chain of dependencies ----

const CASES: OwnershipCase[] = [
  {
    type: 'ELBv2 target group',
    resource: 'AWS::ElasticLoadBalancingV2::TargetGroup shop-billing-a',
    id: async (c) => (await targetGroup(c, 'shop-billing-a'))?.TargetGroupArn ?? '',
    tagging: elbv2Tagging,
    live: async (c) => (await targetGroup(c, 'shop-billing-a'))?.HealthCheckIntervalSeconds,
    injectDrift: async (c) => {
      await c.elbv2.send(new ModifyTargetGroupCommand({ TargetGroupArn: (await targetGroup(c, 'shop-billing-a'))?.TargetGroupArn, HealthCheckIntervalSeconds: 60 }));
    },
    drifted: 60,
    writes: ['ELBv2:ModifyTargetGroup'],
  },
  {
    type: 'ELBv2 listener',
    resource: 'AWS::ElasticLoadBalancingV2::Listener shop-frontend:80',
    id: async (c) => (await listener(c, 'shop-frontend', 80))?.ListenerArn ?? '',
    tagging: elbv2Tagging,
    live: async (c) => (await listener(c, 'shop-frontend', 80))?.DefaultActions?.map((a) => a.Type),
    injectDrift: async (c) => {
      const arn = (await listener(c, 'shop-frontend', 80))?.ListenerArn;
      await c.elbv2.send(new ModifyListenerCommand({ ListenerArn: arn, DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404', ContentType: 'text/plain', MessageBody: 'gone' } }] }));
    },
    drifted: ['fixed-response'],
    writes: ['ELBv2:ModifyListener'],
  },
  {
    type: 'ELBv2 load balancer',
    resource: 'AWS::ElasticLoadBalancingV2::LoadBalancer shop-frontend',
    id: async (c) => (await loadBalancer(c, 'shop-frontend'))?.LoadBalancerArn ?? '',
    tagging: elbv2Tagging,
    live: async (c) => {
      const lb = await loadBalancer(c, 'shop-frontend');
      const names = await Promise.all((lb?.SecurityGroups ?? []).map(async (id) => (await c.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [id] }))).SecurityGroups?.[0]?.GroupName));
      return names.sort();
    },
    injectDrift: async (c) => {
      const lb = await loadBalancer(c, 'shop-frontend');
      const extra = await c.ec2.send(new CreateSecurityGroupCommand({ GroupName: 'someone-elses-alb-group', Description: 'added by hand', VpcId: c.seed.vpcId }));
      await c.elbv2.send(new SetSecurityGroupsCommand({ LoadBalancerArn: lb?.LoadBalancerArn, SecurityGroups: [...(lb?.SecurityGroups ?? []), extra.GroupId ?? ''] }));
    },
    drifted: ['shop-frontend-alb', 'someone-elses-alb-group'],
    writes: ['ELBv2:SetSecurityGroups'],
  },
  {
    type: 'CloudWatch Logs log group',
    resource: 'AWS::Logs::LogGroup /ecs/shop/orders',
    // The ARN without the trailing `:*`, the form the tagging API takes.
    id: async (c) => {
      const group = await logGroup(c, '/ecs/shop/orders');
      return group?.logGroupArn ?? (group?.arn ?? '').replace(/:\*$/, '');
    },
    tagging: logsTagging,
    live: async (c) => (await logGroup(c, '/ecs/shop/orders'))?.retentionInDays,
    injectDrift: async (c) => {
      await c.logs.send(new PutRetentionPolicyCommand({ logGroupName: '/ecs/shop/orders', retentionInDays: 7 }));
    },
    drifted: 7,
    writes: ['Logs:PutRetentionPolicy'],
  },
  {
    type: 'EC2 security group',
    resource: 'AWS::EC2::SecurityGroup shop-users-tasks',
    id: async (c) => (await securityGroup(c, 'shop-users-tasks'))?.GroupId ?? '',
    tagging: ec2Tagging,
    // The users tasks admit port 8000 from the NLB's group, the gateway's group and the VPC (NLB health checks).
    live: async (c) => ruleKeys((await securityGroup(c, 'shop-users-tasks'))?.IpPermissions).includes(`8000-8000 from ${VPC_CIDR}`),
    injectDrift: async (c) => {
      const group = await securityGroup(c, 'shop-users-tasks');
      await c.ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: group?.GroupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 8000, ToPort: 8000, IpRanges: [{ CidrIp: VPC_CIDR }] }] }));
    },
    drifted: false,
    writes: ['EC2:AuthorizeSecurityGroupIngress'],
  },
  {
    type: 'ECS service',
    resource: 'AWS::ECS::Service shop-web',
    id: async (c) => (await ecsService(c, 'shop-web'))?.serviceArn ?? '',
    tagging: ecsTagging,
    live: async (c) => (await ecsService(c, 'shop-web'))?.desiredCount,
    injectDrift: async (c) => {
      await c.ecs.send(new UpdateServiceCommand({ cluster: 'shop', service: 'shop-web', desiredCount: 6 }));
    },
    drifted: 6,
    writes: ['ECS:UpdateService'],
  },
  {
    type: 'CodeDeploy deployment group',
    resource: 'AWS::CodeDeploy::DeploymentGroup gateway',
    id: (c) => Promise.resolve(`${c.codeDeployArnPrefix}:deploymentgroup:shop/gateway`),
    tagging: codeDeployTagging,
    live: (c) => terminateBlueMinutes(c, 'gateway'),
    injectDrift: (c) => shortenTerminateBlue(c, 'gateway'),
    drifted: 1,
    writes: ['CodeDeploy:UpdateDeploymentGroup'],
  },
];

describe('a resource that loses its ownership tags while converge runs (moto)', () => {
  // Certificates issue at once, so the whole example (gateway and frontend behind HTTPS ALBs) converges.
  const moto = useMoto({ setProcessEnv: true, env: { MOTO_ACM_VALIDATION_WAIT: '0' } });
  let clients: Clients;
  let controller: Controller;
  const controllerLogs = captureLogs();

  /** One cycle of the long-lived controller, as the daemon runs them. */
  const cycle = async (mode: 'plan' | 'apply') => {
    const from = controllerLogs.events.length;
    const summary = await controller.runCycle({ mode, trigger: 'manual' });
    const events = controllerLogs.events.slice(from);
    return {
      summary,
      ofEvent: (name: string) => events.filter((e) => e.event === name),
      of: (resource: string): ResourceResult | undefined => summary.resources.find((r) => r.resource === resource),
    };
  };

  /** Applies until a cycle writes nothing; the environment must then be converged, with no conflict. */
  const converge = async (): Promise<void> => {
    let last = await cycle('apply');
    for (let i = 0; i < 4 && last.summary.awsWrites > 0; i += 1) last = await cycle('apply');
    expect(last.summary.outcome, JSON.stringify(last.summary.resources.filter((r) => r.state !== 'InSync'), null, 2)).toBe('converged');
    expect(last.summary.awsWrites).toBe(0);
  };

  beforeAll(async () => {
    const config: MotoClientConfig = moto.clientConfig;
    const seed = await seedEnvironment({ endpoint: moto.endpoint, documentsDir: EXAMPLE });
    const ecs = new ECSClient(config);
    controller = new Controller({ source: seed.source, log: controllerLogs.log });
    // The one controller of this file converges the example; every case then runs on it.
    await converge();
    const clusterArn = (await ecs.send(new DescribeClustersCommand({ clusters: ['shop'] }))).clusters?.[0]?.clusterArn ?? '';
    const [, partition, , region, account] = clusterArn.split(':');
    clients = {
      elbv2: new ElasticLoadBalancingV2Client(config),
      logs: new CloudWatchLogsClient(config),
      ec2: new EC2Client(config),
      ecs,
      cd: new CodeDeployClient(config),
      seed,
      codeDeployArnPrefix: `arn:${partition}:codedeploy:${region}:${account}`,
    };
  }, 90_000);

  afterAll(() => {
    controller?.close();
  });

  it.each(CASES)('$type: removing converge:environment makes it a conflict; the same Controller no longer modifies it', async (c) => {
    const id = await c.id(clients);
    expect(id, `${c.resource} was not found`).not.toBe('');
    const tagging = c.tagging(clients);
    const tags = await tagging.read(id);
    const removed = Object.fromEntries(OWNERSHIP_TAGS.map((key) => [key, tags[key] ?? '']));
    expect(removed['converge:environment'], `${c.resource} carries converge's tags after the first converge`).toBe('shop');
    const before = await c.live(clients);
    expect(before).not.toEqual(c.drifted);

    try {
      await tagging.remove(id, OWNERSHIP_TAGS);
      expect(Object.keys(await tagging.read(id))).not.toContain('converge:environment');
      await c.injectDrift(clients);
      expect(await c.live(clients)).toEqual(c.drifted);

      const after = await cycle('apply');
      const result = after.of(c.resource);
      expect.soft(result?.state, `state of ${c.resource}${result?.message ? ` (${result.message})` : ''}`).toBe('Conflict');
      expect.soft(after.ofEvent('conflict').filter((e) => e.resource === c.resource), `conflict events of ${c.resource}`).toEqual([
        expect.objectContaining({ level: 'warn', resource: c.resource, reason: expect.stringMatching(/ownership tags/) as unknown }),
      ]);
      expect.soft(result?.changes.filter((change) => change.applied) ?? [], `changes applied to ${c.resource}`).toEqual([]);
      for (const op of c.writes) expect.soft(after.summary.callsByOperation[op] ?? 0, `${op} calls`).toBe(0);
      // Neither corrected nor adopted: the drift is still there, the ownership tags still gone.
      expect.soft(await c.live(clients), `${c.reads ?? c.resource} read back after the cycle`).toEqual(c.drifted);
      expect.soft(Object.keys(await tagging.read(id)), `tags of ${c.resource} after the cycle`).not.toContain('converge:environment');
    } finally {
      // Give it back, so that the next case starts from a converged environment.
      await tagging.add(id, removed);
    }
    await converge();
  });

  // An application has no setting of its own that converge manages (its compute platform cannot
  // change): the running controller trusts its cached tags to read and never writes to it. A fresh
  // look (a restarted daemon, `converge plan`) reports the conflict, and its deployment groups wait.
  it('CodeDeploy application: the running controller writes nothing to it; a fresh plan reports the conflict', async () => {
    const id = `${clients.codeDeployArnPrefix}:application:shop`;
    const tagging = codeDeployTagging(clients);
    const removed = Object.fromEntries(OWNERSHIP_TAGS.map((key) => [key, '']));
    const tags = await tagging.read(id);
    for (const key of OWNERSHIP_TAGS) removed[key] = tags[key] ?? '';
    try {
      await tagging.remove(id, OWNERSHIP_TAGS);
      const running = await cycle('apply');
      expect(running.summary.callsByOperation['CodeDeploy:CreateApplication'] ?? 0).toBe(0);
      expect(running.summary.callsByOperation['CodeDeploy:TagResource'] ?? 0).toBe(0);
      expect(Object.keys(await tagging.read(id))).not.toContain('converge:environment');

      const freshLogs = captureLogs();
      const fresh = new Controller({ source: clients.seed.source, log: freshLogs.log });
      try {
        const plan = await fresh.runCycle({ mode: 'plan', trigger: 'manual' });
        expect(plan.resources.find((r) => r.resource === 'AWS::CodeDeploy::Application shop')?.state).toBe('Conflict');
        expect(freshLogs.ofEvent('conflict')).toEqual([expect.objectContaining({ resource: 'AWS::CodeDeploy::Application shop' })]);
        expect(plan.awsWrites).toBe(0);
      } finally {
        fresh.close();
      }
    } finally {
      await tagging.add(id, removed);
    }
    await converge();
  });
});
