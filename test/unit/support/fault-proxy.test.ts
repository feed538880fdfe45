/**
 * The fault proxy itself (test/support/fault-proxy.ts), against a fake upstream: requests are
 * identified as the SDK sends them, each service's throttling error is what the SDK v3 client
 * surfaces as that service's throttling error, faults before forwarding never reach the
 * upstream and faults after do, decisions follow the seed, and the proxy goes down and comes back
 * on its port.
 */
import { ACMClient, RequestCertificateCommand } from '@aws-sdk/client-acm';
import { CloudWatchLogsClient, CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CodeDeployClient, CreateDeploymentCommand } from '@aws-sdk/client-codedeploy';
import { CreateSecurityGroupCommand, DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeClustersCommand, ECSClient, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { CreateTargetGroupCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ChangeResourceRecordSetsCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy, type RequestInfo } from '../../support/fault-proxy.js';

interface Upstream {
  server: Server;
  endpoint: string;
  seen: { method: string; url: string; body: string }[];
}

/** Answers every request 200 with a small JSON body (enough for DescribeClusters; other calls just fail to parse). */
async function startUpstream(): Promise<Upstream> {
  const seen: Upstream['seen'] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', body: Buffer.concat(chunks).toString('utf8') });
      const body = JSON.stringify({ clusters: [], failures: [], padding: 'x'.repeat(200) });
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'content-length': String(Buffer.byteLength(body)) });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { server, endpoint: `http://127.0.0.1:${port}`, seen };
}

const config = (endpoint: string, extra: { requestTimeoutMs?: number } = {}) => ({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  maxAttempts: 1,
  ...(extra.requestTimeoutMs ? { requestHandler: { requestTimeout: extra.requestTimeoutMs, throwOnRequestTimeout: true } } : {}),
});

async function errorOf(call: Promise<unknown>): Promise<{ name: string; status?: number; code?: string }> {
  try {
    await call;
  } catch (error) {
    const e = error as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name ?? 'Error', status: e.$metadata?.httpStatusCode, code: e.code };
  }
  return { name: 'no error' };
}

