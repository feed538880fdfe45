/**
 * From commit to converge, end to end: `converge run` as a child process against the emulator, a
 * git work tree made in the test, and `converge publish` run as users run it.
 *
 * 1. A bucket without a manifest behaves as before: a document uploaded by hand is applied.
 * 2. The first publish from a git work tree (onto those documents: a baseline pins them first)
 *    puts the commit into the cycle events, `/status` and the status document; a steady cycle makes
 *    as many AWS calls as before the manifest existed.
 * 3. Publishing the same folder again uploads nothing and leaves the manifest alone.
 * 4. A hand upload after a publish is not applied, and is reported after the grace period (2 s
 *    here); the next publish applies it, and its change event names the commit.
 * 5. Drift events name the enforced commit; an invalid folder is not published (the bucket does not
 *    change).
 */
import { DescribeServicesCommand, ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedEnvironment, type SeedResult } from '../../../scripts/seed.js';
import { runCli } from '../../support/cli.js';
import { DaemonProcess, type LogEvent } from '../../support/daemon-process.js';
import { useMoto } from '../../support/moto.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const EXAMPLE = join(ROOT, 'desired-state', 'examples', 'shop');
const GRACE = '2s';
const exec = promisify(execFile);

interface StatusView {
  enforcedRevision: string | null;
  provenance: { commit?: string; subject?: string; author?: string; dirty?: boolean; publishedAt: string; baseline?: boolean } | null;
  publication: { state: string; since?: string; overdue?: boolean; differences?: { key: string; change: string }[] } | null;
  lastCycle: { revision?: string; commit?: string; commitSubject?: string } | null;
}

