import { cpSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ResolvedNetwork } from '../../desired-state/network.js';
import type { ResourceType } from '../../desired-state/graph.js';
import { Controller, staleNetworkReference, type ControllerOptions } from '../../src/controller.js';
import type { ResourceResult } from '../../src/engine/engine.js';
import { ready, type AnyReconciler, type Observation } from '../../src/engine/types.js';
import { ConvergeMetrics } from '../../src/metrics.js';
import { captureLogs } from '../support/log-capture.js';

const EXAMPLE = fileURLToPath(new URL('../../desired-state/examples/shop/', import.meta.url));
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function exampleCopy(): string {
  const root = mkdtempSync(join(tmpdir(), 'converge-controller-'));
  dirs.push(root);
  const dir = join(root, 'shop');
  cpSync(EXAMPLE, dir, { recursive: true });
  return dir;
}

const network = (suffix: string): ResolvedNetwork => ({
  vpcId: `vpc-${suffix}`,
  vpcCidr: '10.0.0.0/16',
  privateSubnets: [
    { id: `subnet-${suffix}-pa`, availabilityZone: 'us-east-1a' },
    { id: `subnet-${suffix}-pb`, availabilityZone: 'us-east-1b' },
  ],
  publicSubnets: [
    { id: `subnet-${suffix}-qa`, availabilityZone: 'us-east-1a' },
    { id: `subnet-${suffix}-qb`, availabilityZone: 'us-east-1b' },
  ],
  zoneId: `Z${suffix.toUpperCase()}`,
  zoneName: 'example.com',
  warnings: [],
});

class AwsError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** Outputs of any attribute, so that resources referring to a faked one resolve. */
const anyOutputs = new Proxy({}, { get: (_target, key) => (typeof key === 'string' ? `fake-${key}` : undefined) });

/** A cloud of faked resource types: live specs by id, what was written, and a check observe makes first. */
class FakeCloud {
  readonly live = new Map<string, string>();
  readonly writes: string[] = [];

  reconciler(type: ResourceType, check: (spec: Record<string, unknown>) => Error | undefined = () => undefined): AnyReconciler {
    return {
      type,
      ownership: 'reconciler',
      observe: (desired) => {
        const out = new Map<string, Observation<unknown>>();
        for (const d of desired) {
          const error = check(d.spec as Record<string, unknown>);
          if (error) return Promise.reject(error);
          const live = this.live.get(d.id);
          if (live !== undefined) out.set(d.id, { live });
        }
        return Promise.resolve(out);
      },
      plan: (desired, observed) => {
        const wanted = JSON.stringify(desired.spec);
        if (!observed) return ready([{ action: 'create', diffs: [{ field: 'spec', desired: 'present', live: undefined }], payload: null }], anyOutputs);
        if (observed.live !== wanted) return ready([{ action: 'update', diffs: [{ field: 'spec', desired: 'wanted', live: 'changed' }], payload: null }], anyOutputs);
        return ready([], anyOutputs);
      },
      apply: (desired, change) => {
        this.writes.push(`${change.action} ${desired.id}`);
        this.live.set(desired.id, JSON.stringify(desired.spec));
        return Promise.resolve(anyOutputs);
      },
    };
  }
}

const controllers: Controller[] = [];
afterEach(() => {
  for (const controller of controllers.splice(0)) controller.close();
});

function controllerFor(options: Partial<ControllerOptions> & { source: string }) {
  const logs = captureLogs();
  const controller = new Controller({ log: logs.log, readLivePlacement: () => Promise.resolve(new Map()), ...options });
  controllers.push(controller);
  return { controller, logs };
}

