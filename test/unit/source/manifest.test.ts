import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { gitProvenance, mergeProvenance, type GitRunner } from '../../../src/source/git.js';
import {
  checksumSHA256,
  compareWithManifest,
  describeDifferences,
  manifestKey,
  normalizeEtag,
  parseManifest,
  provenanceLogFields,
  revisionProvenance,
  sameManifest,
  serializeManifest,
  type Manifest,
} from '../../../src/source/manifest.js';

const SUM = checksumSHA256('a');

function manifest(documents: { key: string; etag: string }[], extra: Partial<Manifest> = {}): Manifest {
  return {
    apiVersion: 'converge/v1',
    kind: 'Manifest',
    publishedAt: '2025-01-01T00:00:00.000Z',
    provenance: { commit: 'c'.repeat(40), subject: 'Scale users', from: 'git' },
    documents: documents.map((d) => ({ ...d, checksumSHA256: SUM, size: 1 })),
    ...extra,
  };
}

describe('compareWithManifest', () => {
  it('finds nothing when the listing has the published keys and ETags (quotes or not)', () => {
    const m = manifest([
      { key: 'shop/a.yaml', etag: '"e1"' },
      { key: 'shop/b.yaml', etag: 'e2' },
    ]);
    expect(
      compareWithManifest(
        [
          { key: 'shop/b.yaml', etag: '"e2"' },
          { key: 'shop/a.yaml', etag: 'e1' },
        ],
        m,
      ),
    ).toEqual([]);
  });

  it('names added, removed and changed keys, sorted by key', () => {
    const m = manifest([
      { key: 'shop/a.yaml', etag: '"e1"' },
      { key: 'shop/b.yaml', etag: '"e2"' },
      { key: 'shop/c.yaml', etag: '"e3"' },
    ]);
    const differences = compareWithManifest(
      [
        { key: 'shop/d.yaml', etag: '"e4"' },
        { key: 'shop/b.yaml', etag: '"e2-new"' },
        { key: 'shop/c.yaml', etag: '"e3"' },
      ],
      m,
    );
    expect(differences).toEqual([
      { key: 'shop/a.yaml', change: 'removed' },
      { key: 'shop/b.yaml', change: 'changed' },
      { key: 'shop/d.yaml', change: 'added' },
    ]);
    expect(describeDifferences(differences, 2)).toBe('removed shop/a.yaml, changed shop/b.yaml and 1 more');
  });

  it('an empty listing against a manifest: every published key is removed', () => {
    expect(compareWithManifest([], manifest([{ key: 'x.yaml', etag: '"1"' }]))).toEqual([{ key: 'x.yaml', change: 'removed' }]);
  });
});

describe('the manifest document', () => {
  it('round-trips and lives under the reserved prefix', () => {
    const m = manifest([{ key: 'shop/a.yaml', etag: '"e1"' }]);
    expect(parseManifest(serializeManifest(m), 'here')).toEqual(m);
    expect(manifestKey('shop/')).toBe('shop/.converge/manifest.json');
    expect(manifestKey('')).toBe('.converge/manifest.json');
  });

  it.each([
    ['not JSON', '{', /^s3:\/\/b\/m\.json is not JSON/],
    ['another kind', JSON.stringify({ ...manifest([]), kind: 'Status' }), /s3:\/\/b\/m\.json is not a converge manifest: kind: /],
    ['a bad checksum', JSON.stringify(manifest([{ key: 'a.yaml', etag: '"1"' }])).replace(SUM, 'abc'), /documents\[0\]\.checksumSHA256: expected the base64 SHA-256/],
    ['an unknown field', JSON.stringify({ ...manifest([]), extra: 1 }), /is not a converge manifest: \(document\): /],
    ['a key listed twice', JSON.stringify(manifest([{ key: 'a.yaml', etag: '"1"' }, { key: 'a.yaml', etag: '"2"' }])), /documents: "a.yaml" is listed twice/],
  ])('refuses %s, naming the object and the field', (_what, text, message) => {
    expect(() => parseManifest(text, 's3://b/m.json')).toThrow(message);
  });

  it('bounds a long subject', () => {
    const long = manifest([], { provenance: { subject: 'x'.repeat(500), from: 'flags' } });
    expect(parseManifest(JSON.stringify(long), 'm').provenance?.subject).toHaveLength(200);
  });

  it('sameManifest ignores only the time of publishing', () => {
    const m = manifest([{ key: 'a.yaml', etag: '"1"' }]);
    expect(sameManifest(m, { ...m, publishedAt: '2030-01-01T00:00:00.000Z' })).toBe(true);
    expect(sameManifest(m, { ...m, provenance: { ...m.provenance, subject: 'Other', from: 'git' } })).toBe(false);
    expect(sameManifest(m, { ...m, documents: [{ ...m.documents[0]!, etag: '"2"' }] })).toBe(false);
    expect(sameManifest(m, { ...m, baseline: true })).toBe(false);
  });

  it('gives the events commit and commitSubject, and /status the whole provenance', () => {
    const m = manifest([]);
    expect(provenanceLogFields(revisionProvenance(m))).toEqual({ commit: 'c'.repeat(40), commitSubject: 'Scale users' });
    expect(provenanceLogFields(undefined)).toEqual({});
    expect(revisionProvenance({ ...m, provenance: null, baseline: true })).toEqual({ publishedAt: m.publishedAt, baseline: true });
    expect(normalizeEtag('W/"abc"')).toBe('abc');
    expect(checksumSHA256('hello')).toBe('LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=');
  });
});

