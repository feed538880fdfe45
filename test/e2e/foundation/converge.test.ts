import { CloudWatchLogsClient, DescribeLogGroupsCommand, PutRetentionPolicyCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeServicesCommand, ECSClient, RegisterTaskDefinitionCommand, UpdateServiceCommand, DescribeTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { seedEnvironment } from '../../../scripts/seed.js';
import { Controller } from '../../../src/controller.js';
import { captureLogs } from '../../support/log-capture.js';
import { useMoto } from '../../support/moto.js';

const EXAMPLE = fileURLToPath(new URL('../../../desired-state/examples/shop/', import.meta.url));

describe('converge on the example environment (moto)', () => {
  // Certificates are issued at once, so the HTTPS listeners follow in the second cycle.
  const moto = useMoto({ setProcessEnv: true, env: { MOTO_ACM_VALIDATION_WAIT: '0' } });
  let source = '';

  beforeAll(async () => {
    source = (await seedEnvironment({ endpoint: moto.endpoint, documentsDir: EXAMPLE })).source;
  });

  const cycle = async (mode: 'plan' | 'apply') => {
    const logs = captureLogs();
    const summary = await new Controller({ source, log: logs.log }).runCycle({ mode, trigger: 'manual' });
    return { summary, logs };
  };

  it('plans everything from empty without a single write', async () => {
    const { summary } = await cycle('plan');
    expect(summary.outcome).toBe('changes-pending');
    expect(summary.awsWrites).toBe(0);
    expect(summary.pending).toBeGreaterThan(10);
  });

  it('converges from empty, then a second apply makes zero writes', async () => {
    const first = await cycle('apply');
    expect(first.summary.errors, JSON.stringify(first.summary.resources.filter((r) => r.state === 'Failed'), null, 2)).toBe(0);
    expect(first.summary.changes).toBeGreaterThan(10);
    // The first cycle requests the certificates and writes their validation records; once ACM has
    // issued them, the next cycle adds the HTTPS listeners and what waits on them.
    const afterIssuance = await cycle('apply');
    expect(afterIssuance.summary.outcome, JSON.stringify(afterIssuance.summary.resources.filter((r) => r.state !== 'InSync'), null, 2)).toBe('converged');
    const ecs = new ECSClient(moto.clientConfig);
    const services = await ecs.send(new DescribeServicesCommand({ cluster: 'shop', services: ['shop-users', 'shop-billing', 'shop-orders', 'shop-gateway', 'shop-web'], include: ['TAGS'] }));
    expect(services.services?.map((s) => s.serviceName).sort()).toEqual(['shop-billing', 'shop-gateway', 'shop-orders', 'shop-users', 'shop-web']);
    for (const s of services.services ?? []) {
      expect(s.networkConfiguration?.awsvpcConfiguration?.assignPublicIp).toBe('DISABLED');
      expect(s.tags).toEqual(expect.arrayContaining([{ key: 'converge:environment', value: 'shop' }]));
    }

    const second = await cycle('apply');
    expect(second.summary.awsWrites, JSON.stringify(second.summary.callsByOperation)).toBe(0);
    expect(second.summary.changes).toBe(0);
    const plan = await cycle('plan');
    expect(plan.summary.pending).toBe(0);
  });

  it('reports drift made with the SDK (plan exits with changes) and apply corrects it', async () => {
    const ecs = new ECSClient(moto.clientConfig);
    const logs = new CloudWatchLogsClient(moto.clientConfig);
    await ecs.send(new UpdateServiceCommand({ cluster: 'shop', service: 'shop-orders', desiredCount: 7 }));
    await logs.send(new PutRetentionPolicyCommand({ logGroupName: '/ecs/shop/users', retentionInDays: 1 }));
    const current = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'shop-orders' }));
    const td = current.taskDefinition!;
    const hijacked = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'shop-orders',
        containerDefinitions: td.containerDefinitions!.map((c) => ({ ...c, image: 'attacker/image:latest' })),
        cpu: td.cpu,
        memory: td.memory,
        networkMode: td.networkMode,
        requiresCompatibilities: td.requiresCompatibilities,
        executionRoleArn: td.executionRoleArn,
      }),
    );
    await ecs.send(new UpdateServiceCommand({ cluster: 'shop', service: 'shop-orders', taskDefinition: hijacked.taskDefinition!.taskDefinitionArn }));

    const plan = await cycle('plan');
    expect(plan.summary.pending).toBeGreaterThan(0);
    const drifts = plan.logs.ofEvent('drift');
    expect(drifts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ level: 'warn', kind: 'Service', name: 'orders', resource: 'AWS::ECS::Service shop-orders', field: 'desiredCount', desired: 3, live: 7 }),
        expect.objectContaining({ kind: 'Service', name: 'users', resource: 'AWS::Logs::LogGroup /ecs/shop/users', field: 'retentionInDays', desired: 30, live: 1 }),
        expect.objectContaining({ kind: 'Service', name: 'orders', field: 'taskDefinition.image', live: 'attacker/image:latest' }),
      ]),
    );
    expect(plan.summary.awsWrites).toBe(0);

    const apply = await cycle('apply');
    expect(apply.summary.errors).toBe(0);
    expect(apply.logs.ofEvent('change').map((e) => e.resource)).toEqual(expect.arrayContaining(['AWS::ECS::Service shop-orders', 'AWS::Logs::LogGroup /ecs/shop/users']));
    const after = await ecs.send(new DescribeServicesCommand({ cluster: 'shop', services: ['shop-orders'] }));
    expect(after.services?.[0]?.desiredCount).toBe(3);
    expect(after.services?.[0]?.taskDefinition).not.toBe(hijacked.taskDefinition!.taskDefinitionArn);
    const groups = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/ecs/shop/users' }));
    expect(groups.logGroups?.[0]?.retentionInDays).toBe(30);

    const settled = await cycle('plan');
    expect(settled.summary.pending).toBe(0);
    expect(settled.logs.ofEvent('drift')).toEqual([]);
  });
});
