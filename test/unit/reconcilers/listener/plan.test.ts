import { describe, expect, it } from 'vitest';
import type { ListenerSpec } from '../../../../desired-state/resources.js';
import { HTTPS_SSL_POLICY } from '../../../../desired-state/expand.js';
import { desiredDefaultActions, planListener, REDIRECT_TO_HTTPS } from '../../../../reconcilers/listener/index.js';
import type { ListenerActionShape } from '../../../../src/aws/elbv2.js';
import { lbArn, liveListener, owned, tgArn } from '../elbv2-fixtures.js';

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
    const plan = planListener(nlbListener(), undefined);
    expect(plan.changes).toHaveLength(1);
    expect(plan.changes[0]?.payload).toEqual({ kind: 'create', listener: { port: 10001, protocol: 'TCP', sslPolicy: undefined, certificateArn: undefined, defaultActions: [forward([BLUE, 1])] } });
  });

  it('creates the port 80 listener as a permanent redirect to HTTPS 443', () => {
    const plan = planListener(redirectListener(), undefined);
    expect(plan.changes[0]?.payload).toMatchObject({ listener: { port: 80, protocol: 'HTTP', defaultActions: [{ type: 'redirect', protocol: 'HTTPS', port: '443', statusCode: 'HTTP_301' }] } });
  });

  it.each([
    ['the first group alone', [forward([BLUE, 1])]],
    ['the second group alone', [forward([GREEN, 1])]],
    ['the weighted pair CodeDeploy leaves (green 100, blue 0)', [forward([BLUE, 0], [GREEN, 100])]],
    ['the weighted pair mid-shift', [forward([BLUE, 50], [GREEN, 50])]],
  ])('a blue/green listener forwarding to %s is in sync', (_, actions) => {
    const plan = planListener(nlbListener(), owned(liveListener({ defaultActions: actions })));
    expect(plan.changes).toEqual([]);
    expect(plan.differences).toBeUndefined();
  });

  it('forwarding to a group outside the pair is corrected to the first group', () => {
    const plan = planListener(nlbListener(), owned(liveListener({ defaultActions: [forward([FOREIGN, 1])] })));
    expect(plan.changes).toHaveLength(1);
    expect(plan.changes[0]?.action).toBe('update');
    expect(plan.changes[0]?.diffs).toEqual([{ field: 'defaultAction', desired: 'forward shop-users-a', live: 'forward someone-else' }]);
    expect(plan.changes[0]?.payload).toEqual({ kind: 'update', fields: ['defaultAction'], listener: { defaultActions: [forward([BLUE, 1])] } });
  });

  it('a foreign group weighted beside the pair is corrected to the pair group that carries traffic', () => {
    const plan = planListener(nlbListener(), owned(liveListener({ defaultActions: [forward([FOREIGN, 20], [GREEN, 80], [BLUE, 0])] })));
    expect(plan.changes[0]?.diffs.map((d) => d.field)).toEqual(['defaultAction']);
    expect(plan.changes[0]?.payload).toMatchObject({ listener: { defaultActions: [forward([GREEN, 1])] } });
  });

  it('a rolling service forwards to its one group: the second group is corrected there', () => {
    expect(planListener(nlbListener(false), owned(liveListener())).changes).toEqual([]);
    const plan = planListener(nlbListener(false), owned(liveListener({ defaultActions: [forward([GREEN, 1])] })));
    expect(plan.changes[0]?.diffs).toEqual([{ field: 'defaultAction', desired: 'forward shop-users-a', live: 'forward shop-users-b' }]);
  });

  it('the redirect is in sync as AWS describes it, and a changed redirect is corrected', () => {
    expect(planListener(redirectListener(), owned(liveListener({ port: 80, protocol: 'HTTP', defaultActions: [REDIRECT_TO_HTTPS] }))).changes).toEqual([]);
    const plan = planListener(redirectListener(), owned(liveListener({ port: 80, protocol: 'HTTP', defaultActions: [forward([FOREIGN, 1])] })));
    expect(plan.changes[0]?.diffs).toEqual([{ field: 'defaultAction', desired: 'redirect HTTPS:443 HTTP_301', live: 'forward someone-else' }]);
    expect(plan.changes[0]?.payload).toEqual({ kind: 'update', fields: ['defaultAction'], listener: { defaultActions: [REDIRECT_TO_HTTPS] } });
    const temporary = planListener(redirectListener(), owned(liveListener({ port: 80, protocol: 'HTTP', defaultActions: [{ type: 'redirect', protocol: 'HTTPS', port: '443', host: '#{host}', path: '/#{path}', query: '#{query}', statusCode: 'HTTP_302' }] })));
    expect(temporary.changes.flatMap((c) => c.diffs).map((d) => d.live)).toEqual(['redirect HTTPS:443 HTTP_302']);
  });

  it('the HTTPS listener is in sync with its certificate and policy', () => {
    expect(planListener(httpsListener(), owned(liveHttps()))).toEqual({ state: 'ready', changes: [], outputs: { arn: liveHttps().arn, activeTargetGroupArn: tgArn('shop-gateway-a') } });
  });

  it('a changed certificate and policy are corrected in one ModifyListener', () => {
    const plan = planListener(httpsListener(), owned(liveHttps({ certificateArns: [OTHER_CERT], sslPolicy: 'ELBSecurityPolicy-2016-08' })));
    expect(plan.changes).toHaveLength(1);
    expect(plan.changes[0]?.diffs).toEqual([
      { field: 'certificate', desired: CERT, live: OTHER_CERT },
      { field: 'sslPolicy', desired: HTTPS_SSL_POLICY, live: 'ELBSecurityPolicy-2016-08' },
    ]);
    expect(plan.changes[0]?.payload).toEqual({ kind: 'update', fields: ['certificate', 'sslPolicy'], listener: { certificateArn: CERT, sslPolicy: HTTPS_SSL_POLICY } });
  });

  it('moves a listener found through its tag back to its port', () => {
    const plan = planListener(nlbListener(), owned(liveListener({ port: 10009 })));
    expect(plan.changes[0]?.diffs).toEqual([{ field: 'port', desired: 10001, live: 10009 }]);
    expect(plan.changes[0]?.payload).toMatchObject({ listener: { port: 10001 } });
  });

  it('plans the same whatever spec hash the listener records (drift or intended is the engine\'s call)', () => {
    const live = liveListener({ defaultActions: [forward([FOREIGN, 1])] });
    const today = planListener(nlbListener(), owned(live));
    expect(planListener(nlbListener(), owned(live, 'hash-before'))).toEqual(today);
    expect(today.changes.map((c) => c.action)).toEqual(['update']);
  });

  it('a protocol change to HTTPS carries the certificate and policy in the same call', () => {
    const plan = planListener(httpsListener(), owned(liveListener({ port: 443, protocol: 'HTTP', defaultActions: [forward([tgArn('shop-gateway-a'), 1])] })));
    expect(plan.changes[0]?.payload).toEqual({ kind: 'update', fields: ['protocol', 'certificate', 'sslPolicy'], listener: { protocol: 'HTTPS', certificateArn: CERT, sslPolicy: HTTPS_SSL_POLICY } });
  });

  it('fails an HTTPS listener without a certificate, before any call', () => {
    const plan = planListener({ ...httpsListener(), spec: { ...httpsListener().spec, certificateArn: undefined } }, undefined);
    expect(plan).toMatchObject({ state: 'failed', message: 'listener shop-backend:443: an HTTPS listener needs a certificate and an SSL policy', changes: [] });
  });
});

