/**
 * The S3 source with a publish manifest: only a listing that matches the manifest is a revision; a
 * listing that differs keeps the last revision loaded and is reported once after the grace
 * period; a same-bytes upload with another ETag is still the published revision; a steady listing
 * makes no call beyond the one ListObjectsV2 it made before manifests existed.
 */
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, it } from 'vitest';
import { checksumSHA256, serializeManifest, type Manifest } from '../../../src/source/manifest.js';
import { DesiredStateSourceError, openSource, publishGraceFromEnv, type DesiredStateSource } from '../../../src/source/source.js';
import { captureLogs } from '../../support/log-capture.js';
import { client, FakeBucket, s3Mock } from './fake-s3.js';

const MANIFEST = 'shop/.converge/manifest.json';
const COMMIT = '0123456789abcdef0123456789abcdef01234567';

let bucket: FakeBucket;
let clock: number;
beforeEach(() => {
  bucket = new FakeBucket();
  clock = 1_000_000;
});

/** What `converge publish` writes: the documents, then a manifest naming their ETags and checksums. */
function publishDocuments(documents: Record<string, string>, subject: string, commit = COMMIT): void {
  const entries = Object.entries(documents).map(([name, content]) => {
    const key = `shop/${name}`;
    const etag = bucket.put(key, content);
    return { key, checksumSHA256: checksumSHA256(content), etag, size: Buffer.byteLength(content) };
  });
  const manifest: Manifest = { apiVersion: 'converge/v1', kind: 'Manifest', publishedAt: new Date(clock).toISOString(), provenance: { commit, subject, from: 'git' }, documents: entries };
  bucket.put(MANIFEST, serializeManifest(manifest));
}

function source(graceMs = 60_000): { source: DesiredStateSource; events: ReturnType<typeof captureLogs> } {
  const events = captureLogs();
  return { source: openSource('s3://configs/shop/', client, { log: events.log, publishGraceMs: graceMs, now: () => clock }), events };
}

