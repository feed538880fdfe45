import {
  BatchGetDeploymentGroupsCommand,
  BatchGetDeploymentsCommand,
  CodeDeployClient,
  ListDeploymentsCommand,
  ListTagsForResourceCommand,
  UpdateDeploymentGroupCommand,
} from '@aws-sdk/client-codedeploy';
import { DescribeServicesCommand, DescribeTaskDefinitionCommand, ECSClient } from '@aws-sdk/client-ecs';
import { CreateTargetGroupCommand, DescribeListenersCommand, DescribeLoadBalancersCommand, ElasticLoadBalancingV2Client, ModifyListenerCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { seedEnvironment, seedImages, type SeedResult } from '../../../scripts/seed.js';
import { waitForDeployments } from '../../../src/cli/wait.js';
import { Controller, type CycleSummary } from '../../../src/controller.js';
import type { ResourceResult } from '../../../src/engine/engine.js';
import { captureLogs } from '../../support/log-capture.js';
import { useMoto } from '../../support/moto.js';

const EXAMPLE = fileURLToPath(new URL('../../../desired-state/examples/shop/', import.meta.url));
const USERS = 'AWS::ECS::Service shop-users';
const BILLING = 'AWS::ECS::Service shop-billing';
const USERS_LISTENER = 'AWS::ElasticLoadBalancingV2::Listener shop-services:10001';

/** What the test changes in the example's services.yaml. */
interface Edits {
  usersImage?: string;
  usersDesiredCount?: number;
  billingDeployment?: string;
  usersDeployment?: string;
}

function renderServices(original: string, edits: Edits): string {
  let text = original;
  if (edits.usersImage) text = text.replace('users:1.4.2', `users:${edits.usersImage}`);
  if (edits.usersDesiredCount !== undefined) text = text.replace('desiredCount: 2\n  listenerPort: 10001', `desiredCount: ${edits.usersDesiredCount}\n  listenerPort: 10001`);
  if (edits.usersDeployment) text = text.replace('  deployment: { strategy: blue-green }\n  routes:', `  deployment: ${edits.usersDeployment}\n  routes:`);
  if (edits.billingDeployment) text = text.replace('  deployment:\n    terminateBlueAfterMinutes: 30\n', `  deployment:\n    terminateBlueAfterMinutes: 30\n${edits.billingDeployment}`);
  if (text === original && Object.keys(edits).length > 0) throw new Error('the edits did not apply to services.yaml');
  return text;
}

describe('blue/green deployments through CodeDeploy (moto)', () => {
  // Certificates issue at once, so the whole example (gateway and frontend behind HTTPS ALBs) converges.
  const moto = useMoto({ setProcessEnv: true, env: { CONVERGE_EMULATOR_DEPLOY_STEPS: '0', MOTO_ACM_VALIDATION_WAIT: '0' } });
  let seed: SeedResult;
  let original = '';
  let controller: Controller;
  const controllerLogs = captureLogs();
  let cd: CodeDeployClient;
  let ecs: ECSClient;
  let elbv2: ElasticLoadBalancingV2Client;

  beforeAll(async () => {
    seed = await seedEnvironment({ endpoint: moto.endpoint, documentsDir: EXAMPLE });
    original = await readFile(`${EXAMPLE}services.yaml`, 'utf8');
    controller = new Controller({ source: seed.source, log: controllerLogs.log });
    cd = new CodeDeployClient(moto.clientConfig);
    ecs = new ECSClient(moto.clientConfig);
    elbv2 = new ElasticLoadBalancingV2Client(moto.clientConfig);
  });

  const publish = async (edits: Edits): Promise<void> => {
    // A release pushes its image before it names it (preflight checks that the image is in ECR).
    if (edits.usersImage) await seedImages({ endpoint: moto.endpoint, images: [`123456789012.dkr.ecr.us-east-1.amazonaws.com/users:${edits.usersImage}`] });
    const s3 = new S3Client({ ...moto.clientConfig, forcePathStyle: true });
    await s3.send(new PutObjectCommand({ Bucket: seed.bucket, Key: `${seed.prefix}services.yaml`, Body: renderServices(original, edits) }));
  };

  /** One cycle of the long-lived controller (as the daemon runs them), or of a fresh one (a restart). */
  const cycle = async (mode: 'plan' | 'apply', fresh = false) => {
    const logs = fresh ? captureLogs() : controllerLogs;
    const from = logs.events.length;
    const c = fresh ? new Controller({ source: seed.source, log: logs.log }) : controller;
    const summary = await c.runCycle({ mode, trigger: 'manual' });
    const events = logs.events.slice(from);
    return {
      summary,
      logs: { events, ofEvent: (name: string) => events.filter((e) => e.event === name) },
      of: (resource: string): ResourceResult | undefined => summary.resources.find((r) => r.resource === resource),
    };
  };
  const calls = (summary: CycleSummary, op: string): number => summary.callsByOperation[op] ?? 0;
  const usersListener = async (): Promise<{ arn: string; groups: { arn: string; weight: number }[] }> => {
    const nlb = await elbv2.send(new DescribeLoadBalancersCommand({ Names: ['shop-services'] }));
    const listeners = await elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: nlb.LoadBalancers?.[0]?.LoadBalancerArn }));
    const listener = listeners.Listeners?.find((l) => l.Port === 10001);
    const action = listener?.DefaultActions?.[0];
    const groups = action?.ForwardConfig?.TargetGroups?.map((t) => ({ arn: t.TargetGroupArn ?? '', weight: t.Weight ?? 1 })) ?? [{ arn: action?.TargetGroupArn ?? '', weight: 1 }];
    return { arn: listener?.ListenerArn ?? '', groups };
  };
  const usersService = async () => (await ecs.send(new DescribeServicesCommand({ cluster: 'shop', services: ['shop-users'], include: ['TAGS'] }))).services?.[0];
  const latestUsersTask = async () => (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'shop-users' }))).taskDefinition;

  it('creates one ECS application and a blue/green deployment group per service, then is quiet', async () => {
    const first = await cycle('apply');
    expect(first.of(USERS)?.state).toBe('InSync');
    expect(first.summary.resources.filter((r) => r.state === 'Failed')).toEqual([]);
    // The HTTPS listeners (and so the gateway and frontend) wait a cycle or two for their certificates.
    for (let i = 0; i < 4 && (await cycle('apply')).summary.awsWrites > 0; i += 1);
    const groups = await cd.send(new BatchGetDeploymentGroupsCommand({ applicationName: 'shop', deploymentGroupNames: ['users', 'billing', 'gateway', 'web', 'orders'] }));
    expect(groups.deploymentGroupsInfo?.map((g) => g.deploymentGroupName).sort()).toEqual(['billing', 'gateway', 'users', 'web']);
    expect(groups.deploymentGroupsInfo?.find((g) => g.deploymentGroupName === 'web')?.deploymentConfigName).toBe('CodeDeployDefault.ECSCanary10Percent5Minutes');
    const users = groups.deploymentGroupsInfo?.find((g) => g.deploymentGroupName === 'users');
    const listener = await usersListener();
    expect(users).toMatchObject({
      computePlatform: 'ECS',
      serviceRoleArn: 'arn:aws:iam::123456789012:role/shop-codedeploy',
      deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
      deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
      blueGreenDeploymentConfiguration: { terminateBlueInstancesOnDeploymentSuccess: { action: 'TERMINATE', terminationWaitTimeInMinutes: 5 } },
      autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE'] },
      ecsServices: [{ clusterName: 'shop', serviceName: 'shop-users' }],
      loadBalancerInfo: { targetGroupPairInfoList: [{ targetGroups: [{ name: 'shop-users-a' }, { name: 'shop-users-b' }], prodTrafficRoute: { listenerArns: [listener.arn] } }] },
    });
    expect(groups.deploymentGroupsInfo?.find((g) => g.deploymentGroupName === 'billing')?.blueGreenDeploymentConfiguration?.terminateBlueInstancesOnDeploymentSuccess?.terminationWaitTimeInMinutes).toBe(30);
    const tags = await cd.send(new ListTagsForResourceCommand({ ResourceArn: 'arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:shop/users' }));
    expect(tags.Tags).toEqual(expect.arrayContaining([{ Key: 'converge:environment', Value: 'shop' }, { Key: 'converge:resource', Value: 'Service/users' }]));
    expect((await usersService())?.deploymentController?.type).toBe('CODE_DEPLOY');

    const second = await cycle('apply');
    expect(second.summary.awsWrites, JSON.stringify(second.summary.callsByOperation)).toBe(0);
    expect(second.summary.resources.filter((r) => r.state !== 'InSync').map((r) => `${r.resource}: ${r.state} ${r.message ?? ''}`)).toEqual([]);
    // Steady state: one BatchGetDeploymentGroups and one ListDeployments; the tags are known.
    expect(Object.entries(second.summary.callsByOperation).filter(([op]) => op.startsWith('CodeDeploy:'))).toEqual([
      ['CodeDeploy:BatchGetDeploymentGroups', 1],
      ['CodeDeploy:ListDeployments', 1],
    ]);
  });

  it('turns a new image into exactly one deployment with the right AppSpec', async () => {
    await moto.server.setDeploySteps(50);
    await publish({ usersImage: '1.4.3' });
    const { summary, logs, of } = await cycle('apply');
    expect(calls(summary, 'CodeDeploy:CreateDeployment'), JSON.stringify(summary.callsByOperation)).toBe(1);
    expect(calls(summary, 'ECS:UpdateService')).toBe(0);
    expect(of(USERS)?.state).toBe('Progressing');
    const created = logs.ofEvent('deployment');
    expect(created).toEqual([expect.objectContaining({ level: 'info', kind: 'Service', name: 'users', status: 'Created', deploymentId: expect.stringMatching(/^d-/) as unknown })]);

    const id = String(created[0]?.deploymentId);
    const info = (await cd.send(new BatchGetDeploymentsCommand({ deploymentIds: [id] }))).deploymentsInfo?.[0];
    expect(info).toMatchObject({ applicationName: 'shop', deploymentGroupName: 'users' });
    const content = info?.revision?.appSpecContent?.content ?? '';
    expect(info?.revision?.revisionType).toBe('AppSpecContent');
    expect(info?.revision?.appSpecContent?.sha256).toBe(createHash('sha256').update(content).digest('hex'));
    const task = await latestUsersTask();
    expect(task?.containerDefinitions?.[0]?.image).toMatch(/users:1\.4\.3$/);
    const service = await usersService();
    expect(JSON.parse(content)).toEqual({
      version: '0.0',
      Resources: [
        {
          TargetService: {
            Type: 'AWS::ECS::Service',
            Properties: {
              TaskDefinition: task?.taskDefinitionArn,
              LoadBalancerInfo: { ContainerName: 'users', ContainerPort: 8000 },
              PlatformVersion: 'LATEST',
              NetworkConfiguration: {
                AwsvpcConfiguration: {
                  Subnets: [...seed.privateSubnetIds].sort(),
                  SecurityGroups: service?.networkConfiguration?.awsvpcConfiguration?.securityGroups,
                  AssignPublicIp: 'DISABLED',
                },
              },
            },
          },
        },
      ],
    });
  });

  it('starts no second deployment while one is active and reports Progressing', async () => {
    for (const fresh of [false, true]) {
      const { summary, logs, of } = await cycle('apply', fresh);
      expect(calls(summary, 'CodeDeploy:CreateDeployment')).toBe(0);
      expect(summary.awsWrites, JSON.stringify(summary.callsByOperation)).toBe(0);
      expect(of(USERS)).toMatchObject({ state: 'Progressing', message: expect.stringMatching(/^deployment d-\w+ (Created|InProgress)/) as unknown });
      expect(logs.ofEvent('drift').filter((e) => e.name === 'users')).toEqual([]);
    }
  });

  it('after success reports no drift (either group, weighted listener) and the next apply writes nothing', async () => {
    expect(await moto.server.settleDeployments()).toHaveLength(1);
    const done = await cycle('apply');
    expect(done.of(USERS)?.state).toBe('InSync');
    expect(done.summary.awsWrites, JSON.stringify(done.summary.callsByOperation)).toBe(0);
    expect(done.logs.ofEvent('deployment')).toEqual([expect.objectContaining({ level: 'info', name: 'users', status: 'Succeeded' })]);
    expect(done.logs.ofEvent('drift')).toEqual([]);

    // CodeDeploy moved the service to the other group and left a weighted forward behind.
    const service = await usersService();
    expect(service?.loadBalancers?.[0]?.targetGroupArn).toMatch(/shop-users-b/);
    expect(service?.taskDefinition).toBe((await latestUsersTask())?.taskDefinitionArn);
    const listener = await usersListener();
    expect(listener.groups).toEqual([expect.objectContaining({ arn: expect.stringMatching(/shop-users-b/) as unknown, weight: 100 }), expect.objectContaining({ arn: expect.stringMatching(/shop-users-a/) as unknown, weight: 0 })]);

    for (const fresh of [false, true]) {
      const again = await cycle(fresh ? 'plan' : 'apply', fresh);
      expect(again.summary.awsWrites).toBe(0);
      expect(again.logs.ofEvent('drift')).toEqual([]);
      expect(again.of(USERS)?.state).toBe('InSync');
    }
  });

  it('alerts on a failed deployment, marks the revision Failed and never deploys it again', async () => {
    await moto.server.setDeploySteps(0);
    await moto.server.failNextDeployment('users', { application: 'shop', code: 'HEALTH_CONSTRAINTS', message: 'the new tasks failed their health checks' });
    await publish({ usersImage: '1.4.4' });
    const started = await cycle('apply');
    expect(calls(started.summary, 'CodeDeploy:CreateDeployment')).toBe(1);
    const id = String(started.logs.ofEvent('deployment')[0]?.deploymentId);

    const next = await cycle('apply');
    expect(calls(next.summary, 'CodeDeploy:CreateDeployment')).toBe(0);
    expect(next.of(USERS)).toMatchObject({ state: 'Failed', message: expect.stringContaining(`deployment ${id} Failed`) as unknown });
    expect(next.of(USERS)?.message).toMatch(/HEALTH_CONSTRAINTS.*rolled back by d-/);
    expect(next.logs.ofEvent('deployment')).toEqual([expect.objectContaining({ level: 'error', kind: 'Service', name: 'users', deploymentId: id, status: 'Failed' })]);
    expect(next.logs.ofEvent('drift').filter((e) => e.name === 'users')).toEqual([]);

    // Neither the next cycle nor a restarted converge deploys that revision again.
    for (const fresh of [false, true]) {
      const later = await cycle('apply', fresh);
      expect(calls(later.summary, 'CodeDeploy:CreateDeployment')).toBe(0);
      expect(later.of(USERS)?.state).toBe('Failed');
      expect(later.logs.ofEvent('deployment').filter((e) => e.level === 'error')).toHaveLength(fresh ? 1 : 0);
    }
    const deployments = await cd.send(new ListDeploymentsCommand({ applicationName: 'shop', deploymentGroupName: 'users' }));
    const infos = await cd.send(new BatchGetDeploymentsCommand({ deploymentIds: deployments.deployments ?? [] }));
    expect(infos.deploymentsInfo?.filter((d) => d.creator !== 'codeDeployRollback').map((d) => d.status).sort()).toEqual(['Failed', 'Succeeded']);
  });

  it('deploys a newer revision after the failure', async () => {
    await publish({ usersImage: '1.4.5' });
    const deployed = await cycle('apply');
    expect(calls(deployed.summary, 'CodeDeploy:CreateDeployment')).toBe(1);
    const after = await cycle('apply');
    expect(after.of(USERS)?.state).toBe('InSync');
    expect(after.summary.awsWrites).toBe(0);
    expect(after.logs.ofEvent('deployment')).toEqual([expect.objectContaining({ level: 'info', status: 'Succeeded' })]);
    expect((await latestUsersTask())?.containerDefinitions?.[0]?.image).toMatch(/users:1\.4\.5$/);
    expect((await usersService())?.taskDefinition).toBe((await latestUsersTask())?.taskDefinitionArn);
  });

  it('accepts any weights within the pair but corrects a listener forwarding to a foreign target group', async () => {
    const listener = await usersListener();
    const [a, b] = [...listener.groups.map((g) => g.arn)].sort();
    await elbv2.send(new ModifyListenerCommand({ ListenerArn: listener.arn, DefaultActions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: a, Weight: 0 }, { TargetGroupArn: b, Weight: 100 }] } }] }));
    const weighted = await cycle('plan');
    expect(weighted.logs.ofEvent('drift')).toEqual([]);
    expect(weighted.of(USERS_LISTENER)).toMatchObject({ state: 'InSync', changes: [] });

    const foreign = await elbv2.send(new CreateTargetGroupCommand({ Name: 'someone-else', Protocol: 'TCP', Port: 8000, VpcId: seed.vpcId, TargetType: 'ip' }));
    const foreignArn = foreign.TargetGroups?.[0]?.TargetGroupArn ?? '';
    await elbv2.send(new ModifyListenerCommand({ ListenerArn: listener.arn, DefaultActions: [{ Type: 'forward', TargetGroupArn: foreignArn }] }));
    const drifted = await cycle('apply');
    expect(drifted.logs.ofEvent('drift')).toEqual([expect.objectContaining({ resource: USERS_LISTENER, field: 'defaultAction' })]);
    expect(drifted.of(USERS_LISTENER)?.changes.map((c) => [c.action, c.applied])).toEqual([['update', true]]);
    const corrected = await usersListener();
    expect(corrected.groups.map((g) => g.arn).every((arn) => arn === a || arn === b)).toBe(true);
    expect((await cycle('plan')).logs.ofEvent('drift')).toEqual([]);
  });

  it('reports a deployment group setting changed behind its back as drift and corrects it', async () => {
    await cd.send(
      new UpdateDeploymentGroupCommand({
        applicationName: 'shop',
        currentDeploymentGroupName: 'web',
        blueGreenDeploymentConfiguration: { terminateBlueInstancesOnDeploymentSuccess: { action: 'TERMINATE', terminationWaitTimeInMinutes: 1 }, deploymentReadyOption: { actionOnTimeout: 'CONTINUE_DEPLOYMENT' } },
      }),
    );
    const plan = await cycle('plan');
    expect(plan.logs.ofEvent('drift')).toEqual([
      expect.objectContaining({ kind: 'Frontend', name: 'web', resource: 'AWS::CodeDeploy::DeploymentGroup web', field: 'terminateBlue', desired: 'TERMINATE after 15 min', live: 'TERMINATE after 1 min' }),
    ]);
    const apply = await cycle('apply');
    expect(calls(apply.summary, 'CodeDeploy:UpdateDeploymentGroup')).toBe(1);
    const web = await cd.send(new BatchGetDeploymentGroupsCommand({ applicationName: 'shop', deploymentGroupNames: ['web'] }));
    expect(web.deploymentGroupsInfo?.[0]?.blueGreenDeploymentConfiguration?.terminateBlueInstancesOnDeploymentSuccess?.terminationWaitTimeInMinutes).toBe(15);
    const after = await cycle('apply');
    expect(after.logs.ofEvent('drift')).toEqual([]);
    expect(after.summary.awsWrites).toBe(0);
  });

  it('sends a desired count change to a blue/green service without a deployment', async () => {
    await publish({ usersImage: '1.4.5', usersDesiredCount: 4 });
    const { summary, of } = await cycle('apply');
    expect(calls(summary, 'ECS:UpdateService')).toBe(1);
    expect(calls(summary, 'CodeDeploy:CreateDeployment')).toBe(0);
    expect(of(USERS)?.state).toBe('InSync');
    expect((await usersService())?.desiredCount).toBe(4);
    expect((await cycle('apply')).summary.awsWrites).toBe(0);
  });

  it('refuses a strategy switch without allowReplacement and changes nothing', async () => {
    await publish({ usersImage: '1.4.5', usersDesiredCount: 4, billingDeployment: '    strategy: rolling\n' });
    const { summary, of } = await cycle('apply');
    expect(of(BILLING)).toMatchObject({ state: 'Failed', message: expect.stringMatching(/allowReplacement/) as unknown });
    // Resources whose desired spec changed without a change to make (the listener, the application)
    // only record the new spec hash; nothing else is written.
    const tagWrites = ['ELBv2:AddTags', 'CodeDeploy:TagResource', 'ECS:TagResource'].reduce((n, op) => n + calls(summary, op), 0);
    expect(summary.awsWrites - tagWrites, JSON.stringify(summary.callsByOperation)).toBe(0);
    expect(calls(summary, 'ECS:TagResource')).toBe(0);
    const billing = (await ecs.send(new DescribeServicesCommand({ cluster: 'shop', services: ['shop-billing'] }))).services?.[0];
    expect(billing?.deploymentController?.type).toBe('CODE_DEPLOY');
  });

  it('replaces the service when allowed: blue/green -> rolling drops the deployment group, and back', async () => {
    await publish({ usersImage: '1.4.5', usersDesiredCount: 4, billingDeployment: '    strategy: rolling\n    allowReplacement: true\n' });
    const rolling = await cycle('apply');
    expect(calls(rolling.summary, 'CodeDeploy:DeleteDeploymentGroup')).toBe(1);
    expect(calls(rolling.summary, 'ECS:DeleteService')).toBe(1);
    expect(calls(rolling.summary, 'ECS:CreateService')).toBe(1);
    const billing = async () => (await ecs.send(new DescribeServicesCommand({ cluster: 'shop', services: ['shop-billing'] }))).services?.[0];
    expect((await billing())?.deploymentController?.type).toBe('ECS');
    const groups = await cd.send(new BatchGetDeploymentGroupsCommand({ applicationName: 'shop', deploymentGroupNames: ['billing'] }));
    expect(groups.deploymentGroupsInfo).toEqual([]);
    const quiet = await cycle('apply');
    expect(quiet.of(BILLING)?.state).toBe('InSync');
    expect(quiet.summary.awsWrites, JSON.stringify(quiet.summary.callsByOperation)).toBe(0);

    await publish({ usersImage: '1.4.5', usersDesiredCount: 4, billingDeployment: '    allowReplacement: true\n' });
    const blueGreen = await cycle('apply');
    expect(calls(blueGreen.summary, 'ECS:CreateService')).toBe(1);
    expect(calls(blueGreen.summary, 'CodeDeploy:CreateDeploymentGroup')).toBe(1);
    expect((await billing())?.deploymentController?.type).toBe('CODE_DEPLOY');
    const settled = await cycle('apply');
    expect(settled.of(BILLING)?.state).toBe('InSync');
    expect(settled.summary.awsWrites, JSON.stringify(settled.summary.callsByOperation)).toBe(0);
  });

  it('apply --wait follows the deployment it started to its end, and fails with a failed one', async () => {
    const io = (lines: string[]) => ({ stdout: () => undefined, stderr: (text: string) => void lines.push(text) });
    await moto.server.setDeploySteps(4);
    await publish({ usersImage: '1.4.6', usersDesiredCount: 4, billingDeployment: '    allowReplacement: true\n' });
    const started = await cycle('apply');
    expect(calls(started.summary, 'CodeDeploy:CreateDeployment')).toBe(1);
    const lines: string[] = [];
    expect(await waitForDeployments(controller, started.summary, io(lines), { pollMs: 0, timeoutMs: 30_000 })).toBe(true);
    const text = lines.join('');
    expect(text).toMatch(/Service users\s+d-\w+\s+InProgress\s+traffic\s+\S+\s+elapsed\s+\S+\s+shop-users:\d+/);
    expect(text).toMatch(/Service users: deployed/);

    await moto.server.setDeploySteps(2);
    await moto.server.failNextDeployment('users', { application: 'shop', code: 'HEALTH_CONSTRAINTS', message: 'unhealthy' });
    await publish({ usersImage: '1.4.7', usersDesiredCount: 4, billingDeployment: '    allowReplacement: true\n' });
    const failing = await cycle('apply');
    const failed: string[] = [];
    expect(await waitForDeployments(controller, failing.summary, io(failed), { pollMs: 0, timeoutMs: 30_000 })).toBe(false);
    expect(failed.join('')).toMatch(/failed: Service users\s+d-\w+\s+Failed[\s\S]*HEALTH_CONSTRAINTS: unhealthy/);
  });

  it('switches a service CodeDeploy left on the second group to rolling without moving its traffic', async () => {
    await moto.server.setDeploySteps(0);
    const carrying = async (): Promise<string | undefined> => (await usersListener()).groups.filter((g) => g.weight > 0).sort((a, b) => b.weight - a.weight)[0]?.arn;
    // One more successful deployment if needed, so that the service sits on the pair's second group.
    if ((await carrying())?.includes('/shop-users-a/')) {
      await publish({ usersImage: '1.4.8', usersDesiredCount: 4, billingDeployment: '    allowReplacement: true\n' });
      await cycle('apply');
      await cycle('apply');
    }
    const before = await carrying();
    expect(before).toMatch(/\/shop-users-b\//);
    expect((await usersService())?.loadBalancers?.[0]?.targetGroupArn).toBe(before);

    await publish({ usersImage: '1.4.8', usersDesiredCount: 4, billingDeployment: '    allowReplacement: true\n', usersDeployment: '{ strategy: rolling, allowReplacement: true }' });
    const switched = await cycle('apply');
    expect(calls(switched.summary, 'ECS:CreateService')).toBe(1);
    expect(calls(switched.summary, 'ELBv2:ModifyListener')).toBe(0);
    expect(await carrying()).toBe(before);
    const service = await usersService();
    expect(service?.deploymentController?.type).toBe('ECS');
    expect(service?.loadBalancers?.[0]?.targetGroupArn).toBe(before);
    const quiet = await cycle('apply');
    expect(quiet.of(USERS)?.state).toBe('InSync');
    expect(quiet.of(USERS_LISTENER)?.state).toBe('InSync');
    expect(quiet.summary.awsWrites, JSON.stringify(quiet.summary.callsByOperation)).toBe(0);
  });
});
