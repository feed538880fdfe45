import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import { AddTagsCommand, DescribeListenersCommand, DescribeTagsCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ref, SPEC_HASH_TAG, type DesiredResource, type Outputs } from '../../../../desired-state/graph.js';
import type { EcsServiceSpec, ListenerSpec } from '../../../../desired-state/resources.js';
import { LISTENER_TAG, listenerReconciler } from '../../../../reconcilers/listener/index.js';
import { elbv2Tags } from '../../../../reconcilers/shared/elbv2-tags.js';
import type { AwsClients } from '../../../../src/aws/clients.js';
import { MapCache } from '../../../../src/engine/engine.js';
import type { ApplyContext, CycleRead, ImmutableCache, ReconcileContext } from '../../../../src/engine/types.js';
import { ENV, HASH, lbArn, tgArn } from '../elbv2-fixtures.js';

const elbv2Mock = mockClient(ElasticLoadBalancingV2Client);
const ecsMock = mockClient(ECSClient);
afterEach(() => {
  elbv2Mock.reset();
  ecsMock.reset();
});
const aws = { elbv2: new ElasticLoadBalancingV2Client({ region: 'us-east-1' }), ecs: new ECSClient({ region: 'us-east-1' }) } as AwsClients;

const LB = lbArn('shop-services', 'net');
const LISTENER = `${LB.replace(':loadbalancer/', ':listener/')}/aaaa`;
const BLUE = tgArn('shop-users-a');
const GREEN = tgArn('shop-users-b');

const listener: DesiredResource<ListenerSpec> = {
  id: 'listener/shop-services:10001',
  type: 'listener',
  name: 'shop-services:10001',
  owner: { kind: 'Service', name: 'users' },
  tags: { 'converge:environment': ENV },
  spec: {
    loadBalancerArn: ref('load-balancer/shop-services', 'arn'),
    port: 10001,
    protocol: 'TCP',
    defaultAction: { type: 'forward', targetGroupArns: [BLUE, GREEN], blueGreen: false, followService: { clusterName: 'shop', serviceName: 'shop-users' } },
  },
  dependsOn: ['load-balancer/shop-services'],
};
const service = { id: 'ecs-service/shop-users', type: 'ecs-service', name: 'shop-users', owner: { kind: 'Service', name: 'users' }, tags: {}, spec: { clusterName: 'shop', serviceName: 'shop-users' } as EcsServiceSpec, dependsOn: [] } satisfies DesiredResource<EcsServiceSpec>;

function context(cache: ImmutableCache): ApplyContext {
  const reads = new Map<CycleRead<unknown>, Promise<unknown>>();
  const outputs: Record<string, Outputs> = { 'load-balancer/shop-services': { arn: LB } };
  const ctx: ReconcileContext = {
    aws,
    log: pino({ enabled: false }),
    mode: 'apply',
    environment: ENV,
    cache,
    graph: [listener, service],
    outputsOf: (id) => outputs[id],
    desiredHashOf: () => HASH,
    read<T>(read: CycleRead<T>): Promise<T> {
      if (!reads.has(read)) reads.set(read, read.load(ctx));
      return reads.get(read) as Promise<T>;
    },
  };
  return { ...ctx, desiredHash: HASH, tags: { 'converge:environment': ENV, [SPEC_HASH_TAG]: HASH }, liveOutputs: {} };
}

describe('listenerReconciler', () => {
  it('observes the listener with its tags (then from the cache) and the group its ECS service sits on', async () => {
    elbv2Mock.on(DescribeListenersCommand).resolves({ Listeners: [{ ListenerArn: LISTENER, LoadBalancerArn: LB, Port: 10001, Protocol: 'TCP', DefaultActions: [{ Type: 'forward', TargetGroupArn: GREEN }] }] });
    elbv2Mock.on(DescribeTagsCommand).resolves({ TagDescriptions: [{ ResourceArn: LISTENER, Tags: [{ Key: 'converge:environment', Value: ENV }, { Key: SPEC_HASH_TAG, Value: 'hash-before' }, { Key: LISTENER_TAG, Value: listener.name }] }] });
    ecsMock.on(DescribeServicesCommand).resolves({ services: [{ serviceName: 'shop-users', status: 'ACTIVE', loadBalancers: [{ targetGroupArn: GREEN, containerName: 'app', containerPort: 8000 }] }] });
    const cache = new MapCache();

    const first = (await listenerReconciler.observe([listener], context(cache))).get(listener.id);
    expect(first?.live).toMatchObject({ arn: LISTENER, port: 10001, serviceTargetGroupArn: GREEN });
    expect(first?.tags).toMatchObject({ 'converge:environment': ENV, [SPEC_HASH_TAG]: 'hash-before' });
    expect(first?.tagsFromCache).toBe(false);
    expect(ecsMock.commandCalls(DescribeServicesCommand)).toHaveLength(1);

    const second = (await listenerReconciler.observe([listener], context(cache))).get(listener.id);
    expect(second?.tagsFromCache).toBe(true);
    expect(elbv2Mock.commandCalls(DescribeTagsCommand)).toHaveLength(1);
  });

  it('readTags reads afresh; recordSpecHash tags the listener and updates the cache', async () => {
    elbv2Mock.on(DescribeTagsCommand).resolves({ TagDescriptions: [{ ResourceArn: LISTENER, Tags: [{ Key: 'converge:environment', Value: ENV }] }] });
    elbv2Mock.on(AddTagsCommand).resolves({});
    const cache = new MapCache();
    const ctx = context(cache);
    const live = { arn: LISTENER, loadBalancerArn: LB, port: 10001, protocol: 'TCP' as const, certificateArns: [], defaultActions: [] };
    expect(await listenerReconciler.readTags?.(listener, { live }, ctx)).toEqual({ 'converge:environment': ENV });
    await listenerReconciler.recordSpecHash?.(listener, { arn: LISTENER }, 'hash-new', ctx);
    expect(elbv2Mock.commandCalls(AddTagsCommand)[0]?.args[0].input).toEqual({ ResourceArns: [LISTENER], Tags: [{ Key: SPEC_HASH_TAG, Value: 'hash-new' }] });
    expect(elbv2Tags.get(cache, LISTENER)).toEqual({ 'converge:environment': ENV, [SPEC_HASH_TAG]: 'hash-new' });
  });
});