describe('a desired-state source that cannot be read', () => {
  it('leaves the last valid revision enforced (drift corrected), reports it, and recovers', async () => {
    const dir = exampleCopy();
    const cloud = new FakeCloud();
    const { controller, logs } = controllerFor({ source: dir, registry: [cloud.reconciler('log-group')], resolveNetwork: () => Promise.resolve(network('a')) });
    const metrics = new ConvergeMetrics();
    const cycle = async () => {
      const summary = await controller.runCycle({ mode: 'apply', trigger: 'interval' });
      metrics.cycleEnded(summary);
      return summary;
    };

    const first = await cycle();
    expect(first.outcome).toBe('converged');
    expect(first.source).toMatchObject({ healthy: true });
    const revision = first.revision;
    expect(cloud.writes.length).toBeGreaterThan(0);

    // The source goes away; somebody changes a log group behind converge's back.
    renameSync(dir, `${dir}-gone`);
    const [drifted] = [...cloud.live.keys()];
    cloud.live.set(drifted!, '"changed by hand"');
    cloud.writes.length = 0;

    const outage = await cycle();
    expect(outage.outcome).toBe('converged');
    expect(outage.revision).toBe(revision);
    expect(outage.drifts).toBe(1);
    expect(cloud.writes).toEqual([`update ${drifted}`]);
    expect(outage.source).toMatchObject({ healthy: false, failures: 1, error: expect.stringMatching(/does not exist or cannot be read/) as unknown });
    expect(controller.sourceHealth).toMatchObject({ healthy: false, failures: 1 });
    const [event] = logs.ofEvent('source-error');
    expect(event).toMatchObject({ level: 'error', source: dir, failures: 1, enforcedRevision: revision });
    expect(String(event?.error).length).toBeLessThanOrEqual(300);
    expect(logs.ofEvent('cycle').at(-1)).toMatchObject({ outcome: 'converged', sourceError: expect.any(String) as unknown });

    const again = await cycle();
    expect(again.source).toMatchObject({ healthy: false, failures: 2, since: outage.source?.since });
    const text = await metrics.text();
    expect(text).toMatch(/^converge_source_errors_total 2$/m);
    expect(text).toMatch(/^converge_source_healthy 0$/m);

    renameSync(`${dir}-gone`, dir);
    const back = await cycle();
    expect(back.source).toMatchObject({ healthy: true });
    expect(back.revision).toBe(revision);
    expect(logs.ofEvent('source-recovered')).toEqual([expect.objectContaining({ level: 'info', failures: 2 })]);
    expect(await metrics.text()).toMatch(/^converge_source_healthy 1$/m);
    expect(controller.sourceHealth).toMatchObject({ healthy: true });
  });

  it('ends the cycle in error while no valid revision was ever loaded', async () => {
    const dir = exampleCopy();
    rmSync(dir, { recursive: true });
    const cloud = new FakeCloud();
    const { controller, logs } = controllerFor({ source: dir, registry: [cloud.reconciler('log-group')], resolveNetwork: () => Promise.resolve(network('a')) });
    const summary = await controller.runCycle({ mode: 'apply', trigger: 'startup' });
    expect(summary.outcome).toBe('error');
    expect(summary.revision).toBeUndefined();
    expect(summary.source).toMatchObject({ healthy: false, failures: 1 });
    expect(cloud.writes).toEqual([]);
    expect(logs.ofEvent('source-error')).toEqual([expect.objectContaining({ enforcedRevision: null })]);
  });
});