describe('the fault proxy', () => {
  let upstream: Upstream;
  let proxy: FaultProxy;
  const requests: RequestInfo[] = [];

  beforeAll(async () => {
    upstream = await startUpstream();
    proxy = await startFaultProxy({ target: upstream.endpoint, seed: 42 });
    proxy.onRequest((r) => requests.push(r));
  });
  afterEach(() => {
    proxy.setRules([]);
    proxy.resetStats();
    requests.length = 0;
    upstream.seen.length = 0;
  });
  afterAll(async () => {
    await proxy.close();
    await new Promise<void>((resolve) => upstream.server.close(() => resolve()));
  });

  it('identifies service, operation and read/write for each wire protocol', async () => {
    const endpoint = proxy.endpoint;
    const calls: Promise<unknown>[] = [
      new ECSClient(config(endpoint)).send(new DescribeClustersCommand({ clusters: ['shop'] })),
      new ECSClient(config(endpoint)).send(new RegisterTaskDefinitionCommand({ family: 'f', containerDefinitions: [] })),
      new EC2Client(config(endpoint)).send(new CreateSecurityGroupCommand({ GroupName: 'g', Description: 'd', VpcId: 'vpc-1' })),
      new ElasticLoadBalancingV2Client(config(endpoint)).send(new CreateTargetGroupCommand({ Name: 'tg', TargetType: 'ip', VpcId: 'vpc-1', Protocol: 'TCP', Port: 80 })),
      new CloudWatchLogsClient(config(endpoint)).send(new CreateLogGroupCommand({ logGroupName: '/ecs/shop/users' })),
      new ACMClient(config(endpoint)).send(new RequestCertificateCommand({ DomainName: 'api.example.com' })),
      new CodeDeployClient(config(endpoint)).send(new CreateDeploymentCommand({ applicationName: 'shop' })),
      new Route53Client(config(endpoint)).send(new ListResourceRecordSetsCommand({ HostedZoneId: 'Z1' })),
      new Route53Client(config(endpoint)).send(new ChangeResourceRecordSetsCommand({ HostedZoneId: 'Z1', ChangeBatch: { Changes: [] } })),
      new S3Client({ ...config(endpoint), forcePathStyle: true }).send(new ListObjectsV2Command({ Bucket: 'b', Prefix: 'shop/' })),
      new S3Client({ ...config(endpoint), forcePathStyle: true }).send(new PutObjectCommand({ Bucket: 'b', Key: 'shop/x.json', Body: '{}' })),
    ];
    await Promise.allSettled(calls);
    const seen = requests.map((r) => `${r.service} ${r.operation} ${r.kind}`).sort();
    expect(seen).toEqual(
      [
        'ECS DescribeClusters read',
        'ECS RegisterTaskDefinition write',
        'EC2 CreateSecurityGroup write',
        'ELBv2 CreateTargetGroup write',
        'Logs CreateLogGroup write',
        'ACM RequestCertificate write',
        'CodeDeploy CreateDeployment write',
        'Route53 ListResourceRecordSets read',
        'Route53 ChangeResourceRecordSets write',
        'S3 ListObjectsV2 read',
        'S3 PutObject write',
      ].sort(),
    );
    // Every write is logged with its decoded text: a form body is readable, not percent-encoded.
    expect(proxy.writes.map((w) => w.operation).sort()).toEqual(
      ['ChangeResourceRecordSets', 'CreateDeployment', 'CreateLogGroup', 'CreateSecurityGroup', 'CreateTargetGroup', 'PutObject', 'RegisterTaskDefinition', 'RequestCertificate'].sort(),
    );
    expect(proxy.writes.find((w) => w.operation === 'CreateSecurityGroup')?.body).toContain('VpcId=vpc-1');
    expect(proxy.writes.find((w) => w.operation === 'PutObject')?.path).toBe('/b/shop/x.json?x-id=PutObject');
    expect(proxy.writes.every((w) => w.delivered)).toBe(true);
  });

  it('answers throttling in each service wire format, as the SDK reads it, without forwarding', async () => {
    proxy.setRules([{ faults: ['throttle'], probability: 1 }]);
    const endpoint = proxy.endpoint;
    const s3 = new S3Client({ ...config(endpoint), forcePathStyle: true });
    const got = {
      ecs: await errorOf(new ECSClient(config(endpoint)).send(new DescribeClustersCommand({ clusters: ['shop'] }))),
      logs: await errorOf(new CloudWatchLogsClient(config(endpoint)).send(new CreateLogGroupCommand({ logGroupName: '/x' }))),
      acm: await errorOf(new ACMClient(config(endpoint)).send(new RequestCertificateCommand({ DomainName: 'api.example.com' }))),
      codedeploy: await errorOf(new CodeDeployClient(config(endpoint)).send(new CreateDeploymentCommand({ applicationName: 'shop' }))),
      ec2: await errorOf(new EC2Client(config(endpoint)).send(new DescribeSecurityGroupsCommand({}))),
      elbv2: await errorOf(new ElasticLoadBalancingV2Client(config(endpoint)).send(new CreateTargetGroupCommand({ Name: 'tg' }))),
      s3: await errorOf(s3.send(new ListObjectsV2Command({ Bucket: 'b' }))),
      route53: await errorOf(new Route53Client(config(endpoint)).send(new ListResourceRecordSetsCommand({ HostedZoneId: 'Z1' }))),
    };
    expect(got).toEqual({
      ecs: { name: 'ThrottlingException', status: 400 },
      logs: { name: 'ThrottlingException', status: 400 },
      acm: { name: 'ThrottlingException', status: 400 },
      codedeploy: { name: 'ThrottlingException', status: 400 },
      ec2: { name: 'RequestLimitExceeded', status: 503 },
      elbv2: { name: 'Throttling', status: 400 },
      s3: { name: 'SlowDown', status: 503 },
      route53: { name: 'Throttling', status: 400 },
    });
    expect(upstream.seen).toHaveLength(0);
    expect(proxy.counts.throttle).toBe(8);
    expect(proxy.writes).toHaveLength(0);
  });

  it('a bare 503 is a server error to the SDK', async () => {
    proxy.setRules([{ faults: ['unavailable'], probability: 1 }]);
    const got = await errorOf(new ECSClient(config(proxy.endpoint)).send(new DescribeClustersCommand({})));
    expect(got.status).toBe(503);
    expect(upstream.seen).toHaveLength(0);
  });

  it('resets the connection before forwarding (nothing reached the upstream) or mid-response after it (the write was done, the answer lost)', async () => {
    proxy.setRules([{ faults: ['reset'], probability: 1, when: 'before' }]);
    const before = await errorOf(new ECSClient(config(proxy.endpoint)).send(new RegisterTaskDefinitionCommand({ family: 'f', containerDefinitions: [] })));
    expect(before).toMatchObject({ status: undefined, code: 'ECONNRESET' });
    expect(upstream.seen).toHaveLength(0);
    expect(proxy.writes).toHaveLength(0);

    proxy.setRules([{ faults: ['reset'], probability: 1, when: 'after' }]);
    const after = await errorOf(new ECSClient(config(proxy.endpoint)).send(new RegisterTaskDefinitionCommand({ family: 'g', containerDefinitions: [] })));
    // The status line arrived, the body did not: a network error after a 200.
    expect(after).toMatchObject({ status: 200, code: 'ECONNRESET' });
    expect(upstream.seen).toHaveLength(1);
    expect(proxy.writes).toMatchObject([{ operation: 'RegisterTaskDefinition', status: 200, delivered: false }]);
    expect(proxy.faults).toMatchObject([
      { fault: 'reset', when: 'before' },
      { fault: 'reset', when: 'after', operation: 'RegisterTaskDefinition', kind: 'write' },
    ]);

    // Mid-response: the status line and part of the body arrive, then the reset.
    const response = await new Promise<string>((resolve) => {
      let text = '';
      const socket = connect(proxy.port, '127.0.0.1');
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      socket.on('error', () => resolve(text));
      socket.on('close', () => resolve(text));
      socket.write('POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AmazonEC2ContainerServiceV20141113.DescribeClusters\r\nContent-Length: 2\r\n\r\n{}');
    });
    expect(response).toMatch(/^HTTP\/1\.1 200 /);
    expect(response).toMatch(/content-length: \d+/i);
    expect(response).toContain('{"clusters":[]');
    expect(response).not.toContain('}');
  });

  it('holds a call open past the client request timeout, before or after forwarding', async () => {
    proxy.setRules([{ faults: ['hold'], probability: 1, when: 'before' }]);
    const started = Date.now();
    const before = await errorOf(new ECSClient(config(proxy.endpoint, { requestTimeoutMs: 300 })).send(new DescribeClustersCommand({})));
    expect(before.name).toBe('TimeoutError');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(upstream.seen).toHaveLength(0);

    proxy.setRules([{ faults: ['hold'], probability: 1, when: 'after' }]);
    const after = await errorOf(new ECSClient(config(proxy.endpoint, { requestTimeoutMs: 300 })).send(new RegisterTaskDefinitionCommand({ family: 'f', containerDefinitions: [] })));
    expect(after.name).toBe('TimeoutError');
    expect(upstream.seen).toHaveLength(1);
    expect(proxy.writes).toMatchObject([{ operation: 'RegisterTaskDefinition', delivered: false }]);
    expect(proxy.counts.hold).toBe(2);
  });

  it('goes down (connections refused) and comes back on the same port', async () => {
    const ecs = new ECSClient(config(proxy.endpoint));
    await ecs.send(new DescribeClustersCommand({}));
    await proxy.down();
    const refused = await errorOf(ecs.send(new DescribeClustersCommand({})));
    expect(refused.code ?? refused.name).toMatch(/ECONNREFUSED|ECONNRESET/);
    await proxy.up();
    await expect(ecs.send(new DescribeClustersCommand({}))).resolves.toMatchObject({ clusters: [] });
    expect(proxy.counts.down).toBe(1);
  });

  it('draws reproducible decisions from its seed, at the configured rate, whatever the arrival order', async () => {
    const decisions = async (seed: number, order: number[]): Promise<string[]> => {
      const other = await startFaultProxy({ target: upstream.endpoint, seed, rules: [{ faults: ['throttle', 'unavailable'], probability: 0.3 }] });
      const bodies = new Map<number, string>();
      other.onRequest((r) => bodies.set(r.seq, r.body));
      try {
        for (const i of order) await fetch(`${other.endpoint}/`, { method: 'POST', headers: { 'x-amz-target': 'AmazonEC2ContainerServiceV20141113.DescribeClusters' }, body: `{"n":${i}}` });
        return other.faults.map((f) => `${f.fault} ${bodies.get(f.seq) ?? '?'}`).sort();
      } finally {
        await other.close();
      }
    };
    const forward = [...Array(120).keys()];
    const first = await decisions(7, forward);
    expect(await decisions(7, [...forward].reverse())).toEqual(first);
    // 30 % of 120, give or take the binomial spread.
    expect(first.length).toBeGreaterThan(20);
    expect(first.length).toBeLessThan(55);
    expect(first.some((d) => d.startsWith('throttle'))).toBe(true);
    expect(first.some((d) => d.startsWith('unavailable'))).toBe(true);
    expect(await decisions(8, forward)).not.toEqual(first);
  });

  it('calls onResponse once an answer was written out, with whether moto made it', async () => {
    const delivered: string[] = [];
    const off = proxy.onResponse((r) => delivered.push(`${r.operation}:${r.status}:${r.forwarded}`));
    await new ECSClient(config(proxy.endpoint)).send(new DescribeClustersCommand({}));
    proxy.setRules([{ faults: ['throttle'], probability: 1 }]);
    await errorOf(new ECSClient(config(proxy.endpoint)).send(new DescribeClustersCommand({})));
    off();
    expect(delivered).toEqual(['DescribeClusters:200:true', 'DescribeClusters:400:false']);
  });
});