describe('converge publish and the daemon (converge run on the emulator)', () => {
  const moto = useMoto({ env: { CONVERGE_EMULATOR_DEPLOY_STEPS: '0', MOTO_ACM_VALIDATION_WAIT: '0' } });
  let seed: SeedResult;
  let daemon: DaemonProcess;
  let repo: string;
  let services = '';
  const commits: string[] = [];

  const s3 = (): S3Client => new S3Client({ ...moto.clientConfig, forcePathStyle: true });
  const manifestKey = (): string => `${seed.prefix}.converge/manifest.json`;
  const uploadByHand = async (file: string, body: string): Promise<void> => {
    const client = s3();
    await client.send(new PutObjectCommand({ Bucket: seed.bucket, Key: `${seed.prefix}${file}`, Body: body }));
    client.destroy();
  };
  /** Every key and ETag under the prefix. */
  const bucketSnapshot = async (): Promise<string[]> => {
    const client = s3();
    const listed = await client.send(new ListObjectsV2Command({ Bucket: seed.bucket, Prefix: seed.prefix }));
    client.destroy();
    return (listed.Contents ?? []).map((o) => `${o.Key ?? ''} ${o.ETag ?? ''}`).sort();
  };
  const manifestEtag = async (): Promise<string> => {
    const client = s3();
    const head = await client.send(new HeadObjectCommand({ Bucket: seed.bucket, Key: manifestKey() }));
    client.destroy();
    return head.ETag ?? '';
  };
  const usersCount = async (): Promise<number | undefined> => {
    const ecs = new ECSClient(moto.clientConfig);
    const answer = await ecs.send(new DescribeServicesCommand({ cluster: 'shop', services: ['shop-users'] }));
    ecs.destroy();
    return answer.services?.[0]?.desiredCount;
  };
  const git = (...args: string[]) => exec('git', ['-c', 'user.name=Grace Hopper', '-c', 'user.email=grace@example.com', '-c', 'commit.gpgsign=false', ...args], { cwd: repo });
  /** Writes services.yaml into the work tree and commits it; returns the commit. */
  const commitServices = async (text: string, subject: string): Promise<string> => {
    await writeFile(join(repo, 'env', 'services.yaml'), text);
    await git('commit', '-q', '-am', subject);
    const head = (await git('rev-parse', 'HEAD')).stdout.trim();
    commits.push(head);
    return head;
  };
  const publish = (...extra: string[]) => runCli(['publish', '--source', join(repo, 'env'), '--to', seed.source, ...extra], moto.env);
  const status = async (): Promise<StatusView> => (await (await daemon.get('/status')).json()) as StatusView;
  const interval = (from: number): Promise<LogEvent> => daemon.nextCycle(from, 30_000, 'interval');

  beforeAll(async () => {
    seed = await seedEnvironment({ endpoint: moto.endpoint, documentsDir: EXAMPLE });
    services = await readFile(join(EXAMPLE, 'services.yaml'), 'utf8');
    repo = await mkdtemp(join(tmpdir(), 'converge-publish-e2e-'));
    daemon = await new DaemonProcess(['--source', seed.source, '--interval', '2s', '--watch-interval', '500ms', '--listen', '127.0.0.1:0'], {
      ...moto.env,
      CONVERGE_PUBLISH_GRACE: GRACE,
    }).started();
    await daemon.waitFor((e) => e.event === 'cycle' && e.outcome === 'converged', 180_000, 'a converged cycle');
  }, 300_000);

  afterAll(async () => {
    await daemon?.stop();
    if (repo) await rm(repo, { recursive: true, force: true });
  });

  let stepBefore = 0;

  it('without a manifest, a document uploaded by hand is applied as before', async () => {
    expect((await status()).publication).toMatchObject({ state: 'none' });
    expect((await status()).provenance).toBeNull();
    const from = daemon.mark();
    services = services.replace('desiredCount: 2', 'desiredCount: 3');
    await uploadByHand('services.yaml', services);
    await daemon.waitFor((e) => e.event === 'change' && e.resource === 'AWS::ECS::Service shop-users' && e.action === 'update', 30_000, 'the users update', from);
    expect(await usersCount()).toBe(3);
    expect(daemon.of('cycle', from).every((e) => e.commit === undefined)).toBe(true);
    // The steady cost before any manifest: the smaller of two interval cycles once converged.
    const settled = daemon.mark();
    await daemon.waitFor((e) => e.event === 'cycle' && e.outcome === 'converged', 30_000, 'a converged cycle', settled);
    const a = await interval(daemon.mark());
    const b = await interval(daemon.mark());
    expect([a.outcome, b.outcome]).toEqual(['converged', 'converged']);
    stepBefore = Math.min(Number(a.awsCalls), Number(b.awsCalls));
  }, 120_000);

  it('the first publish from a git work tree: the commit is in the cycle events and /status, and a steady cycle costs what it did', async () => {
    await cp(EXAMPLE, join(repo, 'env'), { recursive: true });
    await writeFile(join(repo, 'env', 'services.yaml'), services);
    await git('init', '-q');
    await git('add', '.');
    await git('commit', '-q', '-m', 'Adopt the shop environment');
    const head = (await git('rev-parse', 'HEAD')).stdout.trim();
    commits.push(head);

    const from = daemon.mark();
    const published = await publish();
    expect(published.code, published.stderr).toBe(0);
    expect(published.stderr).toMatch(new RegExp(`^provenance: commit ${head} "Adopt the shop environment" by Grace Hopper <grace@example.com> \\(clean\\)$`, 'm'));
    expect(published.stderr).toMatch(/^baseline: s3:\/\/.*\.converge\/manifest\.json pins the 4 document\(s\)/m);
    expect(published.stderr).toMatch(/^published: s3:\/\/.* \(0 uploaded, 0 deleted, 4 unchanged\)/m);

    const cycle = await daemon.waitFor((e) => e.event === 'cycle' && e.commit === head, 30_000, 'a cycle with the commit', from);
    expect(cycle).toMatchObject({ commitSubject: 'Adopt the shop environment', outcome: 'converged' });
    const view = await status();
    expect(view.provenance).toMatchObject({ commit: head, subject: 'Adopt the shop environment', author: 'Grace Hopper <grace@example.com>', dirty: false });
    expect(view.publication).toMatchObject({ state: 'published' });
    expect(view.lastCycle).toMatchObject({ commit: head, commitSubject: 'Adopt the shop environment' });

    // The manifest is one more object in the listing the cycle makes anyway: no call more.
    const a = await interval(daemon.mark());
    const b = await interval(daemon.mark());
    expect([a.commit, b.commit]).toEqual([head, head]);
    expect(Math.min(Number(a.awsCalls), Number(b.awsCalls))).toBe(stepBefore);
  }, 120_000);

  it('publishing the same folder again uploads nothing and leaves the manifest alone', async () => {
    const etag = await manifestEtag();
    const before = await bucketSnapshot();
    const again = await publish();
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/^nothing to publish: s3:\/\/.* already holds this revision \(0 uploaded, 0 deleted, 4 unchanged\)/m);
    expect(await manifestEtag()).toBe(etag);
    // Only converge's own objects (the status document, the lease) may have changed meanwhile.
    const documents = (keys: string[]) => keys.filter((line) => !line.includes('.converge/'));
    expect(documents(await bucketSnapshot())).toEqual(documents(before));
  }, 60_000);

  it('a hand upload after a publish is not applied and is reported after the grace period; the next publish applies it', async () => {
    const enforced = (await status()).enforcedRevision;
    let from = daemon.mark();
    const edited = services.replace('desiredCount: 3', 'desiredCount: 4');
    await uploadByHand('services.yaml', edited);
    const reported = await daemon.waitFor((e) => e.event === 'source-unpublished', 20_000, 'source-unpublished', from);
    expect(reported).toMatchObject({ level: 'warn', keys: [`${seed.prefix}services.yaml`], enforcedRevision: enforced, commit: commits[0] });
    expect(Date.parse(String(reported.time)) - Date.parse(String(reported.since))).toBeGreaterThanOrEqual(2_000);
    await interval(daemon.mark());
    await interval(daemon.mark());
    expect(daemon.of('source-unpublished', from)).toHaveLength(1);
    expect(daemon.of('cycle', from).every((e) => e.revision === enforced)).toBe(true);
    expect(daemon.of('change', from).filter((e) => e.resource === 'AWS::ECS::Service shop-users')).toHaveLength(0);
    expect(await usersCount()).toBe(3);
    expect((await status()).publication).toMatchObject({ state: 'unpublished', overdue: true, differences: [{ key: `${seed.prefix}services.yaml`, change: 'changed' }] });

    from = daemon.mark();
    const head = await commitServices(edited, 'Scale users to 4');
    const published = await publish();
    expect(published.code, published.stderr).toBe(0);
    expect(published.stderr).toMatch(/^published: s3:\/\/.* \(1 uploaded, 0 deleted, 3 unchanged\)/m);
    // S3 keeps the SHA-256 publish sent with the upload (and verified it).
    const checksums = s3();
    const stored = await checksums.send(new HeadObjectCommand({ Bucket: seed.bucket, Key: `${seed.prefix}services.yaml`, ChecksumMode: 'ENABLED' }));
    checksums.destroy();
    expect(stored.ChecksumSHA256).toBe(createHash('sha256').update(edited).digest('base64'));
    const change = await daemon.waitFor((e) => e.event === 'change' && e.resource === 'AWS::ECS::Service shop-users' && e.action === 'update', 30_000, 'the users update', from);
    expect(change).toMatchObject({ commit: head, commitSubject: 'Scale users to 4', kind: 'Service', name: 'users' });
    expect(await usersCount()).toBe(4);
    expect(daemon.of('source-published', from)).toHaveLength(1);
    const view = await status();
    expect(view.provenance).toMatchObject({ commit: head, subject: 'Scale users to 4' });
    expect(view.publication).toMatchObject({ state: 'published' });

    // The status document and `converge status` say which commit is enforced.
    await daemon.waitFor((e) => e.event === 'status-written', 20_000, 'status-written', from);
    const client = s3();
    const doc = JSON.parse(await (await client.send(new GetObjectCommand({ Bucket: seed.bucket, Key: `${seed.prefix}.converge/status.json` }))).Body!.transformToString()) as StatusView;
    client.destroy();
    expect(doc.provenance).toMatchObject({ commit: head, subject: 'Scale users to 4' });
    const table = await runCli(['status', '--source', seed.source], moto.env);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`^Published {5}commit ${head} "Scale users to 4" by Grace Hopper <grace@example.com>, [\\dms ]+ ago$`, 'm'));
  }, 120_000);

  it('drift events name the enforced commit', async () => {
    const from = daemon.mark();
    const ecs = new ECSClient(moto.clientConfig);
    await ecs.send(new UpdateServiceCommand({ cluster: 'shop', service: 'shop-users', desiredCount: 7 }));
    ecs.destroy();
    const drift = await daemon.waitFor((e) => e.event === 'drift' && e.resource === 'AWS::ECS::Service shop-users', 30_000, 'the drift', from);
    expect(drift).toMatchObject({ field: 'desiredCount', commit: commits.at(-1), commitSubject: 'Scale users to 4' });
  }, 60_000);

  it('an invalid folder is not published: nothing in the bucket changes', async () => {
    await commitServices(services.replace('cpu: 256', 'cpu: lots'), 'Break users');
    const before = await bucketSnapshot();
    const etag = await manifestEtag();
    const refused = await publish();
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/invalid desired state/);
    expect(refused.stderr).toMatch(/^not published: .* is invalid; nothing was uploaded to s3:\/\//m);
    expect(await manifestEtag()).toBe(etag);
    const documents = (keys: string[]) => keys.filter((line) => !line.includes('.converge/'));
    expect(documents(await bucketSnapshot())).toEqual(documents(before));
  }, 60_000);
});
