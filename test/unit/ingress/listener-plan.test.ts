import { describe, expect, it } from 'vitest';
import type { ListenerSpec } from '../../../desired-state/resources.js';
import { HTTPS_SSL_POLICY } from '../../../desired-state/expand.js';
import { desiredDefaultActions, planListener, REDIRECT_TO_HTTPS } from '../../../reconcilers/listener/index.js';
import type { ListenerActionShape } from '../../../src/aws/elbv2.js';
import { foreign, lbArn, liveListener, owned, planCtx, tgArn } from './fixtures.js';

const BLUE = tgArn('shop-users-a');
const GREEN = tgArn('shop-users-b');
const FOREIGN = tgArn('someone-else');
const CERT = 'arn:aws:acm:us-east-1:123456789012:certificate/api';
const OTHER_CERT = 'arn:aws:acm:us-east-1:123456789012:certificate/other';

const forward = (...groups: [string, number][]): ListenerActionShape => ({ type: 'forward', targetGroups: groups.map(([arn, weight]) => ({ arn, weight })) });

const nlbListener = (blueGreen = true): { name: string; spec: ListenerSpec } => ({
  name: 'shop-services:10001',
  spec: { loadBalancerArn: lbArn('shop-services', 'net'), port: 10001, protocol: 'TCP', defaultAction: { type: 'forward', targetGroupArns: blueGreen ? [BLUE, GREEN] : [BLUE], blueGreen } },
});

const httpsListener = (): { name: string; spec: ListenerSpec } => ({
  name: 'shop-backend:443',
  spec: {
    loadBalancerArn: lbArn('shop-backend'),
    port: 443,
    protocol: 'HTTPS',
    certificateArn: CERT,
    sslPolicy: HTTPS_SSL_POLICY,
    defaultAction: { type: 'forward', targetGroupArns: [tgArn('shop-gateway-a'), tgArn('shop-gateway-b')], blueGreen: true },
  },
});

const liveHttps = (overrides: Parameters<typeof liveListener>[0] = {}) =>
  liveListener({ port: 443, protocol: 'HTTPS', sslPolicy: HTTPS_SSL_POLICY, certificateArns: [CERT], defaultActions: [forward([tgArn('shop-gateway-a'), 1])], ...overrides });

const redirectListener = (): { name: string; spec: ListenerSpec } => ({
  name: 'shop-backend:80',
  spec: { loadBalancerArn: lbArn('shop-backend'), port: 80, protocol: 'HTTP', defaultAction: { type: 'redirect-https' } },
});