describe('network references cached by the controller', () => {
  /** The account: which VPC exists now. Security groups are observed in a VPC; AWS says a gone one does not exist. */
  function setup(options: Partial<ControllerOptions> = {}) {
    const account = { network: network('old') };
    let resolves = 0;
    const cloud = new FakeCloud();
    const groups = cloud.reconciler('security-group', (spec) =>
      spec.vpcId === account.network.vpcId ? undefined : new AwsError('InvalidVpcID.NotFound', `The vpc ID '${String(spec.vpcId)}' does not exist`),
    );
    const { controller, logs } = controllerFor({
      source: exampleCopy(),
      registry: [groups],
      resolveNetwork: () => {
        resolves += 1;
        return Promise.resolve(account.network);
      },
      ...options,
    });
    const failedGroups = (summary: { resources: ResourceResult[] }) => summary.resources.filter((r) => r.type === 'security-group' && r.state === 'Failed');
    return { account, controller, logs, cloud, failedGroups, resolves: () => resolves };
  }

  it('are resolved again at the next cycle when AWS says a cached one is gone', async () => {
    const { account, controller, logs, failedGroups, resolves } = setup();
    const first = await controller.runCycle({ mode: 'apply', trigger: 'startup' });
    expect(failedGroups(first)).toEqual([]);
    expect(resolves()).toBe(1);
    // Still cached: no lookup.
    await controller.runCycle({ mode: 'apply', trigger: 'interval' });
    expect(resolves()).toBe(1);

    // The VPC is replaced by one with the same Name tag.
    account.network = network('new');
    const stale = await controller.runCycle({ mode: 'apply', trigger: 'interval' });
    expect(failedGroups(stale).length).toBeGreaterThan(0);
    expect(logs.ofEvent('network-stale')).toEqual([expect.objectContaining({ level: 'warn', reference: 'VPC vpc-old' })]);

    const next = await controller.runCycle({ mode: 'apply', trigger: 'interval' });
    expect(resolves()).toBe(2);
    expect(failedGroups(next)).toEqual([]);
    expect(logs.ofEvent('network-resolved')).toEqual([expect.objectContaining({ changed: true, vpc: 'vpc-new', zone: 'ZNEW' })]);
  });

  it('are not looked up again and again when AWS keeps failing on an id that resolves the same', async () => {
    const { controller, logs, resolves } = setup();
    const persistent = new AwsError('InvalidSubnetID.NotFound', "The subnet ID 'subnet-old-pa' does not exist");
    const { controller: broken, logs: brokenLogs } = controllerFor({
      source: exampleCopy(),
      registry: [new FakeCloud().reconciler('security-group', () => persistent)],
      resolveNetwork: () => Promise.resolve(network('old')),
    });
    for (let i = 0; i < 4; i += 1) await broken.runCycle({ mode: 'apply', trigger: 'interval' });
    // One stale report, one lookup that found the same ids, and no more.
    expect(brokenLogs.ofEvent('network-stale')).toHaveLength(1);
    expect(brokenLogs.ofEvent('network-resolved')).toEqual([expect.objectContaining({ changed: false })]);
    // The healthy controller never looks again before its TTL.
    for (let i = 0; i < 3; i += 1) await controller.runCycle({ mode: 'apply', trigger: 'interval' });
    expect(resolves()).toBe(1);
    expect(logs.ofEvent('network-stale')).toEqual([]);
  });
});

describe('staleNetworkReference', () => {
  const result = (message: string, state: ResourceResult['state'] = 'Failed'): ResourceResult => ({
    id: 'x/y',
    type: 'ecs-service',
    resource: 'AWS::ECS::Service shop-users',
    kind: 'Service',
    name: 'users',
    state,
    drift: [],
    changes: [],
    message,
  });
  const net = network('a');

  it.each([
    ['an EC2 subnet not found', 'update AWS::ECS::Service shop-users: InvalidSubnetID.NotFound: The subnet ID \'subnet-a-pa\' does not exist', 'subnet subnet-a-pa'],
    ['ECS saying it in words', "create AWS::ECS::Service shop-users: InvalidParameterException: Error retrieving subnet information for [subnet-a-qb]: The subnet ID 'subnet-a-qb' does not exist", 'subnet subnet-a-qb'],
    ['ELBv2', 'create AWS::ElasticLoadBalancingV2::LoadBalancer shop-backend: SubnetNotFoundException: The subnet ID is not valid', 'subnet'],
    ['a VPC', "create AWS::EC2::SecurityGroup shop-users-tasks: InvalidVpcID.NotFound: The vpc ID 'vpc-a' does not exist", 'VPC vpc-a'],
    ['a hosted zone', 'observe AWS::Route53::RecordSet: NoSuchHostedZone: No hosted zone found with ID: ZA', 'hosted zone ZA'],
  ])('finds %s', (_name, message, reference) => {
    expect(staleNetworkReference([result('fine', 'InSync'), result(message)], net)).toMatchObject({ reference, resource: 'AWS::ECS::Service shop-users' });
  });

  it.each([
    ['a security group not found', "InvalidGroup.NotFound: The security group 'sg-1' does not exist"],
    ['a failure naming a subnet that is no not-found', 'InvalidParameterException: subnet-a-pa and subnet-a-qa are in the same zone'],
    ['a not-found naming another subnet', "InvalidParameterException: The subnet ID 'subnet-zzz' does not exist in this account"],
  ])('ignores %s', (_name, message) => {
    expect(staleNetworkReference([result(message)], net)).toBeUndefined();
  });

  it('ignores resources that did not fail, and failures already looked into', () => {
    const message = 'NoSuchHostedZone: No hosted zone found with ID: ZA';
    expect(staleNetworkReference([result(message, 'Pending')], net)).toBeUndefined();
    expect(staleNetworkReference([result(message)], net, new Set([message]))).toBeUndefined();
    expect(staleNetworkReference([result(`backing off after 2 failures until 2030-01-01T00:00:00.000Z: ${message}`)], net, new Set([message]))).toBeUndefined();
  });
});
