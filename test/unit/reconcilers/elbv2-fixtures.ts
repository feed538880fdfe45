import type { LiveHealthCheck, LiveListener, LiveLoadBalancer, LiveTargetGroup } from '../../../src/aws/elbv2.js';
import { OWNERSHIP_TAG_ENVIRONMENT, SPEC_HASH_TAG } from '../../../desired-state/graph.js';
import type { Observation, PlanContext } from '../../../src/engine/types.js';

export const ENV = 'shop';
export const HASH = 'hash-now';

export const planCtx = (overrides: Partial<PlanContext> = {}): PlanContext => ({ desiredHash: HASH, intended: false, selfHeal: true, mode: 'apply', ...overrides });

/** Owned by this environment, recording today's spec hash unless told otherwise (undefined: none recorded). */
export function owned<L>(live: L, specHash: string | undefined = HASH): Observation<L> {
  return { live, tags: { [OWNERSHIP_TAG_ENVIRONMENT]: ENV, ...(specHash === undefined ? {} : { [SPEC_HASH_TAG]: specHash }) } };
}

export const tgArn = (name: string): string => `arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/${name}/0123456789abcdef`;
export const lbArn = (name: string, type: 'app' | 'net' = 'app'): string => `arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/${type}/${name}/50dc6c495c0c9188`;

export function liveLoadBalancer(overrides: Partial<LiveLoadBalancer> = {}): LiveLoadBalancer {
  return {
    arn: lbArn('shop-backend'),
    name: 'shop-backend',
    type: 'application',
    scheme: 'internet-facing',
    dnsName: 'shop-backend-1.us-east-1.elb.amazonaws.com',
    canonicalHostedZoneId: 'Z35SXDOTRQ7X7K',
    state: 'active',
    subnets: ['subnet-b', 'subnet-a'],
    subnetZones: { 'subnet-a': 'us-east-1a', 'subnet-b': 'us-east-1b' },
    securityGroups: ['sg-alb'],
    ...overrides,
  };
}

export function liveHealthCheck(overrides: Partial<LiveHealthCheck> = {}): LiveHealthCheck {
  return { protocol: 'HTTP', port: 'traffic-port', path: '/docs', intervalSeconds: 300, timeoutSeconds: 3, healthyThreshold: 2, unhealthyThreshold: 3, matcher: '200-399', ...overrides };
}

export function liveTargetGroup(overrides: Partial<LiveTargetGroup> = {}): LiveTargetGroup {
  return { arn: tgArn('shop-users-a'), name: 'shop-users-a', protocol: 'TCP', port: 8000, vpcId: 'vpc-1', targetType: 'ip', healthCheck: liveHealthCheck(), loadBalancerArns: [], ...overrides };
}

export function liveListener(overrides: Partial<LiveListener> = {}): LiveListener {
  return {
    arn: `${lbArn('shop-services', 'net').replace(':loadbalancer/', ':listener/')}/aaaa`,
    loadBalancerArn: lbArn('shop-services', 'net'),
    port: 10001,
    protocol: 'TCP',
    certificateArns: [],
    defaultActions: [{ type: 'forward', targetGroups: [{ arn: tgArn('shop-users-a'), weight: 1 }] }],
    ...overrides,
  };
}
