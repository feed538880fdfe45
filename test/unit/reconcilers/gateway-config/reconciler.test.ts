import { createHash } from 'node:crypto';
import { DescribeServicesCommand, DescribeTaskDefinitionCommand, ECSClient } from '@aws-sdk/client-ecs';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, S3ServiceException, type GetObjectCommandOutput } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { pino } from 'pino';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { expand, gatewayConfigInput } from '../../../../desired-state/expand.js';
import type { ResolvedNetwork } from '../../../../desired-state/network.js';
import type { GatewayConfigSpec, TaskDefinitionSpec } from '../../../../desired-state/resources.js';
import type { DesiredState } from '../../../../desired-state/types.js';
import { gatewayConfigReconciler, renderGatewayConfig, type GatewayConfigPayload } from '../../../../reconcilers/gateway-config/index.js';
import { createAwsClients, destroyAwsClients } from '../../../../src/aws/clients.js';
import { MapCache, runEngine, type ResourceResult } from '../../../../src/engine/engine.js';
import { isRef, type DesiredResource, type Outputs } from '../../../../desired-state/graph.js';
import { erase, ready, type ApplyContext, type Change, type CycleRead, type ReconcileContext, type ResourceReconciler } from '../../../../src/engine/types.js';
import { makeDesiredState, makeRoute, makeService, makeShopServices } from '../../../support/desired-state-fixtures.js';

const NLB = 'shop-services-0123456789.elb.us-east-1.amazonaws.com';
const BUCKET = 'converge-artifacts';
/** Where the controller publishes (the artifacts prefix) and, below it, this environment's folder. */
const ARTIFACTS_PREFIX = 'shop/.converge/gateway/';
const PREFIX = `${ARTIFACTS_PREFIX}shop/`;
const NLB_ID = 'load-balancer/shop-services';
const SERVICE_ARN = 'arn:aws:ecs:us-east-1:123456789012:service/shop/shop-gateway';
const TASK_ARN = 'arn:aws:ecs:us-east-1:123456789012:task-definition/shop-gateway:3';

const s3 = mockClient(S3Client);
const ecs = mockClient(ECSClient);
const aws = createAwsClients({ region: 'us-east-1' });
const silent = pino({ level: 'silent' });
afterAll(() => destroyAwsClients(aws));

const NETWORK: ResolvedNetwork = {
  vpcId: 'vpc-1',
  vpcCidr: '10.0.0.0/16',
  privateSubnets: [{ id: 'subnet-a', availabilityZone: 'us-east-1a' }],
  publicSubnets: [{ id: 'subnet-p', availabilityZone: 'us-east-1a' }],
  zoneId: 'Z1',
  zoneName: 'example.com',
  warnings: [],
};

function graphOf(state: DesiredState, bucket = BUCKET): DesiredResource[] {
  return expand(state, NETWORK, { gatewayConfig: { bucket, prefix: ARTIFACTS_PREFIX } });
}

function gatewayConfigOf(graph: readonly DesiredResource[]): DesiredResource<GatewayConfigSpec> {
  const found = graph.find((r) => r.type === 'gateway-config');
  if (!found) throw new Error('no gateway-config resource');
  return found as DesiredResource<GatewayConfigSpec>;
}

function contextFor(graph: readonly DesiredResource[], cache = new MapCache()): ReconcileContext {
  const reads = new Map<CycleRead<unknown>, Promise<unknown>>();
  const ctx: ReconcileContext = {
    aws,
    log: silent,
    mode: 'apply',
    environment: 'shop',
    cache,
    graph,
    outputsOf: (id) => (id === NLB_ID ? { dnsName: NLB } : undefined),
    desiredHashOf: () => 'h',
    read<T>(read: CycleRead<T>): Promise<T> {
      if (!reads.has(read)) reads.set(read, read.load(ctx));
      return reads.get(read) as Promise<T>;
    },
  };
  return ctx;
}

function applyContext(graph: readonly DesiredResource[]): ApplyContext {
  return { ...contextFor(graph), desiredHash: 'h', tags: {}, liveOutputs: {} };
}

function current(state: DesiredState = makeDesiredState()): { body: string; key: string; hash: string; etag: string } {
  const rendered = renderGatewayConfig({ bucket: BUCKET, prefix: PREFIX, input: gatewayConfigInput(state) }, NLB);
  return { body: rendered.body, key: rendered.key, hash: rendered.hash, etag: `"${rendered.md5}"` };
}

