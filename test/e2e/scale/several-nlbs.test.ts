/**
 * More backend Services than one NLB takes (50 listeners, a quota AWS does not raise), on the
 * emulator, which refuses the 51st listener as AWS does: converge spreads them over a second NLB
 * with its own security group, points the gateway at each Service's own NLB, keeps every Service
 * where it is as Services come and go (also for a fresh process that learns the placement from
 * AWS), and prunes an NLB no Service sits behind any more.
 */
import { DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeListenersCommand, DescribeLoadBalancersCommand, ElasticLoadBalancingV2Client, type LoadBalancer } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedEnvironment, type SeedResult } from '../../../scripts/seed.js';
import { Controller, type CycleSummary } from '../../../src/controller.js';
import { captureLogs } from '../../support/log-capture.js';
import { useMoto } from '../../support/moto.js';

const EXAMPLE = fileURLToPath(new URL('../../../desired-state/examples/shop/', import.meta.url));

const service = (name: string, port: number): string => `apiVersion: converge/v1
kind: Service
metadata: { name: ${name} }
spec:
  container: { image: registry.example.com/${name}:1.0.0, port: 8000, cpu: 256, memory: 512 }
  desiredCount: 1
  listenerPort: ${port}
  deployment: { strategy: rolling }
  routes:
    - { path: /${name}, methods: [GET] }
`;
const servicesYaml = (list: [string, number][]): string => list.map(([name, port]) => service(name, port)).join('---\n');
const first52 = Array.from({ length: 52 }, (_, i): [string, number] => [`svc${i}`, 10001 + i]);