describe('provenance', () => {
  it('flags override git field by field, and stand alone without git', () => {
    const git = { commit: 'a'.repeat(40), subject: 'From git', author: 'A <a@x>', dirty: false, from: 'git' as const };
    expect(mergeProvenance(git, {})).toEqual(git);
    expect(mergeProvenance(git, { message: 'Release 7' })).toEqual({ ...git, subject: 'Release 7', from: 'git+flags' });
    expect(mergeProvenance(undefined, { revision: 'build-42', message: 'nightly' })).toEqual({ commit: 'build-42', subject: 'nightly', from: 'flags' });
    expect(mergeProvenance(undefined, {})).toBeNull();
  });

  it('no git, or a folder outside a work tree, is no provenance and says why', async () => {
    const missing: GitRunner = () => Promise.reject(Object.assign(new Error('spawn git ENOENT'), { code: 'ENOENT' }));
    expect(await gitProvenance('/x', missing)).toEqual({ reason: 'git is not installed (no git on PATH)' });
    const outside: GitRunner = () => Promise.reject(Object.assign(new Error('exit 128'), { code: 128, stderr: 'fatal: not a git repository (or any of the parent directories): .git\n' }));
    expect(await gitProvenance('/x', outside)).toEqual({ reason: '/x is not inside a git work tree' });
  });

  const exec = promisify(execFile);
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('reads the commit, author, subject and whether the published folder is dirty from a real work tree', async () => {
    const repo = await mkdtemp(path.join(tmpdir(), 'converge-git-'));
    dirs.push(repo);
    const git = (...args: string[]) => exec('git', ['-c', 'user.name=Ada Lovelace', '-c', 'user.email=ada@example.com', '-c', 'commit.gpgsign=false', ...args], { cwd: repo });
    await git('init', '-q');
    await mkdir(path.join(repo, 'env'));
    await writeFile(path.join(repo, 'env', 'a.yaml'), 'a: 1\n');
    await writeFile(path.join(repo, 'README.md'), 'x\n');
    await git('add', '.');
    await git('commit', '-q', '-m', 'Add the environment\n\nA body that is not the subject.');
    const head = (await git('rev-parse', 'HEAD')).stdout.trim();

    const clean = await gitProvenance(path.join(repo, 'env'));
    expect(clean).toEqual({ provenance: { commit: head, subject: 'Add the environment', author: 'Ada Lovelace <ada@example.com>', dirty: false, from: 'git' } });
    // A change outside the published folder does not make it dirty; one inside does.
    await writeFile(path.join(repo, 'README.md'), 'y\n');
    expect((await gitProvenance(path.join(repo, 'env'))).provenance?.dirty).toBe(false);
    await writeFile(path.join(repo, 'env', 'b.yaml'), 'b: 1\n');
    expect((await gitProvenance(path.join(repo, 'env'))).provenance?.dirty).toBe(true);

    const plain = await mkdtemp(path.join(tmpdir(), 'converge-nogit-'));
    dirs.push(plain);
    const none = await gitProvenance(plain);
    expect(none.provenance).toBeUndefined();
    expect(none.reason).toMatch(/not inside a git work tree/);
  });
});
