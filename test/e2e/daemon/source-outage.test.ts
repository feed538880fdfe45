/**
 * The desired-state bucket disappears under a running daemon (deleted, or converge may no longer
 * read it): the last valid revision stays enforced, drift is still corrected, the log, `/status`
 * and `/metrics` say the source is unreadable, and everything recovers when the bucket is back.
 * The daemon and its Controller run in this process against the emulator.
 */
import { DescribeServicesCommand, ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { DeleteBucketCommand, DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedEnvironment, type SeedResult } from '../../../scripts/seed.js';
import { Controller, type CycleSummary } from '../../../src/controller.js';
import { Daemon, type DaemonAddress } from '../../../src/daemon/daemon.js';
import type { StatusDocument } from '../../../src/daemon/status.js';
import { ConvergeMetrics } from '../../../src/metrics.js';
import { captureLogs } from '../../support/log-capture.js';
import { useMoto } from '../../support/moto.js';

const EXAMPLE = fileURLToPath(new URL('../../../desired-state/examples/shop/', import.meta.url));
const TOKEN = 'e2e-source-outage-token-91d2';

describe('an unreadable desired-state source (moto)', () => {
  const moto = useMoto({ setProcessEnv: true, env: { CONVERGE_EMULATOR_DEPLOY_STEPS: '0', MOTO_ACM_VALIDATION_WAIT: '0' } });
  let seed: SeedResult;
  let controller: Controller;
  let daemon: Daemon;
  let address: DaemonAddress;
  const logs = captureLogs();

  const reconcile = async (): Promise<CycleSummary> => {
    const answer = await fetch(`${address.url}/reconcile?wait=true`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(answer.status).toBe(200);
    return (await answer.json()) as CycleSummary;
  };
  const status = async (): Promise<StatusDocument> => (await (await fetch(`${address.url}/status`)).json()) as StatusDocument;
  const metric = async (name: string): Promise<number | undefined> => {
    const text = await (await fetch(`${address.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line === undefined ? undefined : Number(line.slice(name.length + 1));
  };
  const withEcs = async <T>(fn: (ecs: ECSClient) => Promise<T>): Promise<T> => {
    const ecs = new ECSClient(moto.clientConfig);
    try {
      return await fn(ecs);
    } finally {
      ecs.destroy();
    }
  };
  const desiredCount = (service: string) =>
    withEcs(async (ecs) => (await ecs.send(new DescribeServicesCommand({ cluster: 'shop', services: [service] }))).services?.[0]?.desiredCount);
  const setDesiredCount = (service: string, count: number) => withEcs((ecs) => ecs.send(new UpdateServiceCommand({ cluster: 'shop', service, desiredCount: count })));

  /** Empties and deletes the bucket: the desired state and converge's published gateway configurations with it. */
  const deleteBucket = async (): Promise<void> => {
    const s3 = new S3Client({ ...moto.clientConfig, forcePathStyle: true });
    try {
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: seed.bucket }));
      const keys = (listed.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
      if (keys.length > 0) await s3.send(new DeleteObjectsCommand({ Bucket: seed.bucket, Delete: { Objects: keys } }));
      await s3.send(new DeleteBucketCommand({ Bucket: seed.bucket }));
    } finally {
      s3.destroy();
    }
  };

  beforeAll(async () => {
    seed = await seedEnvironment({ endpoint: moto.endpoint, documentsDir: EXAMPLE });
    controller = new Controller({ source: seed.source, log: logs.log });
    daemon = new Daemon(
      controller,
      { intervalMs: 600_000, watchIntervalMs: 600_000, cycleTimeoutMs: 120_000, shutdownTimeoutMs: 5_000, listen: { host: '127.0.0.1', port: 0 }, triggerToken: TOKEN },
      logs.log,
      new ConvergeMetrics(),
    );
    address = await daemon.start();
  }, 120_000);

  afterAll(async () => {
    await daemon?.stop('test over');
    controller?.close();
  });

  it('converges first', async () => {
    let summary: CycleSummary | undefined;
    for (let pass = 0; pass < 8 && summary?.outcome !== 'converged'; pass += 1) summary = await reconcile();
    expect(summary?.outcome, JSON.stringify(summary?.resources.filter((r) => r.state !== 'InSync'), null, 2)).toBe('converged');
    expect(summary?.source).toMatchObject({ healthy: true });
    expect((await status()).sourceHealth).toMatchObject({ healthy: true });
    expect(await metric('converge_source_healthy')).toBe(1);
  }, 240_000);

  it('keeps enforcing the last valid revision while the bucket is gone, and says so', async () => {
    const enforced = (await status()).enforcedRevision;
    expect(enforced).toMatch(/^sha256:/);
    await deleteBucket();
    await setDesiredCount('shop-users', 7);
    const from = logs.events.length;

    const summary = await reconcile();
    // Drift is corrected under the last valid revision.
    expect(summary.revision).toBe(enforced);
    const users = summary.resources.find((r) => r.resource === 'AWS::ECS::Service shop-users');
    expect(users?.drift).toEqual([expect.objectContaining({ field: 'desiredCount', desired: 2, live: 7 })]);
    expect(users?.state).toBe('InSync');
    expect(await desiredCount('shop-users')).toBe(2);
    // The source error: in the summary, the log, /status and /metrics.
    expect(summary.source).toMatchObject({ healthy: false, failures: 1, error: expect.stringContaining(seed.bucket) as unknown });
    const events = logs.events.slice(from);
    const sourceError = events.find((e) => e.event === 'source-error');
    expect(sourceError).toMatchObject({ level: 'error', source: seed.source, enforcedRevision: enforced, failures: 1 });
    expect(String(sourceError?.error)).toMatch(/does not exist/);
    expect(String(sourceError?.error).length).toBeLessThanOrEqual(300);
    expect(JSON.stringify(events)).not.toMatch(/test:test|secretAccessKey|X-Amz-Signature/i);
    const state = await status();
    expect(state.sourceHealth).toMatchObject({ healthy: false, failures: 1 });
    expect(state.enforcedRevision).toBe(enforced);
    expect(state.ready).toBe(true);
    expect(state.lastCycle?.source).toMatchObject({ healthy: false });
    expect(await metric('converge_source_healthy')).toBe(0);
    expect(await metric('converge_source_errors_total')).toBe(1);
    expect((await fetch(`${address.url}/readyz`)).status).toBe(200);
  }, 120_000);

  it('recovers when the bucket is back', async () => {
    await seedEnvironment({ endpoint: moto.endpoint, documentsDir: EXAMPLE });
    const from = logs.events.length;
    let summary = await reconcile();
    expect(summary.source).toMatchObject({ healthy: true });
    expect(logs.events.slice(from).filter((e) => e.event === 'source-recovered')).toEqual([expect.objectContaining({ level: 'info', failures: 1 })]);
    // The gateway configuration went with the bucket: converge publishes it again.
    for (let pass = 0; pass < 4 && summary.outcome !== 'converged'; pass += 1) summary = await reconcile();
    expect(summary.outcome, JSON.stringify(summary.resources.filter((r) => r.state !== 'InSync'), null, 2)).toBe('converged');
    expect((await status()).sourceHealth).toMatchObject({ healthy: true });
    expect(await metric('converge_source_healthy')).toBe(1);
    expect(await metric('converge_source_errors_total')).toBe(1);
  }, 120_000);
});
