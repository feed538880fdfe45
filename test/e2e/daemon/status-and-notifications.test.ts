/**
 * The status document and notifications, end to end: `converge run` as a child process against the
 * emulator, with an SNS topic (moto delivers it to an HTTP subscriber on 127.0.0.1) and a signed
 * webhook on 127.0.0.1 whose secret is in Secrets Manager. Drift made with the SDK is notified once
 * across cycles and its repair once; an invalid revision once; the status document is rewritten
 * when something changed and never by a steady-state cycle; `converge status` prints it.
 */
import { DescribeServicesCommand, ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedEnvironment, type SeedResult } from '../../../scripts/seed.js';
import { runCli } from '../../support/cli.js';
import { DaemonProcess } from '../../support/daemon-process.js';
import { useMoto } from '../../support/moto.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const EXAMPLE = join(ROOT, 'desired-state', 'examples', 'shop');
const SECRET_VALUE = 'e2e-webhook-signing-secret-5c1f';
const HOOK_PATH = '/hooks/T000/B000/path-token-7d2e';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('status document and notifications (converge run on the emulator)', () => {
  const moto = useMoto({ env: { CONVERGE_EMULATOR_DEPLOY_STEPS: '0', MOTO_ACM_VALIDATION_WAIT: '0' } });
  let seed: SeedResult;
  let daemon: DaemonProcess;
  let server: Server;
  let services = '';
  const received: Received[] = [];
  const statusKey = (): string => `${seed.prefix}.converge/status.json`;

  const s3 = (): S3Client => new S3Client({ ...moto.clientConfig, forcePathStyle: true });
  const upload = async (file: string, body: string): Promise<void> => {
    const client = s3();
    await client.send(new PutObjectCommand({ Bucket: seed.bucket, Key: `${seed.prefix}${file}`, Body: body }));
    client.destroy();
  };
  const statusObject = async (): Promise<{ etag: string; modified: number }> => {
    const client = s3();
    const head = await client.send(new HeadObjectCommand({ Bucket: seed.bucket, Key: statusKey() }));
    client.destroy();
    return { etag: head.ETag ?? '', modified: head.LastModified?.getTime() ?? 0 };
  };
  const setUsersCount = async (count: number): Promise<void> => {
    const ecs = new ECSClient(moto.clientConfig);
    await ecs.send(new UpdateServiceCommand({ cluster: 'shop', service: 'shop-users', desiredCount: count }));
    ecs.destroy();
  };
  const usersCount = async (): Promise<number | undefined> => {
    const ecs = new ECSClient(moto.clientConfig);
    const answer = await ecs.send(new DescribeServicesCommand({ cluster: 'shop', services: ['shop-users'] }));
    ecs.destroy();
    return answer.services?.[0]?.desiredCount;
  };
  const webhookCalls = (from = 0): Received[] => received.slice(from).filter((r) => r.path === HOOK_PATH);
  const snsCalls = (from = 0): { Subject?: string; Message: string }[] =>
    received
      .slice(from)
      .filter((r) => r.path === '/sns')
      .map((r) => JSON.parse(r.body) as { Subject?: string; Message: string });
  const webhookTexts = (from = 0): string[] => webhookCalls(from).map((r) => (JSON.parse(r.body) as { text: string }).text);
  /** Waits for `n` more cycle events after `from`. */
  const cycles = async (from: number, n: number): Promise<void> => {
    await daemon.waitFor(() => daemon.of('cycle', from).length >= n, 60_000, `${n} cycles`, from);
  };

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist', 'src', 'daemon', 'run.js'))) throw new Error('dist/ has no daemon: the global setup should have built it');
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        received.push({ path: req.url ?? '', headers: req.headers, body });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;

    seed = await seedEnvironment({ endpoint: moto.endpoint, documentsDir: EXAMPLE });
    const sns = new SNSClient(moto.clientConfig);
    const topic = await sns.send(new CreateTopicCommand({ Name: 'shop-alerts' }));
    const topicArn = topic.TopicArn ?? '';
    await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'http', Endpoint: `http://127.0.0.1:${port}/sns` }));
    sns.destroy();
    const secrets = new SecretsManagerClient(moto.clientConfig);
    const secret = await secrets.send(new CreateSecretCommand({ Name: 'shop-webhook', SecretString: SECRET_VALUE }));
    secrets.destroy();

    // Drift is left in place (selfHeal off) so that it lasts several cycles; notifications on.
    const environment = (await readFile(join(EXAMPLE, 'environment.yaml'), 'utf8')).replace('selfHeal: true ', 'selfHeal: false').replace(
      /^ {2}reconcile:\n/m,
      `  notifications:\n    snsTopicArn: ${topicArn}\n    webhook: { url: "http://127.0.0.1:${port}${HOOK_PATH}", secretArn: ${secret.ARN ?? ''} }\n  reconcile:\n`,
    );
    expect(environment).toContain('selfHeal: false');
    expect(environment).toContain('snsTopicArn');
    await upload('environment.yaml', environment);
    services = await readFile(join(EXAMPLE, 'services.yaml'), 'utf8');

    daemon = await new DaemonProcess(['--source', seed.source, '--interval', '2s', '--watch-interval', '500ms', '--listen', '127.0.0.1:0'], { ...moto.env }).started();
    await daemon.waitFor((e) => e.event === 'cycle' && e.outcome === 'converged', 180_000, 'a converged cycle');
  }, 300_000);

  afterAll(async () => {
    await daemon?.stop();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('writes the status document, and `converge status` prints it with the resources and the last cycle', async () => {
    await daemon.waitFor((e) => e.event === 'status-written', 10_000, 'status-written');
    const table = await runCli(['status', '--source', seed.source], moto.env);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^converge status {2}s3:\/\//);
    expect(table.stdout).toMatch(/^Last cycle {4}\d+s ago: converged, cycle \w+/m);
    expect(table.stdout).toMatch(/^Daemon {8}running: daemon:.* renewed its lease \d+s ago$/m);
    expect(table.stdout).toMatch(/^ {2}InSync +AWS::ECS::Service shop-users +Service\/users$/m);
    expect(table.stdout).toMatch(/^ {2}InSync +AWS::ECS::Cluster shop +/m);
    expect(table.stdout).not.toContain('\u001b['); // piped: no colour
    const json = await runCli(['status', '--source', seed.source, '--json'], moto.env);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout) as { kind: string; resources: unknown[]; lastCycle: { outcome: string }; writer: { holder: string } };
    expect(doc).toMatchObject({ kind: 'Status', lastCycle: { outcome: 'converged' } });
    expect(doc.resources.length).toBeGreaterThan(10);
    expect(doc.writer.holder).toMatch(/^daemon:/);
    // Nothing to notify on a converged environment.
    expect(received).toHaveLength(0);
  }, 60_000);

  it('a steady-state cycle does not rewrite the object', async () => {
    await sleep(300);
    const before = await statusObject();
    const from = daemon.mark();
    await cycles(from, 3);
    expect(daemon.of('cycle', from).every((e) => e.outcome === 'converged')).toBe(true);
    expect(daemon.of('status-written', from)).toHaveLength(0);
    expect(await statusObject()).toEqual(before);
  }, 60_000);

  it('drift made with the SDK: one notification (SNS and webhook) across cycles, the object rewritten; fixed: one recovery', async () => {
    const before = await statusObject();
    let from = daemon.mark();
    let seen = received.length;
    await setUsersCount(5);
    await daemon.waitFor((e) => e.event === 'drift' && e.resource === 'AWS::ECS::Service shop-users', 30_000, 'the drift', from);
    await cycles(from, 4);
    expect(await usersCount()).toBe(5); // selfHeal off: reported, left alone
    await daemon.waitFor((e) => e.event === 'notify' && e.target === 'webhook', 10_000, 'the webhook notification', from);
    await daemon.waitFor((e) => e.event === 'notify' && e.target === 'sns', 10_000, 'the SNS notification', from);
    expect(webhookTexts(seen)).toEqual([expect.stringMatching(/converge shop: drift: Service\/users\nDrift on AWS::ECS::Service shop-users \(Service\/users\): desiredCount \(desired 2, live 5\)/)]);
    expect(snsCalls(seen).map((m) => m.Subject)).toEqual(['converge shop: drift: Service/users']);
    expect(snsCalls(seen)[0]?.Message).toMatch(/desiredCount \(desired 2, live 5\)/);
    // The signature verifies with the secret.
    const [hook] = webhookCalls(seen);
    expect(hook?.headers['content-type']).toBe('application/json');
    expect(hook?.headers['x-converge-signature-256']).toBe(`sha256=${createHmac('sha256', SECRET_VALUE).update(hook?.body ?? '').digest('hex')}`);
    expect(hook?.headers['x-converge-signature-256']).not.toBe(`sha256=${createHmac('sha256', 'another secret').update(hook?.body ?? '').digest('hex')}`);
    // Rewritten once for the drift, not at every cycle it lasts.
    expect(daemon.of('status-written', from).length).toBe(1);
    expect((await statusObject()).etag).not.toBe(before.etag);
    const table = await runCli(['status', '--source', seed.source], moto.env);
    expect(table.stdout).toMatch(/^ {2}Drifted +AWS::ECS::Service shop-users +Service\/users +drift: desiredCount/m);

    from = daemon.mark();
    seen = received.length;
    await setUsersCount(2);
    await daemon.waitFor((e) => e.event === 'notify' && e.target === 'webhook' && e.kind === 'recovered', 30_000, 'the recovery', from);
    await cycles(from, 4);
    await sleep(500);
    expect(webhookTexts(seen)).toEqual([expect.stringMatching(/converge shop: recovered: Service\/users\nRecovered: AWS::ECS::Service shop-users \(Service\/users\) no longer drifts/)]);
    expect(snsCalls(seen).map((m) => m.Subject)).toEqual(['converge shop: recovered: Service/users']);
    expect(daemon.of('notify-error')).toHaveLength(0);
  }, 120_000);

  it('an invalid revision: one notification across cycles, one when a valid one is back', async () => {
    let from = daemon.mark();
    let seen = received.length;
    await upload('services.yaml', services.replace(/desiredCount: 2/, 'desiredCount: many'));
    await daemon.waitFor((e) => e.event === 'invalid-desired-state', 30_000, 'invalid-desired-state', from);
    await cycles(from, 4);
    await sleep(500);
    expect(webhookTexts(seen)).toEqual([expect.stringMatching(/^:rotating_light: converge shop: invalid desired state: revision sha256:\w+\nDesired state revision sha256:\w+ is invalid \(1 problem\(s\)\).*; still enforcing revision sha256:\w+$/s)]);
    expect(snsCalls(seen)).toHaveLength(1);
    const table = await runCli(['status', '--source', seed.source], moto.env);
    expect(table.stdout).toMatch(/^Rejected {6}sha256:\w+: 1 problem\(s\), not enforced$/m);

    from = daemon.mark();
    seen = received.length;
    await upload('services.yaml', services);
    await daemon.waitFor((e) => e.event === 'notify' && e.kind === 'recovered', 30_000, 'the recovery', from);
    await cycles(from, 3);
    await sleep(500);
    expect(webhookTexts(seen)).toEqual([expect.stringMatching(/Desired state is valid again: revision sha256:\w+ is enforced/)]);
    expect(snsCalls(seen)).toHaveLength(1);
    // Neither the webhook's path nor the secret reaches the logs.
    expect(daemon.stdoutLines.join('\n')).not.toContain('path-token-7d2e');
    expect(daemon.stdoutLines.join('\n')).not.toContain(SECRET_VALUE);
  }, 120_000);
});
