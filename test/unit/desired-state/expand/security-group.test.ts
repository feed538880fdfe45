import { describe, expect, it } from 'vitest';
import { ref } from '../../../../desired-state/graph.js';
import { desiredAlbSecurityGroup, desiredNlbSecurityGroup, desiredTaskSecurityGroup } from '../../../../desired-state/expansion/security-group.js';
import type { SecurityGroupRule } from '../../../../desired-state/resources.js';
import type { Workload } from '../../../../desired-state/types.js';
import { makeEnvironmentSpec, makeFrontend, makeGateway, makeService } from '../../../support/desired-state-fixtures.js';
import { envelopeOf, namesOf, NETWORK, shopEnvironment, shopNames, shopTags } from './inputs.js';

const GATEWAY_SG = 'security-group/shop-gateway-tasks';
const groupRef = (id: string): ReturnType<typeof ref> => ref(id, 'groupId');

describe('desiredAlbSecurityGroup', () => {
  const loadBalancers = makeEnvironmentSpec().loadBalancers;
  const environment = shopEnvironment({
    loadBalancers: { backend: loadBalancers.backend, frontend: { ...loadBalancers.frontend, ingressCidrs: ['203.0.113.0/24', '198.51.100.0/24'] } },
  });

  it.each([
    ['backend', 'shop-backend-alb', ['0.0.0.0/0']],
    ['frontend', 'shop-frontend-alb', ['203.0.113.0/24', '198.51.100.0/24']],
  ] as const)('admits HTTP and HTTPS to the %s ALB from each ingress CIDR', (role, groupName, cidrs) => {
    const resource = desiredAlbSecurityGroup(environment, shopNames(environment), role, NETWORK.vpcId);
    expect(envelopeOf(resource)).toEqual({
      id: `security-group/${groupName}`,
      type: 'security-group',
      name: groupName,
      owner: { kind: 'Environment', name: 'shop' },
      tags: shopTags('Environment/shop'),
      dependsOn: [],
    });
    expect(resource.spec).toEqual({
      groupName,
      description: `converge shop: ${role} ALB`,
      vpcId: NETWORK.vpcId,
      ingress: cidrs.flatMap((cidr) => [
        { fromPort: 80, toPort: 80, cidr, description: 'HTTP, redirected to HTTPS' },
        { fromPort: 443, toPort: 443, cidr, description: 'HTTPS' },
      ]),
    });
  });
});

describe('desiredNlbSecurityGroup', () => {
  it.each<[string, Workload[], SecurityGroupRule[]]>([
    ['no Service', [], []],
    [
      'each Service on its listener port',
      [makeService('users', 10001, []), makeService('billing', 10002, [])],
      [
        { fromPort: 10001, toPort: 10001, sourceGroupId: groupRef(GATEWAY_SG), description: 'users from the gateway' },
        { fromPort: 10002, toPort: 10002, sourceGroupId: groupRef(GATEWAY_SG), description: 'billing from the gateway' },
      ],
    ],
  ])('admits only the gateway, to %s', (_name, services, ingress) => {
    const environment = shopEnvironment();
    const resource = desiredNlbSecurityGroup({ environment, names: shopNames(environment), index: 0, services, gatewaySecurityGroupId: GATEWAY_SG, vpcId: NETWORK.vpcId });
    expect(envelopeOf(resource)).toEqual({
      id: 'security-group/shop-services-nlb',
      type: 'security-group',
      name: 'shop-services-nlb',
      owner: { kind: 'Environment', name: 'shop' },
      tags: shopTags('Environment/shop'),
      dependsOn: [GATEWAY_SG],
    });
    expect(resource.spec).toEqual({ groupName: 'shop-services-nlb', description: 'converge shop: internal NLB in front of the backend services', vpcId: NETWORK.vpcId, ingress });
  });
});

describe('desiredTaskSecurityGroup', () => {
  const rule = (port: number, source: string, description: string): SecurityGroupRule => ({ fromPort: port, toPort: port, sourceGroupId: groupRef(source), description });

  it.each<[string, Workload, SecurityGroupRule[], string[]]>([
    ['the Gateway from the backend ALB', makeGateway(), [rule(8080, 'security-group/shop-backend-alb', 'from the backend ALB')], ['security-group/shop-backend-alb']],
    ['the Frontend from the frontend ALB', makeFrontend(), [rule(3000, 'security-group/shop-frontend-alb', 'from the frontend ALB')], ['security-group/shop-frontend-alb']],
    [
      'a Service from the internal NLB, the gateway and the VPC (NLB health checks)',
      makeService('users', 10001, [], { labels: { team: 'identity' } }),
      [
        rule(8000, 'security-group/shop-services-nlb', 'from the internal NLB'),
        rule(8000, GATEWAY_SG, 'from the gateway'),
        { fromPort: 8000, toPort: 8000, cidr: NETWORK.vpcCidr, description: 'NLB health checks from the VPC' },
      ],
      ['security-group/shop-services-nlb', GATEWAY_SG],
    ],
  ])('admits %s on the container port', (_name, workload, ingress, dependsOn) => {
    const environment = shopEnvironment();
    const names = namesOf(workload);
    const resource = desiredTaskSecurityGroup({ environment, workload, names, environmentNames: shopNames(environment), network: NETWORK, gatewaySecurityGroupId: GATEWAY_SG });
    const groupName = `shop-${workload.name}-tasks`;
    expect(envelopeOf(resource)).toEqual({
      id: `security-group/${groupName}`,
      type: 'security-group',
      name: groupName,
      owner: { kind: workload.kind, name: workload.name },
      tags: shopTags(`${workload.kind}/${workload.name}`, workload.labels),
      dependsOn,
    });
    expect(resource.spec).toEqual({ groupName, description: `converge shop: ${workload.kind} ${workload.name} tasks`, vpcId: NETWORK.vpcId, ingress });
  });
});