describe('the S3 source with a publish manifest', () => {
  it('without a manifest, every listing is a revision as before (publication: none)', async () => {
    const { source: s } = source();
    bucket.put('shop/environment.yaml', 'kind: Environment\n');
    const first = await s.load();
    expect(first.provenance).toBeUndefined();
    expect(s.publication).toEqual({ state: 'none', graceMs: 60_000 });
    bucket.put('shop/services.yaml', 'kind: Service\n');
    const second = await s.load();
    expect(second.revision).not.toBe(first.revision);
    expect(second.files).toHaveLength(2);
  });

  it('loads a published listing with its provenance', async () => {
    const { source: s } = source();
    publishDocuments({ 'environment.yaml': 'kind: Environment\n', 'services.yaml': 'kind: Service\n' }, 'Add users');
    const loaded = await s.load();
    expect(loaded.files.map((f) => f.file)).toEqual(['s3://configs/shop/environment.yaml', 's3://configs/shop/services.yaml']);
    expect(loaded.provenance).toEqual({ commit: COMMIT, subject: 'Add users', publishedAt: new Date(clock).toISOString() });
    expect(await s.revision()).toBe(loaded.revision);
    expect(s.publication).toEqual({ state: 'published', manifest: 's3://configs/shop/.converge/manifest.json', graceMs: 60_000 });
  });

  it('a steady listing costs one ListObjectsV2 and no GetObject, as without a manifest', async () => {
    const { source: s } = source();
    publishDocuments({ 'environment.yaml': 'kind: Environment\n' }, 'One');
    await s.load();
    const lists = bucket.calls(ListObjectsV2Command);
    const gets = bucket.calls(GetObjectCommand);
    await s.revision();
    await s.load();
    await s.revision();
    expect(bucket.calls(ListObjectsV2Command) - lists).toBe(3);
    expect(bucket.calls(GetObjectCommand) - gets).toBe(0);
  });

  it('a hand upload after a publish is not a revision: the last one stays, and it is reported once after the grace period', async () => {
    const { source: s, events } = source(60_000);
    publishDocuments({ 'environment.yaml': 'kind: Environment\n', 'services.yaml': 'kind: Service\n' }, 'Add users');
    const published = await s.load();

    bucket.put('shop/services.yaml', 'kind: Service\n# edited by hand\n');
    bucket.put('shop/extra.yaml', 'kind: Service\n');
    expect(await s.revision()).toBe(published.revision);
    const during = await s.load();
    expect(during).toEqual(published);
    expect(s.publication).toMatchObject({
      state: 'unpublished',
      since: new Date(clock).toISOString(),
      overdue: false,
      differences: [
        { key: 'shop/extra.yaml', change: 'added' },
        { key: 'shop/services.yaml', change: 'changed' },
      ],
    });
    expect(events.ofEvent('source-unpublished')).toHaveLength(0);

    clock += 59_000;
    await s.revision();
    expect(events.ofEvent('source-unpublished')).toHaveLength(0);
    clock += 2_000;
    await s.revision();
    await s.load();
    const reported = events.ofEvent('source-unpublished');
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatchObject({
      level: 'warn',
      keys: ['shop/extra.yaml', 'shop/services.yaml'],
      enforcedRevision: published.revision,
      commit: COMMIT,
      commitSubject: 'Add users',
      manifest: 's3://configs/shop/.converge/manifest.json',
    });
    expect(String(reported[0]?.msg)).toContain('changed shop/services.yaml');
    expect(s.publication).toMatchObject({ state: 'unpublished', overdue: true });

    // Another key changes: named again.
    bucket.put('shop/environment.yaml', 'kind: Environment\n# also by hand\n');
    await s.revision();
    expect(events.ofEvent('source-unpublished')).toHaveLength(2);

    // The next publish is the new revision, with its provenance; the recovery is logged.
    publishDocuments({ 'environment.yaml': 'kind: Environment\n# also by hand\n', 'services.yaml': 'kind: Service\n# edited by hand\n', 'extra.yaml': 'kind: Service\n' }, 'Adopt the hand edits', 'f'.repeat(40));
    const next = await s.load();
    expect(next.revision).not.toBe(published.revision);
    expect(next.provenance).toMatchObject({ commit: 'f'.repeat(40), subject: 'Adopt the hand edits' });
    expect(next.files.find((f) => f.file.endsWith('services.yaml'))?.content).toBe('kind: Service\n# edited by hand\n');
    expect(events.ofEvent('source-published')).toHaveLength(1);
    expect(s.publication?.state).toBe('published');
  });

  it('an upload in progress that completes within the grace period is never reported', async () => {
    const { source: s, events } = source(60_000);
    publishDocuments({ 'environment.yaml': 'kind: Environment\n' }, 'One');
    await s.load();
    bucket.put('shop/environment.yaml', 'kind: Environment\n# two\n');
    await s.revision();
    clock += 10_000;
    publishDocuments({ 'environment.yaml': 'kind: Environment\n# two\n' }, 'Two');
    await s.load();
    clock += 120_000;
    await s.revision();
    expect(events.ofEvent('source-unpublished')).toHaveLength(0);
    expect(events.ofEvent('source-published')).toHaveLength(0);
  });

  it('the same bytes uploaded again with another ETag are still the published revision, downloaded once to compare', async () => {
    const { source: s, events } = source(0);
    publishDocuments({ 'environment.yaml': 'kind: Environment\n' }, 'One');
    const published = await s.load();
    // Another ETag for the same bytes (SSE-KMS, a multipart upload by a sync tool).
    const object = bucket.objects.get('shop/environment.yaml');
    bucket.objects.set('shop/environment.yaml', { content: object?.content ?? '', etag: '"0123-2"' });
    const gets = bucket.calls(GetObjectCommand);
    expect((await s.revision()) === published.revision).toBe(false);
    expect(s.publication?.state).toBe('published');
    await s.revision();
    const loaded = await s.load();
    expect(loaded.files[0]?.content).toBe('kind: Environment\n');
    expect(bucket.calls(GetObjectCommand) - gets).toBe(1);
    expect(events.ofEvent('source-unpublished')).toHaveLength(0);
  });

  it('an object replaced between the listing and its download is not taken', async () => {
    const { source: s } = source();
    publishDocuments({ 'environment.yaml': 'kind: Environment\n', 'services.yaml': 'kind: Service\n' }, 'One');
    const published = await s.load();
    publishDocuments({ 'environment.yaml': 'kind: Environment\n', 'services.yaml': 'kind: Service\n# two\n' }, 'Two');
    bucket.beforeGet = (key) => {
      if (key === 'shop/services.yaml') bucket.put(key, 'kind: Service\n# three, by hand\n');
    };
    const during = await s.load();
    expect(during).toEqual(published);
    expect(s.publication?.state).toBe('unpublished');
  });

  it('with no revision loaded yet, a listing that differs from the manifest cannot be enforced: the error names the keys', async () => {
    const { source: s } = source();
    publishDocuments({ 'environment.yaml': 'kind: Environment\n' }, 'One');
    bucket.put('shop/services.yaml', 'kind: Service\n');
    expect(await s.revision()).toMatch(/^unpublished:/);
    await expect(s.load()).rejects.toThrow(DesiredStateSourceError);
    await expect(s.load()).rejects.toThrow(/differ from the published manifest s3:\/\/configs\/shop\/\.converge\/manifest\.json \(added shop\/services\.yaml\)/);
  });

  it('a manifest that is not one is a source error naming the object and the field', async () => {
    const { source: s } = source();
    bucket.put('shop/environment.yaml', 'kind: Environment\n');
    bucket.put(MANIFEST, JSON.stringify({ apiVersion: 'converge/v1', kind: 'Manifest', publishedAt: 'x', provenance: null, documents: [{ key: 'shop/environment.yaml', etag: '"1"', size: 1 }] }));
    await expect(s.load()).rejects.toThrow(/s3:\/\/configs\/shop\/\.converge\/manifest\.json is not a converge manifest: documents\[0\]\.checksumSHA256/);
    // Read once per ETag.
    await expect(s.revision()).rejects.toThrow(DesiredStateSourceError);
    expect(s3GetsOf(MANIFEST)).toBe(1);
  });

  it('deleting the manifest returns to reading every listing', async () => {
    const { source: s } = source();
    publishDocuments({ 'environment.yaml': 'kind: Environment\n' }, 'One');
    await s.load();
    bucket.put('shop/services.yaml', 'kind: Service\n');
    expect((await s.load()).files).toHaveLength(1);
    bucket.objects.delete(MANIFEST);
    expect((await s.load()).files).toHaveLength(2);
    expect(s.publication?.state).toBe('none');
  });

  it('reads the grace period from CONVERGE_PUBLISH_GRACE and names the variable when it cannot', () => {
    expect(publishGraceFromEnv({})).toBe(120_000);
    expect(publishGraceFromEnv({ CONVERGE_PUBLISH_GRACE: '30s' })).toBe(30_000);
    expect(publishGraceFromEnv({ CONVERGE_PUBLISH_GRACE: '0' })).toBe(0);
    expect(() => publishGraceFromEnv({ CONVERGE_PUBLISH_GRACE: 'soon' })).toThrow(/CONVERGE_PUBLISH_GRACE: cannot read "soon"/);
    expect(() => publishGraceFromEnv({ CONVERGE_PUBLISH_GRACE: '48h' })).toThrow(/CONVERGE_PUBLISH_GRACE: "48h" is longer than the maximum of 24h/);
  });
});

function s3GetsOf(key: string): number {
  return s3Mock.commandCalls(GetObjectCommand).filter((call) => call.args[0].input.Key === key).length;
}
