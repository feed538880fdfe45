/**
 * The sources apply the size limits from what they know before reading (the S3 listing,
 * fs.stat): a file over them is never downloaded or read, and parsing refuses the revision.
 */
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { GetObjectCommandOutput, ListObjectsV2CommandInput } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidDesiredStateError } from '../../../desired-state/errors.js';
import { MAX_FILE_BYTES, MAX_TOTAL_BYTES, formatBytes } from '../../../desired-state/limits.js';
import { WHOLE_SOURCE, parseDesiredState, type SourceFile } from '../../../desired-state/parse.js';
import { openSource } from '../../../src/source/source.js';

const s3Mock = mockClient(S3Client);
const client = (): S3Client => new S3Client({ region: 'us-east-1' });

beforeEach(() => s3Mock.reset());

/** A fake bucket whose listing may claim a size other than the content's (a 50 MB object costs nothing here). */
class FakeBucket {
  readonly objects = new Map<string, { content: string; etag: string; listedSize?: number }>();
  private version = 0;

  constructor() {
    s3Mock.on(ListObjectsV2Command).callsFake((input: ListObjectsV2CommandInput) => ({
      Contents: [...this.objects.entries()]
        .filter(([key]) => key.startsWith(input.Prefix ?? ''))
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([key, object]) => ({ Key: key, ETag: object.etag, Size: object.listedSize ?? Buffer.byteLength(object.content) })),
      IsTruncated: false,
    }));
    s3Mock.on(GetObjectCommand).callsFake((input: { Key: string }) => {
      const object = this.objects.get(input.Key);
      const body = { transformToString: () => Promise.resolve(object?.content ?? '') } as unknown as GetObjectCommandOutput['Body'];
      return { Body: body, ETag: object?.etag };
    });
  }

  put(key: string, content: string, listedSize?: number): void {
    this.version += 1;
    this.objects.set(key, { content, etag: `"v${this.version}"`, listedSize });
  }
}

const downloads = (): string[] => s3Mock.commandCalls(GetObjectCommand).map((call) => call.args[0].input.Key ?? '');

function issuesOf(files: SourceFile[]) {
  try {
    parseDesiredState(files, 'sha256:test');
  } catch (error) {
    if (error instanceof InvalidDesiredStateError) return error.issues;
    throw error;
  }
  return [];
}

describe('S3 source size limits', () => {
  it('does not download an object its listing shows over MAX_FILE_BYTES; parsing refuses the revision naming it', async () => {
    const bucket = new FakeBucket();
    bucket.put('shop/environment.yaml', 'kind: Environment\n');
    bucket.put('shop/big.yaml', 'never downloaded', MAX_FILE_BYTES + 1);
    const { files, revision } = await openSource('s3://configs/shop', client).load();
    expect(downloads()).toEqual(['shop/environment.yaml']);
    expect(files).toEqual([
      { file: 's3://configs/shop/big.yaml', content: '', size: MAX_FILE_BYTES + 1, unread: true },
      { file: 's3://configs/shop/environment.yaml', content: 'kind: Environment\n', size: 18 },
    ]);
    expect(revision).toMatch(/^sha256:/);
    expect(issuesOf(files)).toEqual([
      { file: 's3://configs/shop/big.yaml', path: '', message: `the file is ${formatBytes(MAX_FILE_BYTES + 1)}; a desired-state file may be at most ${formatBytes(MAX_FILE_BYTES)}, so it was not read` },
    ]);
  });

  it('downloads nothing at all beside a 50 MiB object', async () => {
    const bucket = new FakeBucket();
    bucket.put('shop/environment.yaml', 'kind: Environment\n');
    bucket.put('shop/huge.yaml', 'never downloaded', 50 * 1024 * 1024);
    const { files } = await openSource('s3://configs/shop', client).load();
    expect(downloads()).toEqual([]);
    expect(issuesOf(files).map((issue) => issue.message)).toEqual([
      `the file is 52,428,800 bytes (50 MiB); a desired-state file may be at most ${formatBytes(MAX_FILE_BYTES)}, so it was not read`,
      expect.stringContaining('in all is read, so none was') as string,
    ]);
  });

  it('downloads nothing when the listed objects are over MAX_TOTAL_BYTES together', async () => {
    const bucket = new FakeBucket();
    const count = Math.floor(MAX_TOTAL_BYTES / MAX_FILE_BYTES) + 1;
    for (let i = 0; i < count; i += 1) bucket.put(`part${i}.yaml`, 'kind: Service\n', MAX_FILE_BYTES);
    const { files } = await openSource('s3://configs', client).load();
    expect(downloads()).toEqual([]);
    expect(files.every((file) => file.unread)).toBe(true);
    expect(issuesOf(files)).toEqual([{ file: WHOLE_SOURCE, path: '', message: expect.stringContaining(`at most ${formatBytes(MAX_TOTAL_BYTES)} in all is read`) as string }]);
  });

  it('keeps nothing of an object that grew past the limit between the listing and the download', async () => {
    const bucket = new FakeBucket();
    bucket.put('grown.yaml', `# ${'x'.repeat(MAX_FILE_BYTES)}\n`, 10);
    const { files } = await openSource('s3://configs', client).load();
    expect(files).toEqual([{ file: 's3://configs/grown.yaml', content: '', size: MAX_FILE_BYTES + 3, unread: true }]);
  });

  it('changes its revision when an oversized object changes, and downloads it once it fits', async () => {
    const bucket = new FakeBucket();
    bucket.put('env.yaml', 'kind: Environment\n', MAX_FILE_BYTES + 1);
    const source = openSource('s3://configs', client);
    const first = await source.load();
    expect(await source.load()).toEqual(first);
    bucket.put('env.yaml', 'kind: Environment\n');
    const second = await source.load();
    expect(second.revision).not.toBe(first.revision);
    expect(second.files).toEqual([{ file: 's3://configs/env.yaml', content: 'kind: Environment\n', size: 18 }]);
    expect(downloads()).toEqual(['env.yaml']);
  });
});

