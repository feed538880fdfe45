/**
 * Drift detection must keep working after a blue/green deployment.
 *
 * The ECS service's desired spec names the target group the production listener forwards to
 * (the listener's `activeTargetGroupArn`). CodeDeploy moves the listener to the other group of
 * the pair on every successful deployment. converge records the hash of the spec it applied in
 * the service's `converge:spec-hash` tag; if that hash covers the group CodeDeploy is free to
 * move, it never equals today's spec again after the first deployment, and every later
 * difference (a desired count changed by hand) is taken for a new desired revision: no `drift`
 * event, and with `selfHeal: false` the hand-made change is silently overwritten.
 */
import { DescribeServicesCommand, DescribeTaskDefinitionCommand, ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { DescribeListenersCommand, DescribeLoadBalancersCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedEnvironment, type SeedResult } from '../../../scripts/seed.js';
import { waitForDeployments } from '../../../src/cli/wait.js';
import { Controller } from '../../../src/controller.js';
import type { ResourceResult } from '../../../src/engine/engine.js';
import { captureLogs, type LogEvent } from '../../support/log-capture.js';
import { runCli } from '../../support/cli.js';
import { useMoto } from '../../support/moto.js';

const EXAMPLE = fileURLToPath(new URL('../../../desired-state/examples/shop/', import.meta.url));
const USERS = 'AWS::ECS::Service shop-users';
/** The example's desired count for users, and what somebody sets by hand. */
const DESIRED_COUNT = 2;
const HAND_MADE_COUNT = 5;

/** The JSON log lines among a process's output. */
function jsonLines(text: string): LogEvent[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogEvent);
}

