import { DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeServicesCommand, ECSClient, ListServicesCommand, ListTaskDefinitionsCommand } from '@aws-sdk/client-ecs';
import { DescribeLoadBalancersCommand, DescribeTargetGroupsCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { seedEnvironment } from '../../../scripts/seed.js';
import { Controller } from '../../../src/controller.js';
import { captureLogs } from '../../support/log-capture.js';
import { useMoto } from '../../support/moto.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../../desired-state/examples/shop/', import.meta.url));

/** Runs `converge apply` from dist/ and SIGKILLs it once it has logged `killAfter` changes. */
function applyAndKill(source: string, env: Record<string, string>, killAfter: number): Promise<{ changes: number; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/converge.js', 'apply', '--source', source], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let changes = 0;
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        if (line.includes('"event":"change"')) changes += 1;
        if (changes >= killAfter && child.exitCode === null) child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => resolve({ changes, signal }));
  });
}

describe('a crash in the middle of an apply (moto)', () => {
  const moto = useMoto({ setProcessEnv: true, env: { MOTO_ACM_VALIDATION_WAIT: '0' } });
  let source = '';

  beforeAll(async () => {
    source = (await seedEnvironment({ endpoint: moto.endpoint, documentsDir: EXAMPLE })).source;
  });

  it('loses nothing and creates no duplicates: the next run picks up where the killed one stopped', async () => {
    const killed = await applyAndKill(source, moto.env, 12);
    expect(killed.signal).toBe('SIGKILL');
    expect(killed.changes).toBeGreaterThanOrEqual(12);

    let outcome = '';
    for (let attempt = 0; attempt < 4 && outcome !== 'converged'; attempt += 1) {
      const { log } = captureLogs();
      const summary = await new Controller({ source, log }).runCycle({ mode: 'apply', trigger: 'manual' });
      expect(summary.errors, JSON.stringify(summary.resources.filter((r) => r.state === 'Failed' || r.state === 'Conflict'), null, 2)).toBe(0);
      outcome = summary.outcome;
    }
    expect(outcome).toBe('converged');

    const ec2 = new EC2Client(moto.clientConfig);
    const groups = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'tag:converge:environment', Values: ['shop'] }] }));
    const names = (groups.SecurityGroups ?? []).map((g) => g.GroupName);
    expect(names.length).toBe(new Set(names).size);
    expect(names).toHaveLength(3 + 5);

    const elbv2 = new ElasticLoadBalancingV2Client(moto.clientConfig);
    expect((await elbv2.send(new DescribeLoadBalancersCommand({}))).LoadBalancers).toHaveLength(3);
    expect((await elbv2.send(new DescribeTargetGroupsCommand({}))).TargetGroups).toHaveLength(10);

    const ecs = new ECSClient(moto.clientConfig);
    const serviceArns = (await ecs.send(new ListServicesCommand({ cluster: 'shop', maxResults: 100 }))).serviceArns ?? [];
    expect(serviceArns).toHaveLength(5);
    const services = await ecs.send(new DescribeServicesCommand({ cluster: 'shop', services: serviceArns }));
    for (const service of services.services ?? []) {
      // Each family has the revision converge runs, and at most one more a killed run may have registered.
      const revisions = await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: service.serviceName }));
      expect(revisions.taskDefinitionArns?.length ?? 0).toBeLessThanOrEqual(2);
    }

    const { log } = captureLogs();
    const quiet = await new Controller({ source, log }).runCycle({ mode: 'apply', trigger: 'manual' });
    expect(quiet.awsWrites, JSON.stringify(quiet.callsByOperation)).toBe(0);
  });
});
