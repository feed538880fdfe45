import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DescribeServicesCommand, DescribeTaskDefinitionCommand, ECSClient } from '@aws-sdk/client-ecs';
import { DescribeLoadBalancersCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registry } from '../../../reconcilers/registry.js';
import { seedEnvironment, type SeedResult } from '../../../scripts/seed.js';
import { Controller, type CycleSummary } from '../../../src/controller.js';
import type { ResourceResult } from '../../../src/engine/engine.js';
import { captureLogs, type LogEvent } from '../../support/log-capture.js';
import { useMoto } from '../../support/moto.js';

const EXAMPLE = fileURLToPath(new URL('../../../desired-state/examples/shop/', import.meta.url));
const CONFIG_PREFIX = 'shop/.converge/gateway/shop/';
const GATEWAY_CONFIG = 'gateway-config/shop';
const ADDED_ROUTE = '    - { path: "/users/{id}/sessions", methods: [GET, DELETE] }';
const INVALID_ROUTE = '    - { path: /users/export, methods: [HEAD] }';
/** Cycles a change may need while the resources it waits on (certificates, load balancers) settle. */
const MAX_CYCLES = 4;

// Blue/green needs the CodeDeploy reconcilers; until they are registered the gateway rolls.
const blueGreen = registry.some((r) => r.type === 'deployment-group');

