/**
 * `converge publish` against an S3 bucket in memory: validation first (an invalid folder sends
 * nothing), uploads with their SHA-256 and only of what changed, deletes of what left, the manifest
 * last and only when it says something new, the baseline before a first publish onto documents put
 * there another way, and a manifest changed by another publish meanwhile. The reader (the S3
 * source) takes what publish wrote as one published revision.
 */
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { cp, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { publish, type PublishOptions } from '../../../src/cli/publish.js';
import type { GitRunner } from '../../../src/source/git.js';
import { checksumSHA256, parseManifest } from '../../../src/source/manifest.js';
import { openSource } from '../../../src/source/source.js';
import { client, FakeBucket, s3Mock } from '../source/fake-s3.js';

const EXAMPLE = fileURLToPath(new URL('../../../desired-state/examples/shop/', import.meta.url));
const MANIFEST = 'shop/.converge/manifest.json';
const noGit: GitRunner = () => Promise.reject(Object.assign(new Error('spawn git ENOENT'), { code: 'ENOENT' }));

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function exampleFolder(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'converge-publish-'));
  dirs.push(dir);
  await cp(EXAMPLE, dir, { recursive: true });
  return dir;
}

let bucket: FakeBucket;
let lines: string[];
beforeEach(() => {
  bucket = new FakeBucket();
  lines = [];
});

const run = (folder: string, extra: Partial<PublishOptions> = {}) =>
  publish({ folder, to: 's3://configs/shop', s3: client(), say: (line) => lines.push(line), git: noGit, ...extra });

const puts = (): string[] => s3Mock.commandCalls(PutObjectCommand).map((call) => call.args[0].input.Key ?? '');
const manifest = () => parseManifest(bucket.text(MANIFEST) ?? '', MANIFEST);

