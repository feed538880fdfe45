import { describe, expect, it } from 'vitest';
import type { TargetGroupSpec } from '../../../desired-state/resources.js';
import { healthCheckViolations, parseMatcher, planTargetGroup } from '../../../reconcilers/target-group/index.js';
import { foreign, liveHealthCheck, liveTargetGroup, owned, planCtx } from './fixtures.js';

function spec(overrides: Partial<TargetGroupSpec> = {}, hc: Partial<TargetGroupSpec['healthCheck']> = {}): TargetGroupSpec {
  return {
    name: 'shop-users-a',
    protocol: 'TCP',
    port: 8000,
    vpcId: 'vpc-1',
    targetType: 'ip',
    loadBalancerType: 'network',
    healthCheck: { protocol: 'HTTP', path: '/docs', intervalSeconds: 300, timeoutSeconds: 3, healthyThreshold: 2, unhealthyThreshold: 3, matcher: '200-399', ...hc },
    ...overrides,
  };
}

describe('planTargetGroup', () => {
  it('creates a missing group', () => {
    const plan = planTargetGroup({ spec: spec() }, undefined, planCtx());
    expect(plan.changes).toEqual([expect.objectContaining({ action: 'create', payload: { kind: 'create' } })]);
  });

  it('is in sync, and gives arn and name', () => {
    const plan = planTargetGroup({ spec: spec() }, owned(liveTargetGroup()), planCtx());
    expect(plan).toEqual({ changes: [], drift: [], outputs: { arn: liveTargetGroup().arn, name: 'shop-users-a' } });
  });

  it.each([
    ['path', { path: '/' }, '/docs', '/'],
    ['intervalSeconds', { intervalSeconds: 30 }, 300, 30],
    ['timeoutSeconds', { timeoutSeconds: 10 }, 3, 10],
    ['healthyThreshold', { healthyThreshold: 5 }, 2, 5],
    ['unhealthyThreshold', { unhealthyThreshold: 2 }, 3, 2],
    ['matcher', { matcher: '200' }, '200-399', '200'],
  ] as const)('reports drift on healthCheck.%s and corrects it', (field, liveOverride, desired, live) => {
    const plan = planTargetGroup({ spec: spec() }, owned(liveTargetGroup({ healthCheck: liveHealthCheck(liveOverride) })), planCtx());
    expect(plan.drift).toEqual([{ field: `healthCheck.${field}`, desired, live }]);
    expect(plan.changes).toEqual([expect.objectContaining({ action: 'update', payload: { kind: 'health-check' } })]);
  });

  it('with selfHeal off, reports the drifted path and changes nothing', () => {
    const plan = planTargetGroup({ spec: spec() }, owned(liveTargetGroup({ healthCheck: liveHealthCheck({ path: '/hacked' }) })), planCtx({ selfHeal: false }));
    expect(plan.drift).toEqual([{ field: 'healthCheck.path', desired: '/docs', live: '/hacked' }]);
    expect(plan.changes).toEqual([]);
  });

  it('a new health check path in the desired state is an update, not drift', () => {
    const plan = planTargetGroup({ spec: spec({}, { path: '/ready' }) }, owned(liveTargetGroup(), 'hash-before'), planCtx({ selfHeal: false }));
    expect(plan.drift).toEqual([]);
    expect(plan.changes[0]?.diffs).toEqual([{ field: 'healthCheck.path', desired: '/ready', live: '/docs' }]);
  });

  it('conflicts with a same-named group converge does not own', () => {
    const plan = planTargetGroup({ spec: spec() }, foreign(liveTargetGroup()), planCtx());
    expect(plan.conflict).toMatch(/target group shop-users-a exists but lacks converge's ownership tags/);
    expect(plan.changes).toEqual([]);
  });

  it('fails when a field that cannot change in place differs', () => {
    const plan = planTargetGroup({ spec: spec() }, owned(liveTargetGroup({ port: 9000 })), planCtx());
    expect(plan.failed).toMatch(/port is 9000, the desired state says 8000; these cannot change in place/);
    expect(plan.changes).toEqual([]);
  });

  it('fails before any call when the spec asks for what the load balancer type does not allow', () => {
    const alb = planTargetGroup({ spec: spec({ protocol: 'HTTP', loadBalancerType: 'application' }, { matcher: '200-599' }) }, undefined, planCtx());
    expect(alb.failed).toBe(
      'target group shop-users-a (HTTP, behind the application load balancer): healthCheck.matcher "200-599" is not allowed for a target group behind an application load balancer: its HTTP codes must lie within 200-499',
    );
    expect(alb.changes).toEqual([]);
    const nlb = planTargetGroup({ spec: spec({}, { matcher: '200-599' }) }, undefined, planCtx());
    expect(nlb.failed).toBeUndefined();
  });
});

describe('healthCheckViolations', () => {
  it.each([
    [{ intervalSeconds: 4 }, 'healthCheck.intervalSeconds 4 is outside 5-300 seconds'],
    [{ timeoutSeconds: 121, intervalSeconds: 300 }, 'healthCheck.timeoutSeconds 121 is outside 2-120 seconds'],
    [{ healthyThreshold: 11 }, 'healthCheck.healthyThreshold 11 is outside 2-10'],
    [{ unhealthyThreshold: 1 }, 'healthCheck.unhealthyThreshold 1 is outside 2-10'],
    [{ timeoutSeconds: 30, intervalSeconds: 10 }, 'healthCheck.timeoutSeconds 30 must be at most healthCheck.intervalSeconds 10'],
    [{ path: 'health' }, 'healthCheck.path "health" must start with "/"'],
    [{ matcher: 'ok' }, 'healthCheck.matcher "ok" is not a list or range of HTTP codes'],
    [{ matcher: '199,200' }, 'its HTTP codes must lie within 200-599'],
  ])('%o', (hc, message) => {
    expect(healthCheckViolations(spec({}, hc)).join('; ')).toContain(message);
  });

  it('an ALB group needs a timeout strictly below the interval', () => {
    expect(healthCheckViolations(spec({ protocol: 'HTTP', loadBalancerType: 'application' }, { timeoutSeconds: 30, intervalSeconds: 30 }))).toEqual([
      'healthCheck.timeoutSeconds 30 must be smaller than healthCheck.intervalSeconds 30 for a target group behind an application load balancer',
    ]);
    expect(healthCheckViolations(spec({}, { timeoutSeconds: 30, intervalSeconds: 30 }))).toEqual([]);
  });

  it('parses lists and ranges of codes', () => {
    expect(parseMatcher('200, 302')).toEqual([
      { from: 200, to: 200 },
      { from: 302, to: 302 },
    ]);
    expect(parseMatcher('200-399')).toEqual([{ from: 200, to: 399 }]);
    expect(parseMatcher('399-200')).toBeUndefined();
  });
});