function listing(objects: { key: string; etag: string; minutesAgo?: number }[]): void {
  s3.on(ListObjectsV2Command).resolves({
    Contents: objects.map((o) => ({ Key: o.key, ETag: o.etag, Size: 100, LastModified: new Date(Date.UTC(2026, 0, 1) - (o.minutesAgo ?? 0) * 60_000) })),
    IsTruncated: false,
  });
}

/** The part of a streaming body that the S3 adapter reads. */
function body(text: string): GetObjectCommandOutput['Body'] {
  return { transformToString: () => Promise.resolve(text) } as unknown as GetObjectCommandOutput['Body'];
}

function s3Error(name: string, status: number): S3ServiceException {
  return new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message: name });
}

function operations(): string[] {
  return [...s3.calls(), ...ecs.calls()].map((call) => (call.args[0] as { constructor: { name: string } }).constructor.name.replace(/Command$/, ''));
}

beforeEach(() => {
  s3.reset();
  ecs.reset();
});

describe('expansion of the gateway-config resource', () => {
  const graph = graphOf(makeDesiredState());
  const resource = gatewayConfigOf(graph);

  it('carries what the generator reads, the NLB DNS name as a reference, and keeps five, in a folder of its environment', () => {
    expect(resource).toMatchObject({ id: 'gateway-config/shop', dependsOn: [NLB_ID] });
    expect(resource.spec).toMatchObject({ bucket: BUCKET, prefix: PREFIX, keep: 5, nlbDnsName: { $ref: NLB_ID, attr: 'dnsName' } });
    expect(resource.spec.input).toEqual(gatewayConfigInput(makeDesiredState()));
    expect(resource.spec.input.gateway).toEqual({ port: 8080, healthPath: '/__health', settings: { timeout: '3s', cacheTTL: '0s' } });
    expect(resource.spec.input.services.map((s) => s.name)).toEqual(['billing', 'users']);
  });

  it('is what the gateway task definition pins through its init container', () => {
    const td = graph.find((r) => r.type === 'task-definition' && r.owner.kind === 'Gateway') as DesiredResource<TaskDefinitionSpec>;
    expect(td.dependsOn).toContain('gateway-config/shop');
    expect(td.spec.sidecar?.configUri).toEqual({ $ref: 'gateway-config/shop', attr: 'uri' });
  });

  it('makes the gateway target group probe the KrakenD health path', () => {
    const groups = graph.filter((r) => r.type === 'target-group' && r.owner.kind === 'Gateway') as DesiredResource<{ healthCheck: { path: string } }>[];
    expect(groups.map((g) => g.spec.healthCheck.path)).toEqual([resource.spec.input.gateway.healthPath, resource.spec.input.gateway.healthPath]);
  });
});

