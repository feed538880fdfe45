/**
 * `converge run` as a real child process (`node bin/converge.js run`) against the emulator:
 * source watching, the reconcile endpoint, drift, invalid desired state, backoff, readiness,
 * metrics and SIGTERM. One emulator and, for most of the file, one daemon: the steps build on
 * each other the way a day of operating converge would.
 */
import { DescribeServicesCommand, ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedEnvironment, type SeedResult } from '../../../scripts/seed.js';
import { DaemonProcess, type LogEvent, type Sample } from '../../support/daemon-process.js';
import { useMoto } from '../../support/moto.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const EXAMPLE = join(ROOT, 'desired-state', 'examples', 'shop');
const TOKEN = 'e2e-daemon-token-4b1d0c7e';
const WATCH_MS = 500;
const INTERVAL = '3s';


const sum = (samples: Sample[], name: string, labels: Record<string, string> = {}): number =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((n, s) => n + s.value, 0);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

describe('converge run (a child process against the emulator)', () => {
  const moto = useMoto({ env: { CONVERGE_EMULATOR_DEPLOY_STEPS: '0', MOTO_ACM_VALIDATION_WAIT: '0' } });
  let seed: SeedResult;
  let daemon: DaemonProcess;
  let services = '';
  let environment = '';
  const daemons: DaemonProcess[] = [];

  const start = async (extra: string[] = [], env: Record<string, string> = {}): Promise<DaemonProcess> => {
    const child = new DaemonProcess(['--source', seed.source, '--interval', INTERVAL, '--watch-interval', `${WATCH_MS}ms`, '--listen', '127.0.0.1:0', ...extra], {
      ...moto.env,
      CONVERGE_TRIGGER_TOKEN: TOKEN,
      ...env,
    });
    daemons.push(child);
    return child.started();
  };
  const upload = async (file: string, body: string): Promise<void> => {
    const s3 = new S3Client({ ...moto.clientConfig, forcePathStyle: true });
    await s3.send(new PutObjectCommand({ Bucket: seed.bucket, Key: `${seed.prefix}${file}`, Body: body }));
    s3.destroy();
  };
  const ecsService = async (name: string) => {
    const ecs = new ECSClient(moto.clientConfig);
    const answer = await ecs.send(new DescribeServicesCommand({ cluster: 'shop', services: [name] }));
    ecs.destroy();
    return answer.services?.[0];
  };
  const setDesiredCountBehindConvergesBack = async (name: string, desiredCount: number): Promise<void> => {
    const ecs = new ECSClient(moto.clientConfig);
    await ecs.send(new UpdateServiceCommand({ cluster: 'shop', service: name, desiredCount }));
    ecs.destroy();
  };
  /** services.yaml with the users service at `count` tasks (the example has 2). */
  const servicesWithUsers = (count: number): string => services.replace(/(name: users[\s\S]*?desiredCount: )2/, `$1${count}`);

  beforeAll(async () => {
    // The daemon runs from dist/, as users run it: test/support/global-build.ts built it.
    if (!existsSync(join(ROOT, 'dist', 'src', 'daemon', 'run.js'))) throw new Error('dist/ has no daemon: the global setup should have built it');
    seed = await seedEnvironment({ endpoint: moto.endpoint, documentsDir: EXAMPLE });
    services = await readFile(join(EXAMPLE, 'services.yaml'), 'utf8');
    environment = await readFile(join(EXAMPLE, 'environment.yaml'), 'utf8');
  }, 300_000);

  afterAll(async () => {
    await Promise.all(daemons.map((d) => d.stop()));
  });

  it('is not ready before its first cycle, ready after it', async () => {
    daemon = await start();
    const before = await daemon.get('/readyz');
    expect(before.status).toBe(503);
    expect((await daemon.get('/healthz')).status).toBe(200);
    const startup = await daemon.nextCycle(0, 90_000, 'startup');
    expect(startup.errors).toBe(0);
    expect((await daemon.get('/readyz')).status).toBe(200);
    // From empty, certificates are issued after the first cycle; let the environment settle.
    const settled = await daemon.waitFor((e) => e.event === 'cycle' && e.outcome === 'converged', 60_000, 'a converged cycle');
    expect(settled.errors).toBe(0);
  }, 180_000);

  it('converges a changed document uploaded to S3 within one polling period, without a trigger', async () => {
    const from = daemon.mark();
    const uploadedAt = Date.now();
    await upload('services.yaml', servicesWithUsers(3));
    const noticed = await daemon.waitFor((e) => e.event === 'source-change', 10_000, 'source-change', from);
    const noticedAfterMs = Date.parse(String(noticed.time)) - uploadedAt;
    expect(noticedAfterMs).toBeLessThan(WATCH_MS + 1_000);
    const cycle = await daemon.waitFor((e) => e.event === 'cycle' && e.cycle === noticed.cycle, 30_000, 'the source-change cycle', from);
    expect(cycle).toMatchObject({ trigger: 'source-change', errors: 0 });
    const change = daemon.of('change', from).find((e) => e.resource === 'AWS::ECS::Service shop-users');
    expect(change).toMatchObject({ action: 'update', kind: 'Service', name: 'users' });
    expect((await ecsService('shop-users'))?.desiredCount).toBe(3);
    expect(daemon.of('cycle', from).filter((e) => e.trigger === 'manual')).toHaveLength(0);
    console.info(`[timing] upload -> source-change ${noticedAfterMs} ms, upload -> converged ${Date.parse(String(cycle.time)) - uploadedAt} ms`);
  }, 60_000);

  it('POST /reconcile: 401 and nothing runs without the token; 202 with it; ?wait=true answers the summary', async () => {
    let from = daemon.mark();
    const missing = await daemon.post('/reconcile');
    expect(missing.status).toBe(401);
    expect((await daemon.post('/reconcile', 'not-the-token')).status).toBe(401);
    await sleep(300);
    expect(daemon.of('trigger', from)).toHaveLength(0);
    expect(daemon.of('cycle', from).filter((e) => e.trigger === 'manual')).toHaveLength(0);

    from = daemon.mark();
    const accepted = await daemon.post('/reconcile', TOKEN);
    expect(accepted.status).toBe(202);
    const { cycle } = (await accepted.json()) as { cycle: string };
    const event = await daemon.waitFor((e) => e.event === 'cycle' && e.cycle === cycle, 30_000, `cycle ${cycle}`, from);
    expect(event.trigger).toBe('manual');

    const waited = await daemon.post('/reconcile?wait=true', TOKEN);
    expect(waited.status).toBe(200);
    const summary = (await waited.json()) as { cycle: string; trigger: string; outcome: string; resources: unknown[] };
    expect(summary).toMatchObject({ trigger: 'manual', outcome: 'converged' });
    expect(summary.resources.length).toBeGreaterThan(10);
    expect(daemon.of('cycle', from).some((e) => e.cycle === summary.cycle)).toBe(true);
    expect(daemon.stdoutLines.join('\n')).not.toContain(TOKEN);
  }, 60_000);

  it('collapses many triggers during a running cycle into exactly one extra cycle', async () => {
    const from = daemon.mark();
    const first = (await (await daemon.post('/reconcile', TOKEN)).json()) as { cycle: string };
    const burst = await Promise.all(Array.from({ length: 10 }, () => daemon.post('/reconcile', TOKEN)));
    const ids = new Set<string>();
    for (const answer of burst) {
      expect(answer.status).toBe(202);
      ids.add(((await answer.json()) as { cycle: string }).cycle);
    }
    expect(ids.size).toBe(1);
    // Usually `first` started a cycle and the burst queued one more; when an interval cycle was
    // already running, `first` queued that one more and the burst joined it.
    const [extra] = [...ids];
    const extraCycle = await daemon.waitFor((e) => e.event === 'cycle' && e.cycle === extra, 30_000, 'the extra cycle', from);
    expect(extraCycle.trigger).toBe('manual');
    // Nothing else was queued behind it: the next cycle (if any within 1.5 s) can only be an interval one, and it is not.
    const after = daemon.mark();
    await sleep(1_500);
    expect(daemon.of('cycle', after).filter((e) => e.trigger === 'manual')).toHaveLength(0);
    const manual = daemon.of('cycle', from).filter((e) => e.trigger === 'manual').map((e) => e.cycle);
    expect(manual).toEqual([...new Set([first.cycle, extra])]);
  }, 60_000);

  it('logs drift made with the AWS SDK and corrects it in the next cycle', async () => {
    const from = daemon.mark();
    await setDesiredCountBehindConvergesBack('shop-users', 7);
    const drift = await daemon.waitFor((e) => e.event === 'drift' && e.resource === 'AWS::ECS::Service shop-users', 15_000, 'the drift event', from);
    expect(drift).toMatchObject({ level: 'warn', kind: 'Service', name: 'users', field: 'desiredCount', desired: 3, live: 7 });
    await daemon.waitFor((e) => e.event === 'cycle' && e.cycle === drift.cycle, 15_000, 'the correcting cycle', from);
    expect(daemon.of('change', from).find((e) => e.cycle === drift.cycle && e.resource === 'AWS::ECS::Service shop-users')).toMatchObject({ action: 'update' });
    expect((await ecsService('shop-users'))?.desiredCount).toBe(3);
  }, 60_000);

  it('rejects an invalid document once, writes nothing for it, keeps enforcing the last valid one, and resumes on a fix', async () => {
    const enforcedBefore = (await daemon.status()).enforcedRevision;
    expect(enforcedBefore).toMatch(/^sha256:/);
    const from = daemon.mark();
    await upload('services.yaml', servicesWithUsers(5).replace('listenerPort: 10002', 'listenerPort: 10001'));
    const invalid = await daemon.waitFor((e) => e.event === 'invalid-desired-state', 15_000, 'invalid-desired-state', from);
    expect(invalid.level).toBe('error');
    const issues = invalid.errors as { file: string; path: string; message: string }[];
    expect(issues.some((i) => i.file.endsWith('services.yaml') && i.path.includes('listenerPort'))).toBe(true);
    // Let two more cycles run on the invalid revision.
    const second = await daemon.nextCycle(daemon.mark(), 15_000);
    await daemon.nextCycle(daemon.events.indexOf(second) + 1, 15_000);
    expect(daemon.of('invalid-desired-state', from)).toHaveLength(1);
    expect(daemon.of('cycle', from).map((e) => e.awsWrites)).toEqual(daemon.of('cycle', from).map(() => 0));
    expect((await ecsService('shop-users'))?.desiredCount).toBe(3);
    const status = await daemon.status();
    expect(status.enforcedRevision).toBe(enforcedBefore);
    expect(status.rejected?.revision).not.toBe(enforcedBefore);
    expect(status.rejected?.issues.some((i) => i.path.includes('listenerPort'))).toBe(true);
    expect(status.ready).toBe(true);

    // The last valid revision is still enforced: drift is still corrected.
    const driftFrom = daemon.mark();
    await setDesiredCountBehindConvergesBack('shop-users', 6);
    const drift = await daemon.waitFor((e) => e.event === 'drift' && e.resource === 'AWS::ECS::Service shop-users', 15_000, 'drift under the old revision', driftFrom);
    expect(drift).toMatchObject({ desired: 3, live: 6 });
    await until(async () => ((await ecsService('shop-users'))?.desiredCount === 3 ? true : undefined), 15_000, 'the correction');

    const fixFrom = daemon.mark();
    await upload('services.yaml', servicesWithUsers(4));
    const fixed = await daemon.waitFor((e) => e.event === 'cycle' && e.trigger === 'source-change', 15_000, 'the cycle of the fixed revision', fixFrom);
    expect(fixed.errors).toBe(0);
    expect(fixed.revision).not.toBe(enforcedBefore);
    expect((await ecsService('shop-users'))?.desiredCount).toBe(4);
    const after = await daemon.status();
    expect(after.enforcedRevision).toBe(fixed.revision);
    expect(after.rejected).toBeNull();
  }, 120_000);

  it('holds back a resource AWS refuses (a full quota: backing off, naming the quota), while the others keep converging', async () => {
    // 31 CIDRs on 80 and 443 are 62 ingress rules: more than a security group takes (60).
    const cidrs = Array.from({ length: 31 }, (_, i) => `198.51.100.${i + 1}/32`);
    const tooMany = environment.replace(/(frontend:\s*\n\s*domain: www\.example\.com\s*\n\s*certificateArn: auto)/, `$1\n      ingressCidrs: [${cidrs.join(', ')}]`);
    expect(tooMany).not.toBe(environment);
    const before = await daemon.metrics();
    const from = daemon.mark();
    await upload('environment.yaml', tooMany);
    const failure = await daemon.waitFor((e) => e.event === 'error' && String(e.resource).startsWith('AWS::EC2::SecurityGroup shop-frontend'), 20_000, 'the failing write', from);
    const failedCycle = await daemon.waitFor((e) => e.event === 'cycle' && e.cycle === failure.cycle, 15_000, 'the failing cycle', from);
    expect(failedCycle.errors).toBeGreaterThan(0);
    const authorizeCalls = (samples: Sample[]): number => sum(samples, 'converge_aws_calls_total', { operation: 'AuthorizeSecurityGroupIngress' });
    const attemptsAfterFailure = authorizeCalls(await daemon.metrics());
    expect(attemptsAfterFailure).toBeGreaterThan(authorizeCalls(before));

    // The next cycles do not hammer it; drift elsewhere is still corrected.
    const next = daemon.mark();
    await setDesiredCountBehindConvergesBack('shop-orders', 9);
    await daemon.waitFor((e) => e.event === 'drift' && e.resource === 'AWS::ECS::Service shop-orders', 15_000, 'drift on orders', next);
    await daemon.nextCycle(daemon.mark(), 15_000);
    expect(authorizeCalls(await daemon.metrics())).toBe(attemptsAfterFailure);
    expect(daemon.of('error', next).filter((e) => String(e.resource).startsWith('AWS::EC2::SecurityGroup shop-frontend'))).toHaveLength(0);
    expect((await ecsService('shop-orders'))?.desiredCount).toBe(3);
    const status = await daemon.status();
    const group = status.resources.find((r) => r.resource.startsWith('AWS::EC2::SecurityGroup shop-frontend'));
    expect(group?.state).toBe('Failed');
    // A full quota is not given up for good (a person may raise it, a delete may free it): tried again after a backoff, naming the quota.
    expect(group?.message).toMatch(/^backing off after 1 failures until .*AWS quota "Inbound or outbound rules per security group" reached: raise it in Service Quotas/);
    const failed = status.resources.filter((r) => r.state === 'Failed' || r.state === 'Conflict').map((r) => r.resource);
    expect(failed.every((r) => r.startsWith('AWS::EC2::SecurityGroup shop-frontend')), failed.join(', ')).toBe(true);
    for (const service of ['shop-users', 'shop-billing', 'shop-orders', 'shop-gateway']) {
      expect(status.resources.find((r) => r.resource === `AWS::ECS::Service ${service}`)?.state, service).toBe('InSync');
    }

    // Fixing the document (another desired hash) lets converge try again at once.
    const fixFrom = daemon.mark();
    await upload('environment.yaml', environment);
    const fixed = await daemon.waitFor((e) => e.event === 'cycle' && e.trigger === 'source-change', 15_000, 'the fixed cycle', fixFrom);
    expect(fixed.errors).toBe(0);
  }, 120_000);

  it('exports Prometheus text whose counters move', async () => {
    const before = await daemon.metrics();
    const from = daemon.mark();
    await daemon.post('/reconcile?wait=true', TOKEN);
    await daemon.nextCycle(from, 10_000);
    const after = await daemon.metrics();
    for (const name of [
      'converge_cycles_total',
      'converge_cycle_duration_seconds_count',
      'converge_drifts_total',
      'converge_changes_total',
      'converge_errors_total',
      'converge_aws_calls_total',
      'converge_last_successful_cycle_timestamp_seconds',
      'converge_resources',
    ]) {
      expect(after.some((s) => s.name === name), name).toBe(true);
    }
    expect(sum(after, 'converge_cycles_total', { trigger: 'manual' })).toBeGreaterThan(sum(before, 'converge_cycles_total', { trigger: 'manual' }));
    expect(sum(after, 'converge_aws_calls_total', { kind: 'read' })).toBeGreaterThan(sum(before, 'converge_aws_calls_total', { kind: 'read' }));
    expect(sum(after, 'converge_aws_calls_total', { service: 'S3', operation: 'ListObjectsV2' })).toBeGreaterThan(0);
    expect(sum(after, 'converge_drifts_total', { kind: 'Service' })).toBeGreaterThanOrEqual(3);
    expect(sum(after, 'converge_changes_total', { kind: 'Service', action: 'update' })).toBeGreaterThanOrEqual(3);
    expect(sum(after, 'converge_errors_total')).toBeGreaterThanOrEqual(1);
    expect(sum(after, 'converge_resources')).toBeGreaterThan(20);
    expect(sum(after, 'converge_last_successful_cycle_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 60);
  }, 60_000);

  it('exits 0 on SIGTERM during a cycle, with shutdown as its last event, and the next start picks up', async () => {
    await daemon.stop();
    expect(await daemon.exited).toEqual({ code: 0, signal: null });
    expect(daemon.events.at(-1)?.event).toBe('shutdown');

    // A fresh environment, so that the startup cycle has plenty to do when SIGTERM arrives.
    await moto.reset();
    seed = await seedEnvironment({ endpoint: moto.endpoint, documentsDir: EXAMPLE });
    const busy = await start();
    await busy.waitFor((e) => e.event === 'change', 60_000, 'the startup cycle at work');
    const signalledAt = Date.now();
    busy.kill('SIGTERM');
    const exit = await busy.exited;
    const exitMs = Date.now() - signalledAt;
    expect(exit).toEqual({ code: 0, signal: null });
    const last = busy.events.at(-1);
    expect(last).toMatchObject({ event: 'shutdown', reason: 'SIGTERM', drained: true });
    const cycle = busy.of('cycle').at(-1);
    expect(cycle?.trigger).toBe('startup');
    expect(busy.events.indexOf(cycle as LogEvent)).toBeLessThan(busy.events.length - 1);
    console.info(`[timing] SIGTERM during the startup cycle -> exit ${exitMs} ms`);

    const again = await start();
    const resumed = await again.waitFor((e) => e.event === 'cycle' && e.outcome === 'converged', 90_000, 'convergence after the restart');
    expect(resumed.errors).toBe(0);
    await again.stop();
    expect((await again.exited).code).toBe(0);
  }, 240_000);
});