describe('desiredDefaultActions', () => {
  it('keeps a live in-pair forward exactly as it is', () => {
    const live = [forward([BLUE, 0], [GREEN, 100])];
    expect(desiredDefaultActions({ type: 'forward', targetGroupArns: [BLUE, GREEN], blueGreen: true }, live)).toEqual({ actions: live, inSync: true });
  });

  it('two actions (an extra authenticate step) are not a plain forward: not in sync', () => {
    const live: ListenerActionShape[] = [{ type: 'other', description: 'authenticate-oidc' }, forward([BLUE, 1])];
    expect(desiredDefaultActions({ type: 'forward', targetGroupArns: [BLUE, GREEN], blueGreen: true }, live).inSync).toBe(false);
  });
});

describe('a rolling workload\'s listener follows its ECS service within the pair', () => {
  const rolling: ListenerSpec['defaultAction'] = { type: 'forward', targetGroupArns: [BLUE, GREEN], blueGreen: false, followService: { clusterName: 'shop', serviceName: 'shop-users' } };
  const spec = (): { name: string; spec: ListenerSpec } => ({ name: 'shop-services:10001', spec: { loadBalancerArn: lbArn('shop-services', 'net'), port: 10001, protocol: 'TCP', defaultAction: rolling } });

  it('keeps traffic on the second group when the service sits there (after blue/green deployments)', () => {
    const plan = planListener(spec(), owned({ ...liveListener({ defaultActions: [forward([GREEN, 100], [BLUE, 0])] }), serviceTargetGroupArn: GREEN }));
    expect(plan).toMatchObject({ state: 'ready', changes: [], outputs: { activeTargetGroupArn: GREEN } });
  });

  it('sends traffic back to where the service\'s tasks are when somebody moved it', () => {
    const plan = planListener(spec(), owned({ ...liveListener({ defaultActions: [forward([GREEN, 1])] }), serviceTargetGroupArn: BLUE }));
    expect(plan.changes[0]?.diffs).toEqual([{ field: 'defaultAction', desired: 'forward shop-users-a', live: 'forward shop-users-b' }]);
    expect(plan.outputs).toMatchObject({ activeTargetGroupArn: BLUE });
  });

  it('starts on the first group when there is no service yet', () => {
    expect(desiredDefaultActions(rolling, undefined)).toEqual({ actions: [forward([BLUE, 1])], inSync: false });
    expect(desiredDefaultActions(rolling, [forward([FOREIGN, 1])], GREEN).actions).toEqual([forward([GREEN, 1])]);
  });
});