describe('folder source size limits', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'converge-limits-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('does not read a file fs.stat shows over MAX_FILE_BYTES', async () => {
    await writeFile(path.join(dir, 'environment.yaml'), 'kind: Environment\n');
    await writeFile(path.join(dir, 'big.yaml'), `# ${'x'.repeat(MAX_FILE_BYTES)}\n`);
    const source = openSource(dir, client);
    const { files, revision } = await source.load();
    expect(files).toEqual([
      { file: 'big.yaml', content: '', size: MAX_FILE_BYTES + 3, unread: true },
      { file: 'environment.yaml', content: 'kind: Environment\n', size: 18 },
    ]);
    expect(issuesOf(files)).toEqual([{ file: 'big.yaml', path: '', message: expect.stringMatching(/^the file is .*; a desired-state file may be at most/) as string }]);
    // Not read, it still counts for the revision by its size and modification time.
    await writeFile(path.join(dir, 'big.yaml'), `# ${'y'.repeat(MAX_FILE_BYTES + 1)}\n`);
    expect((await source.load()).revision).not.toBe(revision);
  });

  it('reads nothing beside an 8 GiB file (sparse: reading it would fail, a string holds at most 512 MiB)', async () => {
    await writeFile(path.join(dir, 'environment.yaml'), 'kind: Environment\n');
    await writeFile(path.join(dir, 'huge.yaml'), '');
    await truncate(path.join(dir, 'huge.yaml'), 8 * 1024 ** 3);
    const { files } = await openSource(dir, client).load();
    expect(files).toEqual([
      { file: 'environment.yaml', content: '', size: 18, unread: true },
      { file: 'huge.yaml', content: '', size: 8 * 1024 ** 3, unread: true },
    ]);
    expect(issuesOf(files)[0]).toEqual({ file: 'huge.yaml', path: '', message: expect.stringMatching(/^the file is 8,589,934,592 bytes \(8 GiB\); a desired-state file may be at most/) as string });
  });

  it('reads nothing when the files are over MAX_TOTAL_BYTES together', async () => {
    const count = Math.floor(MAX_TOTAL_BYTES / MAX_FILE_BYTES) + 1;
    for (let i = 0; i < count; i += 1) await writeFile(path.join(dir, `part${i}.yaml`), `# ${'x'.repeat(MAX_FILE_BYTES - 3)}\n`);
    const { files } = await openSource(dir, client).load();
    expect(files.map((file) => [file.unread, file.content])).toEqual(Array.from({ length: count }, () => [true, '']));
    expect(issuesOf(files)).toEqual([{ file: WHOLE_SOURCE, path: '', message: expect.stringContaining('in all is read, so none was') as string }]);
  });

  it('applies the limit to a single file given as the source', async () => {
    const file = path.join(dir, 'all.yaml');
    await writeFile(file, '');
    await truncate(file, MAX_FILE_BYTES + 1);
    expect((await openSource(file, client).load()).files).toEqual([{ file: 'all.yaml', content: '', size: MAX_FILE_BYTES + 1, unread: true }]);
  });
});
