/**
 * One writer: two `converge run` child processes on one desired-state source against the
 * emulator. Exactly one writes; the other plans, reports drift and names the holder in `/status`
 * and `/metrics`. `converge apply` is refused while a daemon holds the lease (unless --force).
 * When the writer is SIGKILLed, the other takes over within one lease duration; a writer that
 * stops on SIGTERM releases the lease, and the next converge takes it at once.
 */
import { DescribeServicesCommand, ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedEnvironment, type SeedResult } from '../../../scripts/seed.js';
import { runCli } from '../../support/cli.js';
import { DaemonProcess, type LogEvent } from '../../support/daemon-process.js';
import { useMoto } from '../../support/moto.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const EXAMPLE = join(ROOT, 'desired-state', 'examples', 'shop');
const LEASE_MS = 6_000;
const RENEW_MS = LEASE_MS / 4;
const TOKEN = 'e2e-one-writer-token-5c1e';

interface LeaseView {
  enabled: boolean;
  role?: string;
  holder?: string;
  self?: string;
  generation?: number;
}

describe('one writer per environment (two daemons against the emulator)', () => {
  const moto = useMoto({ env: { CONVERGE_EMULATOR_DEPLOY_STEPS: '0', MOTO_ACM_VALIDATION_WAIT: '0' } });
  let seed: SeedResult;
  const daemons: DaemonProcess[] = [];
  const env = (): Record<string, string> => ({ ...moto.env, CONVERGE_LEASE_DURATION: `${LEASE_MS}ms`, CONVERGE_WAIT_POLL_MS: '500' });

  const start = (interval: string): Promise<DaemonProcess> => {
    const child = new DaemonProcess(['--source', seed.source, '--interval', interval, '--watch-interval', '500ms', '--listen', '127.0.0.1:0', '--lease-duration', `${LEASE_MS}ms`], {
      ...moto.env,
      CONVERGE_TRIGGER_TOKEN: TOKEN,
    });
    daemons.push(child);
    return child.started();
  };
  const lease = async (daemon: DaemonProcess): Promise<LeaseView> => ((await (await daemon.get('/status')).json()) as { lease: LeaseView }).lease;
  const held = async (daemon: DaemonProcess): Promise<number | undefined> => (await daemon.metrics()).find((s) => s.name === 'converge_lease_held')?.value;
  const withEcs = async <T>(fn: (ecs: ECSClient) => Promise<T>): Promise<T> => {
    const ecs = new ECSClient(moto.clientConfig);
    try {
      return await fn(ecs);
    } finally {
      ecs.destroy();
    }
  };
  const desiredCount = (service: string): Promise<number | undefined> =>
    withEcs(async (ecs) => (await ecs.send(new DescribeServicesCommand({ cluster: 'shop', services: [service] }))).services?.[0]?.desiredCount);
  const setDesiredCount = (service: string, count: number): Promise<unknown> => withEcs((ecs) => ecs.send(new UpdateServiceCommand({ cluster: 'shop', service, desiredCount: count })));
  const writes = (events: LogEvent[]): number => events.filter((e) => e.event === 'cycle').reduce((n, e) => n + Number(e.awsWrites ?? 0), 0);

  beforeAll(async () => {
    seed = await seedEnvironment({ endpoint: moto.endpoint, documentsDir: EXAMPLE });
    // `apply` takes the lease too (none exists yet), and releases it when it ends.
    const applied = await runCli(['apply', '--source', seed.source, '--wait'], { ...env(), CONVERGE_WAIT_TIMEOUT_MS: '120000' });
    expect(applied.code, applied.stderr.slice(-3000)).toBe(0);
    expect(applied.stdout).toMatch(/"event":"lease-acquired"/);
    expect(applied.stdout).toMatch(/"event":"lease-released"/);
  }, 240_000);

  afterAll(async () => {
    await Promise.all(daemons.map((d) => d.stop()));
  });

  let writer: DaemonProcess;
  let standby: DaemonProcess;

  it('the first daemon takes the lease and writes; the second plans, reports drift, writes nothing, and names the holder', async () => {
    // The writer cycles only when triggered here, so that the drift below stays until the standby saw it.
    writer = await start('10m');
    const acquired = await writer.waitFor((e) => e.event === 'lease-acquired', 15_000, 'the lease');
    await writer.waitFor((e) => e.event === 'cycle' && e.mode === 'apply', 30_000, 'an apply cycle');
    standby = await start('1s');
    await standby.waitFor((e) => e.event === 'lease-standby' && e.holder === acquired.holder, 15_000, 'the standby event naming the writer');
    await standby.waitFor((e) => e.event === 'cycle' && e.mode === 'plan', 30_000, 'a plan cycle');

    const fromWriter = writer.mark();
    const fromStandby = standby.mark();
    await setDesiredCount('shop-users', 7);
    await standby.waitFor((e) => e.event === 'drift' && String(e.msg).includes('users'), 20_000, 'the standby to report the drift', fromStandby);
    expect(await desiredCount('shop-users')).toBe(7);
    expect((await writer.post('/reconcile', TOKEN)).status).toBe(202);
    await writer.waitFor((e) => e.event === 'change' && e.dryRun !== true && String(e.msg).includes('shop-users'), 20_000, 'the writer to correct it', fromWriter);
    expect(await desiredCount('shop-users')).toBe(2);

    expect(standby.events.filter((e) => e.event === 'cycle').every((e) => e.mode === 'plan')).toBe(true);
    expect(writes(standby.events)).toBe(0);
    expect(standby.events.filter((e) => e.event === 'change' && e.dryRun !== true)).toEqual([]);
    expect(writes(writer.events)).toBeGreaterThan(0);

    const [writerLease, standbyLease] = await Promise.all([lease(writer), lease(standby)]);
    // The apply before took generation 1 and released it: the daemon holds the next one.
    expect(acquired.generation).toBe(2);
    expect(writerLease).toMatchObject({ enabled: true, role: 'holder', holder: acquired.holder, self: acquired.holder, generation: 2 });
    expect(standbyLease).toMatchObject({ enabled: true, role: 'standby', holder: acquired.holder, generation: 2 });
    expect(standbyLease.self).not.toBe(acquired.holder);
    expect(await held(writer)).toBe(1);
    expect(await held(standby)).toBe(0);
  }, 120_000);

  it('`converge apply` is refused while a daemon holds the lease, and goes ahead with --force', async () => {
    const started = Date.now();
    const refused = await runCli(['apply', '--source', seed.source], env());
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/converge apply: converge daemon:\S+ holds the writer lease s3:\/\/\S+\/\.converge\/lease\.json and renews it/);
    expect(refused.stderr).toMatch(/--force/);
    expect(refused.stdout).not.toMatch(/"event":"change"/);
    // Refused as soon as the holder was seen renewing: well within one lease duration.
    expect(Date.now() - started).toBeLessThan(LEASE_MS + 5_000);

    const forced = await runCli(['apply', '--source', seed.source, '--force'], env());
    expect(forced.code, forced.stderr.slice(-2000)).toBe(0);
    expect(forced.stdout).toMatch(/"event":"lease-override"/);
  }, 60_000);

  it('a SIGKILLed writer is replaced within one lease duration, and the new writer corrects drift', async () => {
    const killedAt = Date.now();
    writer.kill('SIGKILL');
    await writer.exited;
    const acquired = await standby.waitFor((e) => e.event === 'lease-acquired', LEASE_MS * 3, 'the standby to take over');
    const tookMs = Date.parse(String(acquired.time)) - killedAt;
    // One duration from the last renewal it saw, plus one look of the standby (every quarter).
    expect(tookMs).toBeLessThanOrEqual(LEASE_MS + RENEW_MS + 1_000);
    expect(acquired.generation).toBe(3);
    expect(acquired.released).toBe(false);

    const from = standby.mark();
    await standby.waitFor((e) => e.event === 'cycle' && e.mode === 'apply', 20_000, 'an apply cycle of the new writer', from);
    await setDesiredCount('shop-users', 6);
    await standby.waitFor((e) => e.event === 'change' && e.dryRun !== true && String(e.msg).includes('shop-users'), 20_000, 'the new writer to correct drift', from);
    expect(await desiredCount('shop-users')).toBe(2);
    expect(await lease(standby)).toMatchObject({ role: 'holder', generation: 3 });
    console.log(JSON.stringify({ lease: 'takeover', leaseMs: LEASE_MS, tookMs }));
  }, 60_000);

  it('a writer stopped with SIGTERM releases the lease: `converge apply` takes it at once', async () => {
    await standby.stop();
    expect(standby.events.some((e) => e.event === 'lease-released')).toBe(true);
    const started = Date.now();
    const applied = await runCli(['apply', '--source', seed.source], env());
    expect(applied.code, applied.stderr.slice(-2000)).toBe(0);
    expect(applied.stderr).not.toMatch(/waiting to see whether it still renews/);
    expect(applied.stdout).toMatch(/"event":"lease-acquired".*"released":true/);
    expect(Date.now() - started).toBeLessThan(LEASE_MS * 3);
  }, 60_000);
});