describe(`gateway configuration rollout (moto, ${blueGreen ? 'blue/green' : 'rolling'} gateway)`, () => {
  // moto issues a requested certificate after MOTO_ACM_VALIDATION_WAIT seconds (60 by default);
  // the gateway's HTTPS listener, hence its service, waits for it.
  const moto = useMoto({ setProcessEnv: true, env: { MOTO_ACM_VALIDATION_WAIT: '0' } });
  const documents = mkdtempSync(join(tmpdir(), 'converge-gateway-'));
  const services = readFileSync(join(EXAMPLE, 'services.yaml'), 'utf8');
  let seed: SeedResult;
  let s3: S3Client;
  let ecs: ECSClient;
  let controller: Controller | undefined;
  const logs = captureLogs();

  beforeAll(async () => {
    cpSync(EXAMPLE, documents, { recursive: true });
    const environment = readFileSync(join(documents, 'environment.yaml'), 'utf8');
    if (blueGreen && !environment.includes('codeDeployRoleArn')) {
      // CodeDeploy needs a service role; the example may not name one.
      const withRole = environment.replace('  iam:\n', '  iam:\n    codeDeployRoleArn: arn:aws:iam::123456789012:role/shop-codedeploy\n');
      if (withRole === environment) throw new Error('environment.yaml has no iam section to add the CodeDeploy role to');
      writeFileSync(join(documents, 'environment.yaml'), withRole);
    }
    if (!blueGreen) {
      const gateway = readFileSync(join(documents, 'gateway.yaml'), 'utf8');
      writeFileSync(join(documents, 'gateway.yaml'), gateway.replace('  desiredCount: 2\n', '  desiredCount: 2\n  deployment: { strategy: rolling }\n'));
    }
    seed = await seedEnvironment({ endpoint: moto.endpoint, documentsDir: documents });
    s3 = new S3Client({ ...moto.clientConfig, forcePathStyle: true });
    ecs = new ECSClient(moto.clientConfig);
  });

  afterAll(() => {
    s3?.destroy();
    ecs?.destroy();
    rmSync(documents, { recursive: true, force: true });
  });

  async function cycle(mode: 'plan' | 'apply' = 'apply'): Promise<{ summary: CycleSummary; events: LogEvent[]; gatewayConfig: ResourceResult | undefined }> {
    // One controller for the whole file, as the daemon runs: its caches are part of the steady state.
    controller ??= new Controller({ source: seed.source, log: logs.log });
    const start = logs.events.length;
    const summary = await controller.runCycle({ mode, trigger: 'manual' });
    return { summary, events: logs.events.slice(start), gatewayConfig: summary.resources.find((r) => r.id === GATEWAY_CONFIG) };
  }

  /** Applies until the gateway service runs a task definition that pins the published configuration. */
  async function applyUntilRolledOut(): Promise<CycleSummary[]> {
    const summaries: CycleSummary[] = [];
    for (let i = 0; i < MAX_CYCLES; i++) {
      const { summary } = await cycle();
      summaries.push(summary);
      const gateway = summary.resources.find((r) => r.id === 'ecs-service/shop-gateway');
      const config = summary.resources.find((r) => r.id === GATEWAY_CONFIG);
      if (config?.state === 'InSync' && gateway?.state === 'InSync' && gateway.changes.every((c) => c.applied) && summary.pending === 0) {
        if ((await gatewayPins()).key === (await publishedKeys()).at(-1)) break;
      }
    }
    return summaries;
  }

  async function setServices(text: string): Promise<void> {
    await s3.send(new PutObjectCommand({ Bucket: seed.bucket, Key: `${seed.prefix}services.yaml`, Body: text, ContentType: 'application/yaml' }));
  }

  /** Published configuration keys, oldest first. */
  async function publishedKeys(): Promise<string[]> {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: seed.bucket, Prefix: CONFIG_PREFIX }));
    return (listed.Contents ?? [])
      .sort((a, b) => (a.LastModified?.getTime() ?? 0) - (b.LastModified?.getTime() ?? 0))
      .map((o) => o.Key ?? '');
  }

  async function objectText(key: string): Promise<string> {
    const object = await s3.send(new GetObjectCommand({ Bucket: seed.bucket, Key: key }));
    return (await object.Body?.transformToString('utf-8')) ?? '';
  }

  /** The gateway service's task definition and the configuration key its init container copies. */
  async function gatewayPins(): Promise<{ taskDefinitionArn: string; key: string | undefined }> {
    const described = await ecs.send(new DescribeServicesCommand({ cluster: 'shop', services: ['shop-gateway'] }));
    const taskDefinitionArn = described.services?.[0]?.taskDefinition ?? '';
    if (taskDefinitionArn === '') return { taskDefinitionArn, key: undefined };
    return { taskDefinitionArn, key: await pinnedBy(taskDefinitionArn) };
  }

  async function pinnedBy(taskDefinitionArn: string): Promise<string | undefined> {
    const td = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: taskDefinitionArn }));
    const command = td.taskDefinition?.containerDefinitions?.find((c) => c.name === 'config-loader')?.command ?? [];
    const uri = command.find((arg) => arg.startsWith('s3://'));
    return uri?.slice(`s3://${seed.bucket}/`.length);
  }

  const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
  const writesOf = (summary: CycleSummary): string[] => Object.keys(summary.callsByOperation).filter((op) => !/^[A-Za-z0-9]+:(Describe|List|Get|BatchGet|Head)/.test(op));
  let firstKey = '';

  it('publishes the configuration under its hash and the gateway task definition pins it', async () => {
    const summaries = await applyUntilRolledOut();
    const last = summaries.at(-1)!;
    expect(last.resources.find((r) => r.id === GATEWAY_CONFIG)?.state, JSON.stringify(last.resources.filter((r) => r.state !== 'InSync'), null, 2)).toBe('InSync');
    const keys = await publishedKeys();
    expect(keys).toHaveLength(1);
    firstKey = keys[0]!;
    expect(firstKey).toMatch(/^shop\/\.converge\/gateway\/shop\/[0-9a-f]{64}\.json$/);
    const text = await objectText(firstKey);
    expect(sha256(text)).toBe(firstKey.slice(CONFIG_PREFIX.length, -'.json'.length));
    const config = JSON.parse(text) as { endpoints: { endpoint: string; backend: { host: string[] }[] }[]; extra_config: { router: { health_path: string } } };
    expect(config.extra_config.router.health_path).toBe('/__health');
    expect(config.endpoints.map((e) => e.endpoint)).toContain('/users/{id}');
    const elbv2 = new ElasticLoadBalancingV2Client(moto.clientConfig);
    const nlb = (await elbv2.send(new DescribeLoadBalancersCommand({ Names: ['shop-services'] }))).LoadBalancers?.[0]?.DNSName;
    elbv2.destroy();
    expect(nlb).toBeTruthy();
    expect(new Set(config.endpoints.map((e) => e.backend[0]?.host[0]))).toEqual(new Set([10001, 10002, 10003].map((port) => `http://${nlb}:${port}`)));
    const waiting = last.resources.filter((r) => r.state !== 'InSync').map((r) => `${r.id}: ${r.state} ${r.message ?? ''}`);
    expect((await gatewayPins()).key, `the gateway service is not running yet after ${MAX_CYCLES} cycles:\n${waiting.join('\n')}`).toBe(firstKey);
  });

  it('adding a route publishes a new configuration and deploys a gateway revision that pins it', async () => {
    const before = await gatewayPins();
    await setServices(services.replace('    - { path: /users, methods: [GET, POST] }\n', `    - { path: /users, methods: [GET, POST] }\n${ADDED_ROUTE}\n`));

    const { summary, gatewayConfig } = await cycle();
    expect(gatewayConfig?.changes).toEqual([expect.objectContaining({ action: 'create', applied: true })]);
    const keys = await publishedKeys();
    expect(keys).toHaveLength(2);
    const newKey = keys.find((key) => key !== firstKey)!;
    expect(await objectText(newKey)).toContain('/users/{id}/sessions');
    expect(summary.callsByOperation['ECS:RegisterTaskDefinition']).toBe(1);

    const after = blueGreen ? await settledBlueGreen(summary) : await gatewayPins();
    expect(after.taskDefinitionArn).not.toBe(before.taskDefinitionArn);
    expect(after.key).toBe(newKey);
    if (!blueGreen) {
      const service = summary.resources.find((r) => r.id === 'ecs-service/shop-gateway');
      expect(service?.changes).toEqual([
        expect.objectContaining({ action: 'update', applied: true, diffs: expect.arrayContaining([expect.objectContaining({ field: 'taskDefinition', desired: after.taskDefinitionArn })]) as unknown }),
      ]);
    }
    // The previous configuration stays for rollback.
    expect(keys).toContain(firstKey);
  });

  /** Blue/green: a CodeDeploy deployment carries the new revision; the emulator finishes it on demand. */
  async function settledBlueGreen(summary: CycleSummary): Promise<{ taskDefinitionArn: string; key: string | undefined }> {
    expect(summary.callsByOperation['CodeDeploy:CreateDeployment']).toBe(1);
    await moto.server.settleDeployments();
    await cycle();
    return gatewayPins();
  }

  it('applying the same desired state again publishes nothing and deploys nothing', async () => {
    const { summary, gatewayConfig } = await cycle();
    expect(gatewayConfig?.state).toBe('InSync');
    expect(writesOf(summary), JSON.stringify(summary.callsByOperation)).toEqual([]);
    expect(summary.awsWrites).toBe(0);
    // One ListObjectsV2 of the desired-state prefix also answers for the published configurations beneath it.
    expect(summary.callsByOperation['S3:ListObjectsV2']).toBe(1);
    expect(summary.callsByOperation['S3:GetObject']).toBeUndefined();
  });

  it('bytes that no longer match their hash are drift, repaired in place without a new gateway revision', async () => {
    const pinned = await gatewayPins();
    expect(pinned.key, 'the gateway runs no published configuration').toBeDefined();
    const key = pinned.key!;
    const good = await objectText(key);
    await s3.send(new PutObjectCommand({ Bucket: seed.bucket, Key: key, Body: '{"version":3,"endpoints":[]}\n' }));

    const plan = await cycle('plan');
    expect(plan.events.filter((e) => e.event === 'drift' && e.resource === `AWS::S3::Object shop`)).toEqual([
      expect.objectContaining({ kind: 'Gateway', name: 'gateway', field: 'content' }),
    ]);
    expect(plan.summary.awsWrites).toBe(0);

    const { summary, gatewayConfig } = await cycle();
    expect(gatewayConfig?.changes).toEqual([expect.objectContaining({ action: 'update', applied: true })]);
    expect(writesOf(summary)).toEqual(['S3:PutObject']);
    expect(summary.callsByOperation['S3:PutObject']).toBe(1);
    expect(await objectText(key)).toBe(good);
    expect((await gatewayPins()).taskDefinitionArn).toBe(pinned.taskDefinitionArn);
  });

  it('the configuration the gateway runs, deleted, is drift and re-published', async () => {
    const pinned = await gatewayPins();
    expect(pinned.key, 'the gateway runs no published configuration').toBeDefined();
    const key = pinned.key!;
    const good = await objectText(key);
    await s3.send(new DeleteObjectCommand({ Bucket: seed.bucket, Key: key }));

    const { summary, gatewayConfig, events } = await cycle();
    expect(gatewayConfig?.drift).toEqual([{ field: 'object', desired: `s3://${seed.bucket}/${key}`, live: 'missing' }]);
    expect(events.filter((e) => e.event === 'drift' && e.resource === 'AWS::S3::Object shop')).toHaveLength(1);
    expect(writesOf(summary)).toEqual(['S3:PutObject']);
    expect(await objectText(key)).toBe(good);
    expect((await gatewayPins()).taskDefinitionArn).toBe(pinned.taskDefinitionArn);
  });

  it('an invalid route set publishes nothing and leaves the gateway task definition as it was', async () => {
    const before = await gatewayPins();
    const keysBefore = await publishedKeys();
    await setServices(services.replace('    - { path: /users, methods: [GET, POST] }\n', `    - { path: /users, methods: [GET, POST] }\n${ADDED_ROUTE}\n${INVALID_ROUTE}\n`));

    // The loader already refuses a method KrakenD cannot route: the revision is rejected as a whole
    // and the last valid one stays enforced (the generator's own checks are covered by the unit tests).
    const { summary, events, gatewayConfig } = await cycle();
    expect(summary.rejectedRevision).toBeDefined();
    expect(summary.invalid).toEqual([expect.objectContaining({ document: 'Service/users', path: expect.stringMatching(/^spec\.routes\[\d+\]\.methods\[0\]$/) as unknown, message: expect.stringContaining('"HEAD"') as unknown })]);
    expect(events.filter((e) => e.event === 'invalid-desired-state')).toHaveLength(1);
    expect(gatewayConfig?.state).toBe('InSync');
    expect(summary.awsWrites).toBe(0);
    expect(summary.callsByOperation['S3:PutObject']).toBeUndefined();
    expect(summary.callsByOperation['ECS:RegisterTaskDefinition']).toBeUndefined();
    expect(await publishedKeys()).toEqual(keysBefore);
    expect(await gatewayPins()).toEqual(before);
  });
});
