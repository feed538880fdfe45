/**
 * A desired-state revision that is too large, or broken with a secret in it, under a running
 * daemon: the large object is refused from its listed size without a download, nothing is
 * written for it and the last valid revision stays enforced; the broken one reaches neither the
 * log nor `/status` with the secret, and what they show is bounded. The daemon and its
 * Controller run in this process against the emulator.
 */
import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatBytes, MAX_FILE_BYTES, MAX_ISSUE_MESSAGE_CHARS, MAX_ISSUES } from '../../../desired-state/limits.js';
import { seedEnvironment, type SeedResult } from '../../../scripts/seed.js';
import { Controller, type CycleSummary } from '../../../src/controller.js';
import { Daemon, type DaemonAddress } from '../../../src/daemon/daemon.js';
import type { StatusDocument } from '../../../src/daemon/status.js';
import { ConvergeMetrics } from '../../../src/metrics.js';
import { captureLogs } from '../../support/log-capture.js';
import { useMoto } from '../../support/moto.js';

const EXAMPLE = fileURLToPath(new URL('../../../desired-state/examples/shop/', import.meta.url));
const TOKEN = 'e2e-hostile-desired-state-token-5e07';
const SECRET = 'sk_live_51HfakeFAKEfake0000';

describe('an oversized or broken desired-state revision under the daemon (moto)', () => {
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
  const statusText = async (): Promise<string> => (await fetch(`${address.url}/status`)).text();
  const status = async (): Promise<StatusDocument> => JSON.parse(await statusText()) as StatusDocument;
  const withS3 = async <T>(fn: (s3: S3Client) => Promise<T>): Promise<T> => {
    const s3 = new S3Client({ ...moto.clientConfig, forcePathStyle: true });
    try {
      return await fn(s3);
    } finally {
      s3.destroy();
    }
  };
  const put = (name: string, body: string) => withS3((s3) => s3.send(new PutObjectCommand({ Bucket: seed.bucket, Key: `${seed.prefix}${name}`, Body: body })));
  const remove = (name: string) => withS3((s3) => s3.send(new DeleteObjectCommand({ Bucket: seed.bucket, Key: `${seed.prefix}${name}` })));
  const fileName = (name: string): string => `s3://${seed.bucket}/${seed.prefix}${name}`;

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
  }, 240_000);

  it('refuses an object over the size limit from its listed size, writes nothing and keeps enforcing the last valid revision', async () => {
    const enforced = (await status()).enforcedRevision;
    expect(enforced).toMatch(/^sha256:/);
    await put('oversized.yaml', `# ${'x'.repeat(MAX_FILE_BYTES)}\n`);
    const from = logs.events.length;

    const summary = await reconcile();
    expect(summary.revision).toBe(enforced);
    expect(summary.rejectedRevision).toMatch(/^sha256:/);
    expect(summary.rejectedRevision).not.toBe(enforced);
    expect(summary.outcome).toBe('converged');
    expect(summary.awsWrites, JSON.stringify(summary.callsByOperation)).toBe(0);
    // Known from the listing: the object is never downloaded.
    expect(summary.callsByOperation['S3:GetObject'] ?? 0).toBe(0);
    const refusal = {
      file: fileName('oversized.yaml'),
      path: '',
      message: `the file is ${formatBytes(MAX_FILE_BYTES + 3)}; a desired-state file may be at most ${formatBytes(MAX_FILE_BYTES)}, so it was not read`,
    };
    expect(summary.invalid).toEqual([refusal]);
    expect(logs.events.slice(from).filter((e) => e.event === 'invalid-desired-state')).toEqual([expect.objectContaining({ level: 'error', revision: summary.rejectedRevision, errors: [refusal] })]);
    const state = await status();
    expect(state.enforcedRevision).toBe(enforced);
    expect(state.rejected).toEqual({ revision: summary.rejectedRevision, issues: [refusal] });

    // Logged once per revision, however many cycles see it.
    const again = await reconcile();
    expect(again.awsWrites).toBe(0);
    expect(logs.events.slice(from).filter((e) => e.event === 'invalid-desired-state')).toHaveLength(1);

    await remove('oversized.yaml');
    const back = await reconcile();
    expect(back.revision).toBe(enforced);
    expect(back.rejectedRevision).toBeUndefined();
    expect((await status()).rejected).toBeNull();
  }, 120_000);

  it('shows neither a secret from a broken YAML file nor more than the bounds, in the log and in /status', async () => {
    const enforced = (await status()).enforcedRevision;
    // The yaml package's own message for this quotes the token: `Unexpected scalar token in YAML stream: "DB_PASSWORD=sk_live_...QQQ..."`.
    await put('broken.yaml', `*{,DB_PASSWORD=${SECRET}${'Q'.repeat(200_000)}\n`);
    // And far more problems than are listed.
    await put('noise.yaml', `apiVersion: converge/v1\nkind: Frontend\nmetadata: { name: noise }\nspec:\n${Array.from({ length: 300 }, (_, i) => `  f${i}: ${SECRET}`).join('\n')}\n`);
    const from = logs.events.length;

    const summary = await reconcile();
    expect(summary.revision).toBe(enforced);
    expect(summary.awsWrites).toBe(0);
    const events = logs.events.slice(from);
    const invalid = events.filter((e) => e.event === 'invalid-desired-state');
    expect(invalid).toHaveLength(1);
    const errors = invalid[0]?.errors as { file: string; path: string; message: string }[];
    expect(errors).toHaveLength(MAX_ISSUES);
    expect(errors.some((e) => e.file === fileName('broken.yaml') && /^YAML syntax error at line 1, column \d+: /.test(e.message))).toBe(true);
    expect(errors[MAX_ISSUES - 1]?.message).toMatch(/more problems are not shown/);
    for (const error of errors) expect(error.message.length).toBeLessThanOrEqual(MAX_ISSUE_MESSAGE_CHARS);
    expect(JSON.stringify(events)).not.toContain(SECRET);
    expect(JSON.stringify(events)).not.toContain('QQQQ');
    expect(JSON.stringify(invalid[0]).length).toBeLessThan(MAX_ISSUES * 1_000);

    const text = await statusText();
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('QQQQ');
    const state = JSON.parse(text) as StatusDocument;
    expect(state.enforcedRevision).toBe(enforced);
    expect(state.rejected?.issues).toEqual(errors);

    await remove('broken.yaml');
    await remove('noise.yaml');
    expect((await reconcile()).rejectedRevision).toBeUndefined();
  }, 120_000);
});