describe('gatewayConfigReconciler.observe', () => {
  it('steady state: one ListObjectsV2 and nothing else', async () => {
    const graph = graphOf(makeDesiredState());
    const published = current();
    listing([{ key: published.key, etag: published.etag }, { key: `${PREFIX}notes.txt`, etag: '"x"' }]);
    const observed = await gatewayConfigReconciler.observe([gatewayConfigOf(graph)], contextFor(graph));
    expect(operations()).toEqual(['ListObjectsV2']);
    expect(s3.commandCalls(ListObjectsV2Command)[0]?.args[0].input).toMatchObject({ Bucket: BUCKET, Prefix: PREFIX });
    const live = observed.get('gateway-config/shop')?.live;
    expect(live?.published.map((o) => o.key)).toEqual([published.key]);
    const plan = gatewayConfigReconciler.plan({ ...gatewayConfigOf(graph), spec: { ...gatewayConfigOf(graph).spec, nlbDnsName: NLB } }, observed.get('gateway-config/shop'), {
      desiredHash: 'h',
      intended: true,
      selfHeal: true,
      mode: 'apply',
    });
    expect(plan.changes).toEqual([]);
    // S3 objects carry no tags: ownership is the prefix converge owns, and no hash is recorded.
    expect(observed.get('gateway-config/shop')?.tags).toBeUndefined();
  });

  it('no bucket: no call at all', async () => {
    const graph = graphOf(makeDesiredState(), '');
    expect((await gatewayConfigReconciler.observe([gatewayConfigOf(graph)], contextFor(graph))).size).toBe(0);
    expect(operations()).toEqual([]);
  });

  it('an ETag that is no MD5: downloads once, then trusts the verdict for that ETag', async () => {
    const graph = graphOf(makeDesiredState());
    const published = current();
    listing([{ key: published.key, etag: '"kms-1"' }]);
    s3.on(GetObjectCommand).callsFake(() => ({ Body: body(published.body), ETag: '"kms-1"' }));
    const cache = new MapCache();
    const first = await gatewayConfigReconciler.observe([gatewayConfigOf(graph)], contextFor(graph, cache));
    const second = await gatewayConfigReconciler.observe([gatewayConfigOf(graph)], contextFor(graph, cache));
    expect(first.get('gateway-config/shop')?.live.verified).toEqual([published.key]);
    expect(second.get('gateway-config/shop')?.live.verified).toEqual([published.key]);
    expect(operations()).toEqual(['ListObjectsV2', 'GetObject', 'ListObjectsV2']);
  });

  it('bytes that do not hash to their name are not verified', async () => {
    const graph = graphOf(makeDesiredState());
    const published = current();
    listing([{ key: published.key, etag: '"tampered"' }]);
    s3.on(GetObjectCommand).resolves({ Body: body('{}\n'), ETag: '"tampered"' });
    const observed = await gatewayConfigReconciler.observe([gatewayConfigOf(graph)], contextFor(graph));
    expect(observed.get('gateway-config/shop')?.live.verified).toEqual([]);
    // Damaged bytes: no recorded spec hash, so their repair is drift.
    expect(observed.get('gateway-config/shop')?.tags).toBeUndefined();
  });

  it('a new configuration: reads which one the running gateway pins (service, then its revision)', async () => {
    const graph = graphOf(makeDesiredState());
    const running = `s3://${BUCKET}/${PREFIX}${'a'.repeat(64)}.json`;
    listing([{ key: `${PREFIX}${'a'.repeat(64)}.json`, etag: '"e"' }]);
    ecs.on(DescribeServicesCommand).resolves({ services: [{ serviceName: 'shop-gateway', serviceArn: SERVICE_ARN, status: 'ACTIVE', taskDefinition: TASK_ARN }] });
    ecs.on(DescribeTaskDefinitionCommand).resolves({
      taskDefinition: {
        taskDefinitionArn: TASK_ARN,
        containerDefinitions: [
          { name: 'gateway', image: 'devopsfaith/krakend:2.10' },
          { name: 'config-loader', image: 'aws-cli', command: ['s3', 'cp', '--only-show-errors', running, '/etc/krakend/krakend.json'] },
        ],
      },
    });
    const observed = await gatewayConfigReconciler.observe([gatewayConfigOf(graph)], contextFor(graph));
    expect(observed.get('gateway-config/shop')?.live.pinned).toEqual({ status: 'known', key: `${PREFIX}${'a'.repeat(64)}.json` });
    expect(operations()).toEqual(['ListObjectsV2', 'DescribeServices', 'DescribeTaskDefinition']);
    // The gateway's own ECS service, named by the resource's spec, among the cycle's shared read of services.
    expect(ecs.commandCalls(DescribeServicesCommand)[0]?.args[0].input).toMatchObject({ cluster: 'shop', services: expect.arrayContaining(['shop-gateway']) as unknown });
  });

  it('a failing pinned lookup is reported as unknown, not as a failed observation', async () => {
    const graph = graphOf(makeDesiredState());
    listing([]);
    ecs.on(DescribeServicesCommand).rejects(Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' }));
    const observed = await gatewayConfigReconciler.observe([gatewayConfigOf(graph)], contextFor(graph));
    expect(observed.get('gateway-config/shop')?.live.pinned).toMatchObject({ status: 'unknown' });
  });
});

describe('gatewayConfigReconciler.apply', () => {
  const graph = graphOf(makeDesiredState());
  const resource = { ...gatewayConfigOf(graph), spec: { ...gatewayConfigOf(graph).spec, nlbDnsName: NLB } };
  const published = current();
  const change = (payload: GatewayConfigPayload): Change<GatewayConfigPayload> => ({ action: 'create', diffs: [], payload });
  const outputs = { uri: `s3://${BUCKET}/${published.key}`, key: published.key, hash: published.hash };

  it('publishes with If-None-Match: * so a published configuration never changes', async () => {
    s3.on(PutObjectCommand).resolves({ ETag: published.etag });
    expect(await gatewayConfigReconciler.apply(resource, change({ kind: 'publish', key: published.key, body: published.body }), applyContext(graph))).toEqual(outputs);
    const input = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(input).toMatchObject({ Bucket: BUCKET, Key: published.key, Body: published.body, ContentType: 'application/json', IfNoneMatch: '*' });
    expect(typeof input?.Body).toBe('string');
    expect(createHash('md5').update(input?.Body as string).digest('hex')).toBe(published.etag.slice(1, -1));
  });

  it('a 412 means another writer published the same bytes: success', async () => {
    s3.on(PutObjectCommand).rejects(s3Error('PreconditionFailed', 412));
    expect(await gatewayConfigReconciler.apply(resource, change({ kind: 'publish', key: published.key, body: published.body }), applyContext(graph))).toEqual(outputs);
  });

  it('repairs with an unconditional put of the same key', async () => {
    s3.on(PutObjectCommand).resolves({});
    await gatewayConfigReconciler.apply(resource, change({ kind: 'repair', key: published.key, body: published.body }), applyContext(graph));
    const input = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(input).toMatchObject({ Key: published.key, Body: published.body });
    expect(input?.IfNoneMatch).toBeUndefined();
  });

  it('prunes every key; a failed delete is logged and does not fail the rollout', async () => {
    s3.on(DeleteObjectCommand, { Key: 'k1' }).rejects(s3Error('AccessDenied', 403)).on(DeleteObjectCommand, { Key: 'k2' }).resolves({});
    await expect(gatewayConfigReconciler.apply(resource, change({ kind: 'prune', keys: ['k1', 'k2'] }), applyContext(graph))).resolves.toEqual({});
    expect(s3.commandCalls(DeleteObjectCommand).map((c) => c.args[0].input.Key)).toEqual(['k1', 'k2']);
  });

  it('refuses to publish bytes that are not known yet', async () => {
    await expect(gatewayConfigReconciler.apply(resource, change({ kind: 'unresolved' }), applyContext(graph))).rejects.toThrow(/before the internal NLB/);
  });
});

/** Stands in for a reconciler of another type: records what it was asked to plan. */
function recordingReconciler<S>(type: 'load-balancer' | 'task-definition', outputs: (spec: S) => Outputs, seen: S[] = []): ResourceReconciler<S, unknown, unknown> {
  return {
    type,
    ownership: 'tags',
    observe: () => Promise.resolve(new Map()),
    plan: (desired) => {
      seen.push(desired.spec);
      return ready([], outputs(desired.spec));
    },
    apply: () => Promise.resolve({}),
  };
}

describe('in a cycle', () => {
  async function cycle(
    state: DesiredState,
    selfHeal = true,
  ): Promise<{ gatewayConfig?: Pick<ResourceResult, 'state' | 'message' | 'drift' | 'changes'>; gatewayTask?: { state: string; message?: string }; pinned: string[] }> {
    // The gateway's ECS service is there for the shared read of services only: no reconciler here.
    const kept = graphOf(state).filter((r) => r.id === NLB_ID || r.type === 'gateway-config' || (r.owner.kind === 'Gateway' && (r.type === 'task-definition' || r.type === 'ecs-service')));
    const ids = new Set(kept.map((r) => r.id));
    // The NLB's own references (security groups) are not part of this test.
    const graph = kept.map((r) => ({ ...r, spec: r.id === NLB_ID ? {} : r.spec, dependsOn: r.dependsOn.filter((id) => ids.has(id)) }));
    const pinned: string[] = [];
    const registry = [
      erase(recordingReconciler('load-balancer', () => ({ dnsName: NLB, arn: 'arn:lb' }))),
      erase(gatewayConfigReconciler),
      erase(
        recordingReconciler<TaskDefinitionSpec>('task-definition', (spec) => {
          const uri = spec.sidecar?.configUri;
          if (uri !== undefined && !isRef(uri)) pinned.push(uri);
          return { arn: TASK_ARN };
        }),
      ),
    ];
    const result = await runEngine({ aws, log: silent, registry, cache: new MapCache() }, { graph, mode: 'apply', environment: 'shop', selfHeal });
    const byId = new Map(result.resources.map((r) => [r.id, r]));
    return { gatewayConfig: byId.get('gateway-config/shop'), gatewayTask: byId.get('task-definition/shop-gateway'), pinned };
  }

  it('publishes, then hands the task definition the URI of exactly those bytes', async () => {
    const published = current();
    listing([]);
    s3.on(PutObjectCommand).resolves({ ETag: published.etag });
    const result = await cycle(makeDesiredState());
    expect(result.gatewayConfig?.state).toBe('InSync');
    expect(result.pinned).toEqual([`s3://${BUCKET}/${published.key}`]);
    expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input.Body).toBe(published.body);
  });

  it('an invalid route set fails the resource, publishes nothing and leaves the gateway task definition alone', async () => {
    listing([]);
    const state = makeDesiredState({ services: [...makeShopServices(), makeService('status', 10003, [makeRoute('/status', ['HEAD'])])] });
    const result = await cycle(state);
    expect(result.gatewayConfig?.state).toBe('Failed');
    expect(result.gatewayConfig?.message).toContain('(Service status; route HEAD /status)');
    expect(result.gatewayTask?.state).toBe('Pending');
    expect(result.gatewayTask?.message).toBe(
      'waiting for gateway-config/shop, blocked by AWS::S3::Object shop (the KrakenD configuration generated from the Service routes is invalid (1 problem); nothing is published and the gateway keeps its current configuration:)',
    );
    expect(result.pinned).toEqual([]);
    expect(s3.commandCalls(PutObjectCommand)).toEqual([]);
  });
  describe('drift or intended, as the engine decides it from what observe records', () => {
    const running = (n: number): string => `${PREFIX}${String(n).padStart(64, '0')}.json`;
    function runningGateway(key: string): void {
      ecs.on(DescribeServicesCommand).resolves({ services: [{ serviceName: 'shop-gateway', serviceArn: SERVICE_ARN, status: 'ACTIVE', taskDefinition: TASK_ARN }] });
      ecs.on(DescribeTaskDefinitionCommand).resolves({
        taskDefinition: { taskDefinitionArn: TASK_ARN, containerDefinitions: [{ name: 'config-loader', image: 'aws-cli', command: ['s3', 'cp', `s3://${BUCKET}/${key}`, '/etc/krakend/krakend.json'] }] },
      });
    }

    it('a new configuration is published and the oldest pruned even with selfHeal off: no drift', async () => {
      const published = current();
      listing(Array.from({ length: 6 }, (_, i) => ({ key: running(i + 1), etag: '"x"', minutesAgo: (i + 1) * 10 })));
      // The gateway still runs the oldest: kept, the next oldest goes.
      runningGateway(running(6));
      s3.on(PutObjectCommand).resolves({ ETag: published.etag });
      s3.on(DeleteObjectCommand).resolves({});
      const result = await cycle(makeDesiredState(), false);
      expect(result.gatewayConfig?.state).toBe('InSync');
      expect(result.gatewayConfig?.drift).toEqual([]);
      expect(result.gatewayConfig?.changes.map((c) => [c.action, c.applied])).toEqual([
        ['create', true],
        ['delete', true],
      ]);
      expect(s3.commandCalls(DeleteObjectCommand).map((c) => c.args[0].input.Key)).toEqual([running(5)]);
    });

    it('damaged bytes with selfHeal off are drift, reported and left alone', async () => {
      listing([{ key: current().key, etag: '"d41d8cd98f00b204e9800998ecf8427e"' }]);
      s3.on(GetObjectCommand).resolves({ Body: body('{}\n'), ETag: '"d41d8cd98f00b204e9800998ecf8427e"' });
      const result = await cycle(makeDesiredState(), false);
      expect(result.gatewayConfig?.state).toBe('Drifted');
      expect(result.gatewayConfig?.drift.map((d) => d.field)).toEqual(['content']);
      expect(s3.commandCalls(PutObjectCommand)).toEqual([]);
    });

    it('damaged bytes with selfHeal on are drift, repaired', async () => {
      const published = current();
      listing([{ key: published.key, etag: '"d41d8cd98f00b204e9800998ecf8427e"' }]);
      s3.on(GetObjectCommand).resolves({ Body: body('{}\n'), ETag: '"d41d8cd98f00b204e9800998ecf8427e"' });
      s3.on(PutObjectCommand).resolves({ ETag: published.etag });
      const result = await cycle(makeDesiredState());
      expect(result.gatewayConfig?.state).toBe('InSync');
      expect(result.gatewayConfig?.drift.map((d) => d.field)).toEqual(['content']);
      expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input).toMatchObject({ Key: published.key, Body: published.body });
      expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input.IfNoneMatch).toBeUndefined();
    });
  });
});