describe('converge publish', () => {
  it('does not publish an invalid folder: no S3 call at all', async () => {
    const folder = await exampleFolder();
    await writeFile(path.join(folder, 'services.yaml'), (await readFile(path.join(folder, 'services.yaml'), 'utf8')).replace(/cpu: \d+/, 'cpu: lots'));
    bucket.put('shop/environment.yaml', 'kind: Environment\n');
    const before = bucket.snapshot();
    const result = await run(folder);
    expect(result).toEqual({ published: false, reason: 'invalid' });
    expect(s3Mock.calls()).toHaveLength(0);
    expect(bucket.snapshot()).toEqual(before);
    expect(lines.join('\n')).toMatch(/invalid desired state[\s\S]*services\.yaml[\s\S]*not published: .* is invalid; nothing was uploaded to s3:\/\/configs\/shop\//);
  });

  it('uploads every document with its SHA-256, then writes the manifest last, with the provenance of the flags', async () => {
    const folder = await exampleFolder();
    const result = await run(folder, { revision: 'build-42', message: 'Nightly' });
    expect(result).toMatchObject({ published: true, manifestWritten: true, baseline: false, deleted: [], unchanged: [] });
    const names = ['environment.yaml', 'frontend.yaml', 'gateway.yaml', 'services.yaml'];
    expect(puts().slice(0, 4).sort()).toEqual(names.map((n) => `shop/${n}`));
    expect(puts()[4]).toBe(MANIFEST);
    for (const call of s3Mock.commandCalls(PutObjectCommand).slice(0, 4)) {
      const input = call.args[0].input;
      expect(input.ChecksumSHA256).toBe(checksumSHA256(await readFile(path.join(folder, path.basename(input.Key ?? '')))));
      expect(input.ContentType).toBe('application/yaml');
      expect(input.ChecksumAlgorithm).toBe('SHA256');
    }
    const written = manifest();
    expect(written.provenance).toEqual({ commit: 'build-42', subject: 'Nightly', from: 'flags' });
    expect(written.documents.map((d) => d.key)).toEqual(names.map((n) => `shop/${n}`));
    expect(written.documents.every((d) => d.etag === bucket.objects.get(d.key)?.etag)).toBe(true);
    expect(s3Mock.commandCalls(PutObjectCommand)[4]?.args[0].input.IfNoneMatch).toBe('*');

    // What the daemon reads is that revision, with its provenance.
    const loaded = await openSource('s3://configs/shop/', client, { publishGraceMs: 0 }).load();
    expect(loaded.files).toHaveLength(4);
    expect(loaded.provenance).toMatchObject({ commit: 'build-42', subject: 'Nightly' });
  });

  it('publishing the same folder again uploads nothing and leaves the manifest alone; new provenance rewrites only the manifest', async () => {
    const folder = await exampleFolder();
    await run(folder, { revision: 'r1' });
    const before = bucket.snapshot();
    s3Mock.resetHistory();
    const again = await run(folder, { revision: 'r1' });
    expect(again).toMatchObject({ published: true, uploaded: [], deleted: [], manifestWritten: false });
    expect(again.published && again.unchanged).toHaveLength(4);
    expect(puts()).toEqual([]);
    expect(s3Mock.commandCalls(DeleteObjectCommand)).toHaveLength(0);
    expect(bucket.snapshot()).toEqual(before);
    expect(s3Mock.commandCalls(ListObjectsV2Command)).toHaveLength(1);
    expect(lines.at(-1)).toMatch(/^nothing to publish: s3:\/\/configs\/shop\/ already holds this revision/);

    const etag = bucket.objects.get(MANIFEST)?.etag;
    const renamed = await run(folder, { revision: 'r2' });
    expect(renamed).toMatchObject({ published: true, uploaded: [], manifestWritten: true });
    expect(puts()).toEqual([MANIFEST]);
    expect(s3Mock.commandCalls(PutObjectCommand)[0]?.args[0].input.IfMatch).toBe(etag);
    expect(manifest().provenance?.commit).toBe('r2');
  });

  it('uploads only what changed, deletes the documents that left, and leaves other objects alone', async () => {
    const folder = await exampleFolder();
    await run(folder);
    bucket.put('shop/notes.txt', 'not a document');
    bucket.put('shop/.converge/status.json', '{}');
    bucket.put('shop/stray.yaml', 'kind: Service\n');
    await writeFile(path.join(folder, 'frontend.yaml'), `${await readFile(path.join(folder, 'frontend.yaml'), 'utf8')}# a comment\n`);
    await unlink(path.join(folder, 'gateway.yaml'));
    // The gateway document is renamed: a new key, and the old one deleted.
    await cp(path.join(EXAMPLE, 'gateway.yaml'), path.join(folder, 'gw.yml'));
    s3Mock.resetHistory();
    const result = await run(folder);
    expect(result).toMatchObject({ published: true, uploaded: ['shop/frontend.yaml', 'shop/gw.yml'], deleted: ['shop/gateway.yaml', 'shop/stray.yaml'], manifestWritten: true });
    expect(puts()).toEqual(['shop/frontend.yaml', 'shop/gw.yml', MANIFEST]);
    expect(bucket.text('shop/notes.txt')).toBe('not a document');
    expect(bucket.text('shop/.converge/status.json')).toBe('{}');
    expect(manifest().documents.map((d) => d.key)).toEqual(['shop/environment.yaml', 'shop/frontend.yaml', 'shop/gw.yml', 'shop/services.yaml']);
  });

  it('puts back a document edited by hand since the last publish', async () => {
    const folder = await exampleFolder();
    await run(folder);
    bucket.put('shop/services.yaml', 'kind: Service\n# by hand\n');
    s3Mock.resetHistory();
    const result = await run(folder);
    expect(result).toMatchObject({ uploaded: ['shop/services.yaml'], manifestWritten: false });
    expect(bucket.text('shop/services.yaml')).toBe(await readFile(path.join(folder, 'services.yaml'), 'utf8'));
    expect(lines.at(-1)).toMatch(/^restored: s3:\/\/configs\/shop\/ holds the published revision again \(1 uploaded, 0 deleted, 3 unchanged\)/);
  });

  it('a first publish onto documents put there another way pins them with a baseline manifest before uploading', async () => {
    const folder = await exampleFolder();
    bucket.put('shop/environment.yaml', await readFile(path.join(folder, 'environment.yaml'), 'utf8'));
    bucket.put('shop/services.yaml', 'kind: Service\n# old\n');
    const result = await run(folder);
    expect(result).toMatchObject({ published: true, baseline: true, unchanged: ['shop/environment.yaml'] });
    expect(puts()[0]).toBe(MANIFEST);
    const body = s3Mock.commandCalls(PutObjectCommand)[0]?.args[0].input.Body;
    expect(typeof body).toBe('string');
    const baseline = parseManifest(body as string, MANIFEST);
    expect(baseline).toMatchObject({ baseline: true, provenance: null });
    expect(baseline.documents.map((d) => [d.key, d.checksumSHA256])).toEqual([
      ['shop/environment.yaml', checksumSHA256(await readFile(path.join(folder, 'environment.yaml')))],
      ['shop/services.yaml', checksumSHA256('kind: Service\n# old\n')],
    ]);
    expect(puts().at(-1)).toBe(MANIFEST);
    expect(manifest().baseline).toBeUndefined();
    expect(lines.some((line) => line.startsWith('baseline: s3://configs/shop/.converge/manifest.json pins the 2 document(s)'))).toBe(true);
  });

  it('fails, and says so, when another publish changed the manifest meanwhile', async () => {
    const folder = await exampleFolder();
    await run(folder, { revision: 'r1' });
    await writeFile(path.join(folder, 'frontend.yaml'), `${await readFile(path.join(folder, 'frontend.yaml'), 'utf8')}# mine\n`);
    const other = bucket.text(MANIFEST)?.replace('"r1"', '"r-other"') ?? '';
    await expect(
      run(folder, {
        revision: 'r2',
        say: (line) => {
          if (line.startsWith('uploaded')) bucket.put(MANIFEST, other);
        },
      }),
    ).rejects.toThrow(/shop\/\.converge\/manifest\.json changed while this publish ran \(another converge publish\?\)/);
    expect(manifest().provenance?.commit).toBe('r-other');
  });

  it('the command: exit codes, and the flags it needs', async () => {
    process.env.AWS_REGION ??= 'us-east-1';
    const folder = await exampleFolder();
    const out: string[] = [];
    const io = { stdout: (t: string) => out.push(t), stderr: (t: string) => out.push(t) };
    expect(await main(['publish', '--source', folder], io)).toBe(1);
    expect(out.join('')).toMatch(/--to s3:\/\/bucket\/prefix \(or CONVERGE_SOURCE\) is required/);
    out.length = 0;
    expect(await main(['publish', '--source', folder, '--to', './elsewhere'], io)).toBe(1);
    expect(out.join('')).toMatch(/is not an S3 location/);
    out.length = 0;
    expect(await main(['publish', '--source', folder, '--to', 's3://configs/shop/', '--revision', 'r9', '--message', 'From CI'], io)).toBe(0);
    expect(out.join('')).toMatch(/provenance: commit r9 "From CI"/);
    expect(out.join('')).toMatch(/published: s3:\/\/configs\/shop\/ \(4 uploaded, 0 deleted, 0 unchanged\)/);
    s3Mock.on(GetObjectCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));
    out.length = 0;
    expect(await main(['publish', '--source', folder, '--to', 's3://configs/shop/'], io)).toBe(1);
    expect(out.join('')).toMatch(/converge publish: AccessDenied: Access Denied/);
  });
});
