import { describe, expect, it } from 'vitest';
import { ref } from '../../../../desired-state/graph.js';
import { desiredProductionListener, desiredRedirectListener, HTTPS_SSL_POLICY } from '../../../../desired-state/expansion/listener.js';
import type { Workload } from '../../../../desired-state/types.js';
import { defaultDeployment, makeFrontend, makeGateway, makeService } from '../../../support/desired-state-fixtures.js';
import { envelopeOf, namesOf, shopEnvironment, shopNames, shopTags } from './inputs.js';

const rolling = defaultDeployment({ strategy: 'rolling' });
const pair = (workload: string): [string, string] => [`target-group/shop-${workload}-a`, `target-group/shop-${workload}-b`];
const arns = (ids: [string, string]) => ids.map((id) => ref(id, 'arn'));

describe('desiredRedirectListener', () => {
  it('redirects port 80 of an ALB to HTTPS', () => {
    const resource = desiredRedirectListener(shopEnvironment(), { id: 'load-balancer/shop-frontend', name: 'shop-frontend' });
    expect(envelopeOf(resource)).toEqual({
      id: 'listener/shop-frontend:80',
      type: 'listener',
      name: 'shop-frontend:80',
      owner: { kind: 'Environment', name: 'shop' },
      tags: shopTags('Environment/shop'),
      dependsOn: ['load-balancer/shop-frontend'],
    });
    expect(resource.spec).toEqual({ loadBalancerArn: ref('load-balancer/shop-frontend', 'arn'), port: 80, protocol: 'HTTP', defaultAction: { type: 'redirect-https' } });
  });
});

describe('desiredProductionListener', () => {
  const users = makeService('users', 10001, [], { labels: { team: 'identity' } });

  it.each<[string, Workload, { key: string; owner: string; labels: Record<string, string>; spec: object; dependsOn: string[] }]>([
    [
      "a Service: its own TCP port on the internal NLB, which it owns",
      users,
      {
        key: 'shop-services:10001',
        owner: 'Service/users',
        labels: { team: 'identity' },
        spec: { loadBalancerArn: ref('load-balancer/shop-services', 'arn'), port: 10001, protocol: 'TCP' },
        dependsOn: ['load-balancer/shop-services', ...pair('users')],
      },
    ],
    [
      'the Gateway: HTTPS on the backend ALB, which the Environment owns',
      makeGateway({ labels: { tier: 'edge' } }),
      {
        key: 'shop-backend:443',
        owner: 'Environment/shop',
        labels: {},
        spec: {
          loadBalancerArn: ref('load-balancer/shop-backend', 'arn'),
          port: 443,
          protocol: 'HTTPS',
          certificateArn: ref('certificate/api.example.com', 'arn'),
          sslPolicy: HTTPS_SSL_POLICY,
        },
        dependsOn: ['load-balancer/shop-backend', 'certificate/api.example.com', ...pair('gateway')],
      },
    ],
    [
      'the Frontend: HTTPS on the frontend ALB',
      makeFrontend(),
      {
        key: 'shop-frontend:443',
        owner: 'Environment/shop',
        labels: {},
        spec: {
          loadBalancerArn: ref('load-balancer/shop-frontend', 'arn'),
          port: 443,
          protocol: 'HTTPS',
          certificateArn: ref('certificate/www.example.com', 'arn'),
          sslPolicy: HTTPS_SSL_POLICY,
        },
        dependsOn: ['load-balancer/shop-frontend', 'certificate/www.example.com', ...pair('web')],
      },
    ],
  ])('carries production traffic to %s', (_name, workload, expected) => {
    const environment = shopEnvironment();
    const resource = desiredProductionListener({ environment, workload, names: namesOf(workload), environmentNames: shopNames(environment), targetGroupIds: pair(workload.name) });
    const [kind = '', name = ''] = expected.owner.split('/');
    expect(envelopeOf(resource)).toEqual({
      id: `listener/${expected.key}`,
      type: 'listener',
      name: expected.key,
      owner: { kind, name },
      tags: shopTags(expected.owner, expected.labels),
      dependsOn: expected.dependsOn,
    });
    expect(resource.spec).toEqual({
      ...expected.spec,
      defaultAction: { type: 'forward', targetGroupArns: arns(pair(workload.name)), blueGreen: true, followService: undefined },
    });
  });

  it.each<[string, Workload]>([
    ['a rolling Service', makeService('orders', 10003, [], { deployment: rolling })],
    ['a rolling Gateway', makeGateway({ deployment: rolling })],
    ['a rolling Frontend', makeFrontend({ deployment: rolling })],
  ])('makes %s follow the target group its ECS service sits on, instead of CodeDeploy', (_name, workload) => {
    const environment = shopEnvironment();
    const resource = desiredProductionListener({ environment, workload, names: namesOf(workload), environmentNames: shopNames(environment), targetGroupIds: pair(workload.name) });
    expect(resource.spec.defaultAction).toEqual({
      type: 'forward',
      targetGroupArns: arns(pair(workload.name)),
      blueGreen: false,
      followService: { clusterName: 'shop', serviceName: `shop-${workload.name}` },
    });
  });
});