describe('drift detection after a blue/green deployment (moto)', () => {
  // Certificates issue at once, so the whole example (gateway and frontend behind HTTPS ALBs) converges.
  // Deployments take the emulator's default two reads, so `apply --wait` really waits.
  const moto = useMoto({ setProcessEnv: true, env: { MOTO_ACM_VALIDATION_WAIT: '0' } });
  let dir = '';
  let seed: SeedResult;
  let controller: Controller;
  const controllerLogs = captureLogs();
  let ecs: ECSClient;
  let elbv2: ElasticLoadBalancingV2Client;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'converge-spec-hash-'));
    cpSync(EXAMPLE, dir, { recursive: true });
    seed = await seedEnvironment({ endpoint: moto.endpoint, documentsDir: dir });
    controller = new Controller({ source: seed.source, log: controllerLogs.log });
    ecs = new ECSClient(moto.clientConfig);
    elbv2 = new ElasticLoadBalancingV2Client(moto.clientConfig);
  });

  afterAll(() => {
    controller?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Edits one file of the desired state (the temp copy of the example) and uploads the folder again. */
  const edit = async (file: string, from: string, to: string): Promise<void> => {
    const path = join(dir, file);
    const before = readFileSync(path, 'utf8');
    const after = before.replace(from, to);
    if (after === before) throw new Error(`the edit ${from} -> ${to} did not apply to ${file}`);
    writeFileSync(path, after);
    await seedEnvironment({ endpoint: moto.endpoint, documentsDir: dir });
  };

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

  const usersService = async () => (await ecs.send(new DescribeServicesCommand({ cluster: 'shop', services: ['shop-users'], include: ['TAGS'] }))).services?.[0];
  const setUsersCount = async (desiredCount: number): Promise<void> => {
    await ecs.send(new UpdateServiceCommand({ cluster: 'shop', service: 'shop-users', desiredCount }));
  };
  /** The users listener on the internal NLB: the groups it forwards to, with weights. */
  const usersListener = async (): Promise<{ name: string; weight: number }[]> => {
    const nlb = await elbv2.send(new DescribeLoadBalancersCommand({ Names: ['shop-services'] }));
    const listeners = await elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: nlb.LoadBalancers?.[0]?.LoadBalancerArn }));
    const action = listeners.Listeners?.find((l) => l.Port === 10001)?.DefaultActions?.[0];
    const groups = action?.ForwardConfig?.TargetGroups?.map((t) => ({ arn: t.TargetGroupArn ?? '', weight: t.Weight ?? 1 })) ?? [{ arn: action?.TargetGroupArn ?? '', weight: 1 }];
    return groups.map((g) => ({ name: /:targetgroup\/([^/]+)\//.exec(g.arn)?.[1] ?? g.arn, weight: g.weight }));
  };
  /** The group of the pair that carries the users traffic. */
  const carrying = async (): Promise<string | undefined> => [...(await usersListener())].filter((g) => g.weight > 0).sort((a, b) => b.weight - a.weight)[0]?.name;
  const groupName = (arn: string | undefined): string | undefined => /:targetgroup\/([^/]+)\//.exec(arn ?? '')?.[1];

  const usersDrift = (events: LogEvent[]): LogEvent[] => events.filter((e) => e.resource === USERS);

  it('converges the example; before any deployment a desired count changed by hand is drift', async () => {
    let last = await cycle('apply');
    for (let i = 0; i < 4 && last.summary.awsWrites > 0; i += 1) last = await cycle('apply');
    expect(last.summary.outcome, JSON.stringify(last.summary.resources.filter((r) => r.state !== 'InSync'), null, 2)).toBe('converged');
    expect(last.summary.awsWrites).toBe(0);
    expect(await carrying()).toBe('shop-users-a');
    expect(groupName((await usersService())?.loadBalancers?.[0]?.targetGroupArn)).toBe('shop-users-a');

    // The control: the same hand-made change the later tests make is drift while no deployment ran.
    await setUsersCount(HAND_MADE_COUNT);
    const plan = await cycle('plan');
    expect(usersDrift(plan.ofEvent('drift'))).toEqual([expect.objectContaining({ level: 'warn', field: 'desiredCount', desired: DESIRED_COUNT, live: HAND_MADE_COUNT })]);
    expect(plan.summary.awsWrites).toBe(0);
    // Put it back by hand (not through converge: its tags stay as the first converge left them).
    await setUsersCount(DESIRED_COUNT);
    const quiet = await cycle('plan');
    expect(quiet.ofEvent('drift')).toEqual([]);
    expect(quiet.summary.pending).toBe(0);
  });

  it('deploys a new image of users through CodeDeploy: production traffic moves to the other target group', async () => {
    await edit('services.yaml', 'users:1.4.2', 'users:1.4.3');
    const started = await cycle('apply');
    expect(started.summary.callsByOperation['CodeDeploy:CreateDeployment']).toBe(1);
    expect(started.of(USERS)?.changes.map((c) => [c.action, c.applied])).toEqual([['deploy', true]]);
    // `converge apply --wait`: read-only cycles until the deployment has ended.
    const lines: string[] = [];
    const ok = await waitForDeployments(controller, started.summary, { stdout: () => undefined, stderr: (text) => void lines.push(text) }, { pollMs: 0, timeoutMs: 30_000 });
    expect(ok, lines.join('')).toBe(true);
    expect(lines.join('')).toMatch(/Service users: deployed/);
    expect(controllerLogs.ofEvent('deployment')).toContainEqual(expect.objectContaining({ name: 'users', status: 'Succeeded' }));

    // CodeDeploy flipped the pair: the listener forwards to b (a weighted forward, a at 0), the service sits on b.
    expect(await usersListener()).toEqual([
      { name: 'shop-users-b', weight: 100 },
      { name: 'shop-users-a', weight: 0 },
    ]);
    const service = await usersService();
    expect(groupName(service?.loadBalancers?.[0]?.targetGroupArn)).toBe('shop-users-b');
    const task = (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: service?.taskDefinition }))).taskDefinition;
    expect(task?.containerDefinitions?.[0]?.image).toMatch(/users:1\.4\.3$/);
    expect(service?.desiredCount).toBe(DESIRED_COUNT);

    // Settled: the next apply has nothing to do and sees no drift.
    const settled = await cycle('apply');
    expect(settled.of(USERS)?.state).toBe('InSync');
    expect(settled.summary.awsWrites, JSON.stringify(settled.summary.callsByOperation)).toBe(0);
    expect(settled.ofEvent('drift')).toEqual([]);
  });

  it('after the deployment, a plan reports a desired count changed by hand as drift (and `converge plan` exits 2)', async () => {
    expect(await carrying()).toBe('shop-users-b');
    await setUsersCount(HAND_MADE_COUNT);

    // The long-lived controller (the daemon's view).
    const plan = await cycle('plan');
    expect(plan.summary.awsWrites).toBe(0);
    expect.soft(usersDrift(plan.ofEvent('drift')), 'drift events of the users service in a plan cycle').toEqual([
      expect.objectContaining({ level: 'warn', kind: 'Service', name: 'users', field: 'desiredCount', desired: DESIRED_COUNT, live: HAND_MADE_COUNT }),
    ]);
    expect.soft(plan.of(USERS)?.drift).toEqual([{ field: 'desiredCount', desired: DESIRED_COUNT, live: HAND_MADE_COUNT }]);

    // The CLI, a fresh process that reads everything from AWS.
    const cli = await runCli(['plan', '--source', seed.source, '--json'], moto.env);
    expect(cli.code, cli.stderr).toBe(2);
    const document = JSON.parse(cli.stdout) as { drift: { resource: string; field: string; desired: unknown; live: unknown }[] };
    expect.soft(document.drift.filter((d) => d.resource === USERS), '`converge plan --json` drift of the users service').toEqual([
      expect.objectContaining({ field: 'desiredCount', desired: DESIRED_COUNT, live: HAND_MADE_COUNT }),
    ]);
    expect.soft(usersDrift(jsonLines(cli.stderr).filter((e) => e.event === 'drift')), '`converge plan` drift events of the users service').toEqual([
      expect.objectContaining({ field: 'desiredCount', desired: DESIRED_COUNT, live: HAND_MADE_COUNT }),
    ]);
    // A plan changes nothing.
    expect((await usersService())?.desiredCount).toBe(HAND_MADE_COUNT);
  });

  it('after the deployment, with selfHeal: false an apply reports the drift and leaves the hand-made desired count alone', async () => {
    await edit('environment.yaml', 'selfHeal: true', 'selfHeal: false');
    await setUsersCount(HAND_MADE_COUNT);
    expect(await carrying()).toBe('shop-users-b');

    const apply = await cycle('apply');
    expect(apply.summary.revision).toBe(controller.enforcedRevision);
    expect.soft(usersDrift(apply.ofEvent('drift')), 'drift events of the users service in an apply cycle with selfHeal: false').toEqual([
      expect.objectContaining({ level: 'warn', field: 'desiredCount', desired: DESIRED_COUNT, live: HAND_MADE_COUNT }),
    ]);
    expect.soft(apply.of(USERS)?.state).toBe('Drifted');
    expect.soft(apply.summary.callsByOperation['ECS:UpdateService'] ?? 0, 'ECS:UpdateService calls').toBe(0);
    expect((await usersService())?.desiredCount, 'the desired count read back from ECS').toBe(HAND_MADE_COUNT);
  });
});