describe('planListener', () => {
  it('creates a new blue/green listener forwarding to the first group of the pair', () => {
    const plan = planListener(nlbListener(), undefined, planCtx());
    expect(plan.changes).toHaveLength(1);
    expect(plan.changes[0]?.payload).toEqual({ kind: 'create', listener: { port: 10001, protocol: 'TCP', sslPolicy: undefined, certificateArn: undefined, defaultActions: [forward([BLUE, 1])] } });
  });

  it('creates the port 80 listener as a permanent redirect to HTTPS 443', () => {
    const plan = planListener(redirectListener(), undefined, planCtx());
    expect(plan.changes[0]?.payload).toMatchObject({ listener: { port: 80, protocol: 'HTTP', defaultActions: [{ type: 'redirect', protocol: 'HTTPS', port: '443', statusCode: 'HTTP_301' }] } });
  });

  it.each([
    ['the first group alone', [forward([BLUE, 1])]],
    ['the second group alone', [forward([GREEN, 1])]],
    ['the weighted pair CodeDeploy leaves (green 100, blue 0)', [forward([BLUE, 0], [GREEN, 100])]],
    ['the weighted pair mid-shift', [forward([BLUE, 50], [GREEN, 50])]],
  ])('a blue/green listener forwarding to %s is in sync', (_, actions) => {
    const plan = planListener(nlbListener(), owned(liveListener({ defaultActions: actions })), planCtx());
    expect(plan.drift).toEqual([]);
    expect(plan.changes).toEqual([]);
  });

  it('forwarding to a group outside the pair is drift, corrected to the first group', () => {
    const plan = planListener(nlbListener(), owned(liveListener({ defaultActions: [forward([FOREIGN, 1])] })), planCtx());
    expect(plan.drift).toEqual([{ field: 'defaultAction', desired: 'forward shop-users-a', live: 'forward someone-else' }]);
    expect(plan.changes[0]?.payload).toEqual({ kind: 'update', fields: ['defaultAction'], listener: { defaultActions: [forward([BLUE, 1])] } });
  });

  it('a foreign group weighted beside the pair is drift, corrected to the pair group that carries traffic', () => {
    const plan = planListener(nlbListener(), owned(liveListener({ defaultActions: [forward([FOREIGN, 20], [GREEN, 80], [BLUE, 0])] })), planCtx());
    expect(plan.drift.map((d) => d.field)).toEqual(['defaultAction']);
    expect(plan.changes[0]?.payload).toMatchObject({ listener: { defaultActions: [forward([GREEN, 1])] } });
  });

  it('a rolling service forwards to its one group: the second group is drift there', () => {
    expect(planListener(nlbListener(false), owned(liveListener()), planCtx()).changes).toEqual([]);
    const plan = planListener(nlbListener(false), owned(liveListener({ defaultActions: [forward([GREEN, 1])] })), planCtx());
    expect(plan.drift).toEqual([{ field: 'defaultAction', desired: 'forward shop-users-a', live: 'forward shop-users-b' }]);
  });

  it('the redirect is in sync as AWS describes it, and a changed redirect is drift', () => {
    expect(planListener(redirectListener(), owned(liveListener({ port: 80, protocol: 'HTTP', defaultActions: [REDIRECT_TO_HTTPS] })), planCtx()).changes).toEqual([]);
    const plan = planListener(redirectListener(), owned(liveListener({ port: 80, protocol: 'HTTP', defaultActions: [forward([FOREIGN, 1])] })), planCtx());
    expect(plan.drift).toEqual([{ field: 'defaultAction', desired: 'redirect HTTPS:443 HTTP_301', live: 'forward someone-else' }]);
    const temporary = planListener(redirectListener(), owned(liveListener({ port: 80, protocol: 'HTTP', defaultActions: [{ type: 'redirect', protocol: 'HTTPS', port: '443', host: '#{host}', path: '/#{path}', query: '#{query}', statusCode: 'HTTP_302' }] })), planCtx());
    expect(temporary.drift.map((d) => d.live)).toEqual(['redirect HTTPS:443 HTTP_302']);
  });

  it('the HTTPS listener is in sync with its certificate and policy', () => {
    expect(planListener(httpsListener(), owned(liveHttps()), planCtx())).toEqual({ changes: [], drift: [], outputs: { arn: liveHttps().arn, activeTargetGroupArn: tgArn('shop-gateway-a') } });
  });

  it('drift on certificate and policy is corrected in one ModifyListener', () => {
    const plan = planListener(httpsListener(), owned(liveHttps({ certificateArns: [OTHER_CERT], sslPolicy: 'ELBSecurityPolicy-2016-08' })), planCtx());
    expect(plan.drift).toEqual([
      { field: 'certificate', desired: CERT, live: OTHER_CERT },
      { field: 'sslPolicy', desired: HTTPS_SSL_POLICY, live: 'ELBSecurityPolicy-2016-08' },
    ]);
    expect(plan.changes[0]?.payload).toEqual({ kind: 'update', fields: ['certificate', 'sslPolicy'], listener: { certificateArn: CERT, sslPolicy: HTTPS_SSL_POLICY } });
  });

  it('drift on the port of a listener found through its tag', () => {
    const plan = planListener(nlbListener(), owned(liveListener({ port: 10009 })), planCtx());
    expect(plan.drift).toEqual([{ field: 'port', desired: 10001, live: 10009 }]);
    expect(plan.changes[0]?.payload).toMatchObject({ listener: { port: 10001 } });
  });

  it('with selfHeal off, drift is reported and nothing changes', () => {
    const plan = planListener(nlbListener(), owned(liveListener({ defaultActions: [forward([FOREIGN, 1])] })), planCtx({ selfHeal: false }));
    expect(plan.drift).toHaveLength(1);
    expect(plan.changes).toEqual([]);
  });

  it('conflicts with a listener on the port that converge does not own', () => {
    const plan = planListener(nlbListener(), foreign(liveListener()), planCtx());
    expect(plan.conflict).toMatch(/listener shop-services:10001 \(TCP:10001\) exists but lacks converge's ownership tags/);
  });
});

describe('desiredDefaultActions', () => {
  it('keeps a live in-pair forward exactly as it is', () => {
    const live = [forward([BLUE, 0], [GREEN, 100])];
    expect(desiredDefaultActions({ type: 'forward', targetGroupArns: [BLUE, GREEN], blueGreen: true }, live)).toEqual({ actions: live, inSync: true });
  });

  it('two actions (an extra authenticate step) are not a plain forward: drift', () => {
    const live: ListenerActionShape[] = [{ type: 'other', description: 'authenticate-oidc' }, forward([BLUE, 1])];
    expect(desiredDefaultActions({ type: 'forward', targetGroupArns: [BLUE, GREEN], blueGreen: true }, live).inSync).toBe(false);
  });
});

describe('a rolling workload\'s listener follows its ECS service within the pair', () => {
  const rolling: ListenerSpec['defaultAction'] = { type: 'forward', targetGroupArns: [BLUE, GREEN], blueGreen: false, followService: { clusterName: 'shop', serviceName: 'shop-users' } };
  const spec = (): { name: string; spec: ListenerSpec } => ({ name: 'shop-services:10001', spec: { loadBalancerArn: lbArn('shop-services', 'net'), port: 10001, protocol: 'TCP', defaultAction: rolling } });

  it('keeps traffic on the second group when the service sits there (after blue/green deployments)', () => {
    const plan = planListener(spec(), owned({ ...liveListener({ defaultActions: [forward([GREEN, 100], [BLUE, 0])] }), serviceTargetGroupArn: GREEN }), planCtx());
    expect(plan).toMatchObject({ changes: [], drift: [], outputs: { activeTargetGroupArn: GREEN } });
  });

  it('sends traffic back to where the service\'s tasks are when somebody moved it', () => {
    const plan = planListener(spec(), owned({ ...liveListener({ defaultActions: [forward([GREEN, 1])] }), serviceTargetGroupArn: BLUE }), planCtx());
    expect(plan.drift).toEqual([{ field: 'defaultAction', desired: 'forward shop-users-a', live: 'forward shop-users-b' }]);
    expect(plan.outputs).toMatchObject({ activeTargetGroupArn: BLUE });
  });

  it('starts on the first group when there is no service yet', () => {
    expect(desiredDefaultActions(rolling, undefined)).toEqual({ actions: [forward([BLUE, 1])], inSync: false });
    expect(desiredDefaultActions(rolling, [forward([FOREIGN, 1])], GREEN).actions).toEqual([forward([GREEN, 1])]);
  });
});
