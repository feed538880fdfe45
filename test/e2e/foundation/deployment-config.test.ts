import { CodeDeployClient, CreateDeploymentConfigCommand } from '@aws-sdk/client-codedeploy';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedEnvironment } from '../../../scripts/seed.js';
import { Controller } from '../../../src/controller.js';
import { captureLogs } from '../../support/log-capture.js';
import { useMoto } from '../../support/moto.js';

const EXAMPLE = fileURLToPath(new URL('../../../desired-state/examples/shop/', import.meta.url));

describe('a custom deployment config is looked up before any write (moto)', () => {
  const moto = useMoto({ setProcessEnv: true });
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  /** The example with the users Service deploying through `config`. */
  async function sourceWith(config: string): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), 'converge-config-'));
    dirs.push(dir);
    cpSync(EXAMPLE, dir, { recursive: true });
    const file = join(dir, 'services.yaml');
    const before = readFileSync(file, 'utf8');
    const after = before.replace('  deployment: { strategy: blue-green }', `  deployment: { strategy: blue-green, config: ${config} }`);
    if (after === before) throw new Error('the users Service of the example has no `deployment: { strategy: blue-green }` line to edit');
    writeFileSync(file, after);
    return (await seedEnvironment({ endpoint: moto.endpoint, documentsDir: dir, prefix: `${config}/` })).source;
  }

  beforeAll(async () => {
    const cd = new CodeDeployClient(moto.clientConfig);
    await cd.send(new CreateDeploymentConfigCommand({ deploymentConfigName: 'shop-canary', computePlatform: 'ECS', trafficRoutingConfig: { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 10, canaryInterval: 5 } } }));
    await cd.send(new CreateDeploymentConfigCommand({ deploymentConfigName: 'shop-all-at-once', computePlatform: 'ECS', trafficRoutingConfig: { type: 'AllAtOnce' } }));
  });

  it.each([
    ['a gradual custom config behind the NLB', 'shop-canary', /shifts traffic gradually \(TimeBasedCanary\)/],
    ['a config that does not exist', 'shop-missing', /no deployment config named "shop-missing"/],
  ])('refuses %s with the file and field, and writes nothing', async (_name, config, message) => {
    const logs = captureLogs();
    const summary = await new Controller({ source: await sourceWith(config), log: logs.log }).runCycle({ mode: 'apply', trigger: 'manual' });
    expect(summary.outcome).toBe('invalid');
    expect(summary.awsWrites).toBe(0);
    const errors = logs.ofEvent('invalid-desired-state')[0]?.errors as { file: string; document: string; path: string; message: string }[];
    expect(errors).toEqual([expect.objectContaining({ document: 'Service/users', path: 'spec.deployment.config', message: expect.stringMatching(message) as unknown })]);
    expect(errors[0]?.file).toMatch(/services\.yaml$/);
  });

  it('accepts an all-at-once custom config', async () => {
    const summary = await new Controller({ source: await sourceWith('shop-all-at-once'), log: captureLogs().log }).runCycle({ mode: 'plan', trigger: 'manual' });
    expect(summary.outcome).not.toBe('invalid');
    expect(summary.callsByOperation['CodeDeploy:GetDeploymentConfig']).toBe(1);
  });
});