describe('several internal NLBs (moto)', () => {
  const moto = useMoto({ setProcessEnv: true, env: { MOTO_ACM_VALIDATION_WAIT: '0', CONVERGE_EMULATOR_DEPLOY_STEPS: '0' } });
  let seed: SeedResult;
  let controller: Controller;
  let dir: string;
  let elbv2: ElasticLoadBalancingV2Client;

  const upload = async (file: string, body: string): Promise<void> => {
    const s3 = new S3Client({ ...moto.clientConfig, forcePathStyle: true });
    await s3.send(new PutObjectCommand({ Bucket: seed.bucket, Key: `${seed.prefix}${file}`, Body: body }));
    s3.destroy();
  };
  const applyUntilQuiet = async (): Promise<CycleSummary> => {
    let last = await controller.runCycle({ mode: 'apply', trigger: 'manual' });
    for (let i = 0; i < 6 && (last.awsWrites > 0 || last.outcome === 'progressing'); i += 1) last = await controller.runCycle({ mode: 'apply', trigger: 'manual' });
    return last;
  };
  const loadBalancer = async (name: string): Promise<LoadBalancer | undefined> => {
    const all = await elbv2.send(new DescribeLoadBalancersCommand({}));
    return all.LoadBalancers?.find((lb) => lb.LoadBalancerName === name);
  };
  const portsOf = async (name: string): Promise<number[]> => {
    const lb = await loadBalancer(name);
    if (!lb) return [];
    const listeners = await elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn }));
    return (listeners.Listeners ?? []).map((l) => l.Port ?? 0).sort((a, b) => a - b);
  };
  /** Listener port -> ARN across both NLBs: a Service moved would get a new ARN. */
  const listenerArns = async (): Promise<Map<number, string>> => {
    const out = new Map<number, string>();
    for (const name of ['shop-services', 'shop-services-2']) {
      const lb = await loadBalancer(name);
      if (!lb) continue;
      const listeners = await elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn }));
      for (const l of listeners.Listeners ?? []) out.set(l.Port ?? 0, l.ListenerArn ?? '');
    }
    return out;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'converge-nlbs-'));
    for (const file of ['gateway.yaml', 'frontend.yaml']) writeFileSync(join(dir, file), readFileSync(join(EXAMPLE, file)));
    writeFileSync(join(dir, 'environment.yaml'), readFileSync(join(EXAMPLE, 'environment.yaml'), 'utf8').replace('prune: false', 'prune: true'));
    writeFileSync(join(dir, 'services.yaml'), servicesYaml(first52));
    seed = await seedEnvironment({ endpoint: moto.endpoint, documentsDir: dir });
    elbv2 = new ElasticLoadBalancingV2Client(moto.clientConfig);
    controller = new Controller({ source: seed.source, log: captureLogs().log });
    const converged = await applyUntilQuiet();
    expect(converged.errors, JSON.stringify(converged.resources.filter((r) => r.state === 'Failed').slice(0, 3), null, 2)).toBe(0);
    expect(converged.outcome).toBe('converged');
  }, 300_000);

  afterAll(() => {
    controller?.close();
    elbv2?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('puts the first 50 Services behind the first NLB and the rest behind a second one, each with its own security group', async () => {
    expect(await portsOf('shop-services')).toEqual(first52.slice(0, 50).map(([, port]) => port));
    expect(await portsOf('shop-services-2')).toEqual([10051, 10052]);
    const ec2 = new EC2Client(moto.clientConfig);
    const groups = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: ['shop-services-nlb', 'shop-services-2-nlb', 'shop-svc50-tasks', 'shop-gateway-tasks'] }] }));
    const group = (name: string) => groups.SecurityGroups?.find((g) => g.GroupName === name);
    const gatewayGroup = group('shop-gateway-tasks')?.GroupId;
    const secondRules = group('shop-services-2-nlb')?.IpPermissions ?? [];
    expect(secondRules.map((p) => p.FromPort).sort()).toEqual([10051, 10052]);
    expect(secondRules.every((p) => p.UserIdGroupPairs?.[0]?.GroupId === gatewayGroup)).toBe(true);
    expect(group('shop-services-nlb')?.IpPermissions).toHaveLength(50);
    // svc50's tasks admit its own NLB's group, not the first one's.
    const sources = (group('shop-svc50-tasks')?.IpPermissions ?? []).flatMap((p) => p.UserIdGroupPairs ?? []).map((pair) => pair.GroupId);
    expect(sources).toContain(group('shop-services-2-nlb')?.GroupId);
    expect(sources).not.toContain(group('shop-services-nlb')?.GroupId);
    ec2.destroy();
  });

  it('points the gateway at each Service on its own NLB', async () => {
    const s3 = new S3Client({ ...moto.clientConfig, forcePathStyle: true });
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: seed.bucket, Prefix: `${seed.prefix}.converge/gateway/` }));
    const newest = [...(listed.Contents ?? [])].sort((a, b) => (b.LastModified?.getTime() ?? 0) - (a.LastModified?.getTime() ?? 0))[0];
    const body = await (await s3.send(new GetObjectCommand({ Bucket: seed.bucket, Key: newest?.Key }))).Body?.transformToString();
    const config = JSON.parse(body ?? '{}') as { endpoints: { endpoint: string; backend: { host: string[] }[] }[] };
    const hostOf = (path: string): string | undefined => config.endpoints.find((e) => e.endpoint === path)?.backend[0]?.host[0];
    const first = (await loadBalancer('shop-services'))?.DNSName;
    const second = (await loadBalancer('shop-services-2'))?.DNSName;
    expect(second).not.toBe(first);
    expect(hostOf('/svc0')).toBe(`http://${first}:10001`);
    expect(hostOf('/svc51')).toBe(`http://${second}:10052`);
    s3.destroy();
  });

  it('moves no Service when one is removed and another added, counting the removed listener until it is gone; a fresh process finds the same placement', async () => {
    const arnsBefore = await listenerArns();
    const next: [string, number][] = [['newcomer', 10000], ...first52.filter(([name]) => name !== 'svc3')];
    await upload('services.yaml', servicesYaml(next));
    const applied = await applyUntilQuiet();
    expect(applied.errors).toBe(0);
    // Only svc3's listener went and only the newcomer's came: on the second NLB, since svc3's
    // listener still held its place on the first one while the newcomer's was created.
    const arnsAfter = await listenerArns();
    expect([...arnsBefore].filter(([port]) => !arnsAfter.has(port)).map(([port]) => port)).toEqual([10004]);
    expect([...arnsAfter].filter(([port, arn]) => arnsBefore.get(port) !== arn).map(([port]) => port)).toEqual([10000]);
    expect(await portsOf('shop-services-2')).toEqual([10000, 10051, 10052]);
    expect(await portsOf('shop-services')).not.toContain(10004);
    expect(await portsOf('shop-services')).toHaveLength(49);
    const fresh = new Controller({ source: seed.source, log: captureLogs().log });
    const plan = await fresh.runCycle({ mode: 'plan', trigger: 'manual' });
    fresh.close();
    expect(plan.pending, JSON.stringify(plan.resources.filter((r) => r.changes.length > 0).map((r) => r.id))).toBe(0);
  }, 120_000);

  it('prunes the second NLB and its security group once no Service sits behind it', async () => {
    const next: [string, number][] = first52.filter(([name]) => name !== 'svc3' && name !== 'svc50' && name !== 'svc51');
    await upload('services.yaml', servicesYaml(next));
    const applied = await applyUntilQuiet();
    expect(applied.errors, JSON.stringify(applied.resources.filter((r) => r.state === 'Failed'), null, 2)).toBe(0);
    expect(await loadBalancer('shop-services-2')).toBeUndefined();
    expect(await loadBalancer('shop-services')).toBeDefined();
    const ec2 = new EC2Client(moto.clientConfig);
    const groups = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: ['shop-services-2-nlb'] }] }));
    expect(groups.SecurityGroups ?? []).toEqual([]);
    ec2.destroy();
  }, 120_000);
});
