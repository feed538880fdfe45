import { describe, expect, it } from 'vitest';
import type { TargetGroupSpec } from '../../../../desired-state/resources.js';
import { planTargetGroup } from '../../../../reconcilers/target-group/index.js';
import { liveHealthCheck, liveTargetGroup, owned } from '../elbv2-fixtures.js';

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
    const plan = planTargetGroup({ spec: spec() }, undefined);
    expect(plan.changes).toEqual([expect.objectContaining({ action: 'create', payload: { kind: 'create' }, summary: 'create the TCP target group shop-users-a' })]);
  });

  it('is in sync, and gives arn and name', () => {
    const plan = planTargetGroup({ spec: spec() }, owned(liveTargetGroup()));
    expect(plan).toEqual({ state: 'ready', changes: [], outputs: { arn: liveTargetGroup().arn, name: 'shop-users-a' } });
  });

  it('compares matchers without their spaces', () => {
    expect(planTargetGroup({ spec: spec({}, { matcher: '200, 302' }) }, owned(liveTargetGroup({ healthCheck: liveHealthCheck({ matcher: '200,302' }) }))).changes).toEqual([]);
  });

  it.each([
    ['path', { path: '/' }, '/docs', '/'],
    ['intervalSeconds', { intervalSeconds: 30 }, 300, 30],
    ['timeoutSeconds', { timeoutSeconds: 10 }, 3, 10],
    ['healthyThreshold', { healthyThreshold: 5 }, 2, 5],
    ['unhealthyThreshold', { unhealthyThreshold: 2 }, 3, 2],
    ['matcher', { matcher: '200' }, '200-399', '200'],
  ] as const)('a different healthCheck.%s is one health check update', (field, liveOverride, desired, live) => {
    const plan = planTargetGroup({ spec: spec() }, owned(liveTargetGroup({ healthCheck: liveHealthCheck(liveOverride) })));
    expect(plan.changes).toEqual([expect.objectContaining({ action: 'update', diffs: [{ field: `healthCheck.${field}`, desired, live }], payload: { kind: 'health-check' } })]);
    expect(plan.outputs).toEqual({ arn: liveTargetGroup().arn, name: 'shop-users-a' });
  });

  it('plans the same whatever spec hash the group records (drift or intended is the engine\'s call)', () => {
    const live = liveTargetGroup();
    const today = planTargetGroup({ spec: spec({}, { path: '/ready' }) }, owned(live));
    expect(planTargetGroup({ spec: spec({}, { path: '/ready' }) }, owned(live, 'hash-before'))).toEqual(today);
    expect(today.changes[0]?.diffs).toEqual([{ field: 'healthCheck.path', desired: '/ready', live: '/docs' }]);
  });

  it('fails when a field that cannot change in place differs', () => {
    const plan = planTargetGroup({ spec: spec() }, owned(liveTargetGroup({ port: 9000 })));
    expect(plan.state === 'failed' && plan.message).toMatch(/port is 9000, the desired state says 8000; these cannot change in place/);
    expect(plan.changes).toEqual([]);
    expect(plan.outputs).toEqual({ arn: liveTargetGroup().arn, name: 'shop-users-a' });
  });
});
