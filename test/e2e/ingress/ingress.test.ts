import { ACMClient, DescribeCertificateCommand, ListCertificatesCommand } from '@aws-sdk/client-acm';
import { AuthorizeSecurityGroupIngressCommand, DescribeSecurityGroupsCommand, EC2Client, type SecurityGroup } from '@aws-sdk/client-ec2';
import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
  ModifyTargetGroupCommand,
  type Listener,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { seedEnvironment, type SeedResult } from '../../../scripts/seed.js';
import { Controller, type CycleSummary } from '../../../src/controller.js';
import { captureLogs, type LogEvent } from '../../support/log-capture.js';
import { useMoto } from '../../support/moto.js';

const EXAMPLE = fileURLToPath(new URL('../../../desired-state/examples/shop/', import.meta.url));
const ACM_WAIT_SECONDS = 3;
const POLICY = 'ELBSecurityPolicy-TLS13-1-2-2021-06';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The ingress of the example environment on one emulator: two ALBs, the internal NLB, target
 * groups, listeners, ACM certificates and Route 53 records, with the security boundary read back
 * from AWS. moto issues a requested certificate MOTO_ACM_VALIDATION_WAIT seconds after the request.
 */
describe('ingress of the example environment (moto)', () => {
  const moto = useMoto({ setProcessEnv: true, env: { MOTO_ACM_VALIDATION_WAIT: String(ACM_WAIT_SECONDS) } });
  let seed: SeedResult;
  const logs = captureLogs();
  let controller: Controller;
  let elbv2: ElasticLoadBalancingV2Client;
  let ec2: EC2Client;

  beforeAll(async () => {
    seed = await seedEnvironment({ endpoint: moto.endpoint, documentsDir: EXAMPLE });
    controller = new Controller({ source: seed.source, log: logs.log });
    elbv2 = new ElasticLoadBalancingV2Client(moto.clientConfig);
    ec2 = new EC2Client(moto.clientConfig);
  });

  const cycle = async (mode: 'plan' | 'apply', using: Controller = controller): Promise<{ summary: CycleSummary; events: LogEvent[] }> => {
    const from = logs.events.length;
    const summary = await using.runCycle({ mode, trigger: 'manual' });
    return { summary, events: logs.events.slice(from) };
  };
  const stateOf = (summary: CycleSummary, id: string) => summary.resources.find((r) => r.id === id);
  // Other resource types (CodeDeploy) are other tests' business: this file judges the ingress and what it wires.
  const INGRESS_TYPES = new Set(['security-group', 'load-balancer', 'target-group', 'certificate', 'dns-record', 'listener', 'ecs-service']);
  const ingressFailures = (summary: CycleSummary) => summary.resources.filter((r) => INGRESS_TYPES.has(r.type) && (r.state === 'Failed' || r.state === 'Conflict'));
  const expectNoIngressFailure = (summary: CycleSummary): void => expect(ingressFailures(summary), JSON.stringify(ingressFailures(summary), null, 2)).toEqual([]);

  const loadBalancer = async (name: string) => (await elbv2.send(new DescribeLoadBalancersCommand({ Names: [name] }))).LoadBalancers?.[0];
  const listeners = async (lbName: string): Promise<Listener[]> => {
    const lb = await loadBalancer(lbName);
    return (await elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lb?.LoadBalancerArn }))).Listeners ?? [];
  };
  const targetGroupArn = async (name: string): Promise<string> => (await elbv2.send(new DescribeTargetGroupsCommand({ Names: [name] }))).TargetGroups?.[0]?.TargetGroupArn ?? '';
  const securityGroup = async (name: string): Promise<SecurityGroup> => {
    const res = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: [name] }, { Name: 'vpc-id', Values: [seed.vpcId] }] }));
    const group = res.SecurityGroups?.[0];
    if (!group) throw new Error(`no security group ${name}`);
    return group;
  };
  const forwardedTo = (listener: Listener | undefined): string[] =>
    (listener?.DefaultActions ?? []).flatMap((a) => (a.ForwardConfig?.TargetGroups?.length ? a.ForwardConfig.TargetGroups.map((t) => t.TargetGroupArn ?? '') : a.TargetGroupArn ? [a.TargetGroupArn] : []));

  it('first apply: everything but HTTPS; the certificates are Progressing and the HTTPS listeners wait for them', async () => {
    const { summary } = await cycle('apply');
    expectNoIngressFailure(summary);
    for (const domain of ['api.example.com', 'www.example.com']) {
      const certificate = stateOf(summary, `certificate/${domain}`);
      expect(certificate?.state).toBe('Progressing');
      expect(certificate?.message?.startsWith(`waiting for ACM to issue the certificate for ${domain}`)).toBe(true);
    }
    expect(stateOf(summary, 'listener/shop-backend:443')).toMatchObject({ state: 'Progressing', message: 'waiting for certificate/api.example.com' });
    expect(stateOf(summary, 'listener/shop-frontend:443')).toMatchObject({ state: 'Progressing', message: 'waiting for certificate/www.example.com' });
    expect((await listeners('shop-backend')).map((l) => l.Port)).toEqual([80]);
    expect(await loadBalancer('shop-services')).toMatchObject({ Type: 'network', Scheme: 'internal' });
  });

  it('once ACM issues the certificates, the next apply validates them and adds the HTTPS listeners; then a cycle writes nothing', async () => {
    await sleep(ACM_WAIT_SECONDS * 1000 + 500);
    const { summary } = await cycle('apply');
    expectNoIngressFailure(summary);
    expect(stateOf(summary, 'certificate/api.example.com')?.state).toBe('InSync');
    expect(stateOf(summary, 'listener/shop-backend:443')?.changes).toEqual([expect.objectContaining({ action: 'create', applied: true })]);

    const steady = await cycle('apply');
    expect(steady.summary.awsWrites, JSON.stringify(steady.summary.callsByOperation)).toBe(0);
    const calls = steady.summary.callsByOperation;
    // What the ingress reconcilers read in a steady cycle: no tags, no ACM call; the NLB's cross-zone attribute.
    expect(Object.fromEntries(Object.entries(calls).filter(([op]) => /^(ELBv2|ACM|Route53):/.test(op)))).toEqual({
      'ELBv2:DescribeLoadBalancers': 1,
      'ELBv2:DescribeLoadBalancerAttributes': 1,
      'ELBv2:DescribeTargetGroups': 1,
      'ELBv2:DescribeListeners': 3,
      'Route53:ListResourceRecordSets': 1,
    });
  });

  it('the ingress is what the contract draws: two internet-facing ALBs, one internal NLB, redirects, HTTPS, one NLB listener per service', async () => {
    const all = (await elbv2.send(new DescribeLoadBalancersCommand({}))).LoadBalancers ?? [];
    expect(all.map((lb) => `${lb.LoadBalancerName} ${lb.Type} ${lb.Scheme}`).sort()).toEqual([
      'shop-backend application internet-facing',
      'shop-frontend application internet-facing',
      'shop-services network internal',
    ]);
    const publicSubnets = new Set(seed.publicSubnetIds);
    for (const name of ['shop-backend', 'shop-frontend']) {
      const lb = all.find((l) => l.LoadBalancerName === name);
      expect(lb?.AvailabilityZones?.every((z) => publicSubnets.has(z.SubnetId ?? ''))).toBe(true);
      expect(lb?.SecurityGroups).toEqual([(await securityGroup(`${name}-alb`)).GroupId]);
    }
    expect(all.find((l) => l.LoadBalancerName === 'shop-services')?.SecurityGroups).toEqual([(await securityGroup('shop-services-nlb')).GroupId]);

    const acm = new ACMClient(moto.clientConfig);
    const certificates = (await acm.send(new ListCertificatesCommand({}))).CertificateSummaryList ?? [];
    for (const [lbName, domain, target] of [
      ['shop-backend', 'api.example.com', 'shop-gateway-a'],
      ['shop-frontend', 'www.example.com', 'shop-web-a'],
    ] as const) {
      const byPort = new Map((await listeners(lbName)).map((l) => [l.Port, l]));
      expect([...byPort.keys()].sort()).toEqual([443, 80]);
      expect(byPort.get(80)?.Protocol).toBe('HTTP');
      expect(byPort.get(80)?.DefaultActions?.map((a) => [a.Type, a.RedirectConfig?.Protocol, a.RedirectConfig?.Port, a.RedirectConfig?.StatusCode])).toEqual([['redirect', 'HTTPS', '443', 'HTTP_301']]);
      const https = byPort.get(443);
      const certificateArn = certificates.find((c) => c.DomainName === domain)?.CertificateArn;
      expect(https).toMatchObject({ Protocol: 'HTTPS', SslPolicy: POLICY, Certificates: [expect.objectContaining({ CertificateArn: certificateArn })] });
      const cert = await acm.send(new DescribeCertificateCommand({ CertificateArn: certificateArn }));
      expect(cert.Certificate?.Status).toBe('ISSUED');
      expect(forwardedTo(https)).toEqual([await targetGroupArn(target)]);
    }

    const nlbListeners = await listeners('shop-services');
    expect(nlbListeners.map((l) => `${l.Protocol}:${l.Port}`).sort()).toEqual(['TCP:10001', 'TCP:10002', 'TCP:10003']);
    for (const [port, service] of [
      [10001, 'users'],
      [10002, 'billing'],
      [10003, 'orders'],
    ] as const) {
      expect(forwardedTo(nlbListeners.find((l) => l.Port === port))).toEqual([await targetGroupArn(`shop-${service}-a`)]);
    }
    const groups = (await elbv2.send(new DescribeTargetGroupsCommand({ Names: ['shop-users-a', 'shop-users-b', 'shop-gateway-a'] }))).TargetGroups ?? [];
    expect(groups.find((g) => g.TargetGroupName === 'shop-users-b')).toMatchObject({ Protocol: 'TCP', Port: 8000, TargetType: 'ip', VpcId: seed.vpcId, HealthCheckProtocol: 'HTTP', HealthCheckPath: '/docs' });
    expect(groups.find((g) => g.TargetGroupName === 'shop-gateway-a')).toMatchObject({ Protocol: 'HTTP', Port: 8080, HealthCheckPath: '/__health', Matcher: { HttpCode: '200-399' } });
  });

  it('the DNS: alias records for both domains and the validation CNAMEs, each with its owner TXT record', async () => {
    const route53 = new Route53Client(moto.clientConfig);
    const records = (await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: seed.hostedZoneId }))).ResourceRecordSets ?? [];
    const find = (name: string, type: string) => records.find((r) => r.Name?.replace(/\.$/, '') === name && r.Type === type);
    for (const [domain, lbName] of [
      ['api.example.com', 'shop-backend'],
      ['www.example.com', 'shop-frontend'],
    ] as const) {
      const lb = await loadBalancer(lbName);
      expect(find(domain, 'A')?.AliasTarget).toMatchObject({ HostedZoneId: lb?.CanonicalHostedZoneId, EvaluateTargetHealth: true });
      expect(find(domain, 'A')?.AliasTarget?.DNSName?.replace(/\.$/, '').toLowerCase()).toBe(lb?.DNSName?.toLowerCase());
      expect(find(`_converge-owner.${domain}`, 'TXT')?.ResourceRecords?.[0]?.Value).toMatch(/^"heritage=converge,converge\/environment=shop,converge\/resource=Environment\/shop,converge\/spec-hash=\w+"$/);
      const validation = records.find((r) => r.Type === 'CNAME' && r.Name?.endsWith(`.${domain}.`));
      expect(validation?.ResourceRecords?.[0]?.Value).toMatch(/acm-validations\.aws\.?$/);
      expect(find(`_converge-owner.${validation?.Name?.replace(/\.$/, '') ?? ''}`, 'TXT')).toBeDefined();
    }
  });

  it('the security boundary holds: no public IP, ALBs open on 80/443 only, the NLB only to the gateway, services only to NLB, gateway and VPC', async () => {
    const ecs = new ECSClient(moto.clientConfig);
    const services = await ecs.send(new DescribeServicesCommand({ cluster: 'shop', services: ['shop-users', 'shop-billing', 'shop-orders', 'shop-gateway', 'shop-web'] }));
    expect(services.services).toHaveLength(5);
    for (const s of services.services ?? []) expect(s.networkConfiguration?.awsvpcConfiguration?.assignPublicIp).toBe('DISABLED');
    // The wiring of the services into the load balancers (reconcilers/ecs-service).
    const loadBalancers = new Map((services.services ?? []).map((s) => [s.serviceName, s.loadBalancers?.[0]]));
    expect(loadBalancers.get('shop-users')).toMatchObject({ targetGroupArn: await targetGroupArn('shop-users-a'), containerName: 'users', containerPort: 8000 });
    expect(loadBalancers.get('shop-gateway')).toMatchObject({ targetGroupArn: await targetGroupArn('shop-gateway-a'), containerPort: 8080 });

    for (const name of ['shop-backend-alb', 'shop-frontend-alb']) {
      const ports = (await securityGroup(name)).IpPermissions?.map((p) => `${p.IpProtocol}:${p.FromPort}-${p.ToPort}`).sort();
      expect(ports).toEqual(['tcp:443-443', 'tcp:80-80']);
    }
    const gatewayGroup = (await securityGroup('shop-gateway-tasks')).GroupId;
    const nlbGroup = await securityGroup('shop-services-nlb');
    for (const p of nlbGroup.IpPermissions ?? []) {
      expect(p.IpRanges ?? []).toEqual([]);
      expect(p.UserIdGroupPairs?.map((g) => g.GroupId)).toEqual([gatewayGroup]);
    }
    expect(nlbGroup.IpPermissions?.map((p) => p.FromPort).sort()).toEqual([10001, 10002, 10003]);
    for (const service of ['users', 'billing', 'orders']) {
      const group = await securityGroup(`shop-${service}-tasks`);
      const sources = (group.IpPermissions ?? []).flatMap((p) => [...(p.IpRanges ?? []).map((r) => r.CidrIp), ...(p.UserIdGroupPairs ?? []).map((g) => g.GroupId)]).sort();
      expect(sources).toEqual([nlbGroup.GroupId, gatewayGroup, '10.0.0.0/16'].sort());
    }
  });

  it('the weighted forward CodeDeploy leaves on a blue/green listener (new 100, old 0) is not drift', async () => {
    const usersListener = (await listeners('shop-services')).find((l) => l.Port === 10001);
    const [blue, green] = [await targetGroupArn('shop-users-a'), await targetGroupArn('shop-users-b')];
    const weighted = { Type: 'forward' as const, ForwardConfig: { TargetGroups: [{ TargetGroupArn: green, Weight: 100 }, { TargetGroupArn: blue, Weight: 0 }] } };
    await elbv2.send(new ModifyListenerCommand({ ListenerArn: usersListener?.ListenerArn, DefaultActions: [weighted] }));
    const { summary, events } = await cycle('plan');
    expect(stateOf(summary, 'listener/shop-services:10001')).toMatchObject({ state: 'InSync', drift: [], changes: [] });
    expect(events.filter((e) => e.event === 'drift')).toEqual([]);
    expect(summary.pending).toBe(0);
  });

  const injectDrift = async (): Promise<void> => {
    await elbv2.send(new ModifyTargetGroupCommand({ TargetGroupArn: await targetGroupArn('shop-users-a'), HealthCheckPath: '/hacked' }));
    const billingListener = (await listeners('shop-services')).find((l) => l.Port === 10002);
    await elbv2.send(new ModifyListenerCommand({ ListenerArn: billingListener?.ListenerArn, DefaultActions: [{ Type: 'forward', TargetGroupArn: await targetGroupArn('shop-users-a') }] }));
    const usersGroup = await securityGroup('shop-users-tasks');
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: usersGroup.GroupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 8000, ToPort: 8000, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
  };
  const expectedDrift = [
    expect.objectContaining({ level: 'warn', event: 'drift', kind: 'Service', name: 'users', resource: 'AWS::ElasticLoadBalancingV2::TargetGroup shop-users-a', field: 'healthCheck.path', desired: '/docs', live: '/hacked' }),
    expect.objectContaining({ level: 'warn', event: 'drift', kind: 'Service', name: 'billing', resource: 'AWS::ElasticLoadBalancingV2::Listener shop-services:10002', field: 'defaultAction', desired: 'forward shop-billing-a', live: 'forward shop-users-a' }),
    expect.objectContaining({ level: 'warn', event: 'drift', kind: 'Service', name: 'users', resource: 'AWS::EC2::SecurityGroup shop-users-tasks', field: 'ingress[8000-8000 from 0.0.0.0/0]' }),
  ];
  const liveDrift = async () => ({
    path: (await elbv2.send(new DescribeTargetGroupsCommand({ Names: ['shop-users-a'] }))).TargetGroups?.[0]?.HealthCheckPath,
    billing: forwardedTo((await listeners('shop-services')).find((l) => l.Port === 10002)),
    open: (await securityGroup('shop-users-tasks')).IpPermissions?.some((p) => p.IpRanges?.some((r) => r.CidrIp === '0.0.0.0/0')),
  });

  it('drift made with the SDK is logged as drift events and corrected by the next apply', async () => {
    await injectDrift();
    const { summary, events } = await cycle('apply');
    expectNoIngressFailure(summary);
    expect(events.filter((e) => e.event === 'drift')).toEqual(expect.arrayContaining(expectedDrift));
    expect(await liveDrift()).toEqual({ path: '/docs', billing: [await targetGroupArn('shop-billing-a')], open: false });
    const after = await cycle('plan');
    expect(after.summary.pending).toBe(0);
    expect(after.events.filter((e) => e.event === 'drift')).toEqual([]);
  });

  it('with reconcile.selfHeal false the same drift is reported and left alone', async () => {
    const s3 = new S3Client({ ...moto.clientConfig, forcePathStyle: true });
    const environment = await readFile(`${EXAMPLE}environment.yaml`, 'utf8');
    await s3.send(new PutObjectCommand({ Bucket: seed.bucket, Key: `${seed.prefix}environment.yaml`, Body: environment.replace(/selfHeal: true/, 'selfHeal: false') }));
    await injectDrift();
    const { summary, events } = await cycle('apply');
    expect(events.filter((e) => e.event === 'drift')).toEqual(expect.arrayContaining(expectedDrift));
    expect(summary.awsWrites, JSON.stringify(summary.callsByOperation)).toBe(0);
    expect(stateOf(summary, 'listener/shop-services:10002')?.state).toBe('Drifted');
    expect(stateOf(summary, 'target-group/shop-users-a')?.state).toBe('Drifted');
    expect(await liveDrift()).toEqual({ path: '/hacked', billing: [await targetGroupArn('shop-users-a')], open: true });
  });
});
