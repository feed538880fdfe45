import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchBucket,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { GetObjectCommandOutput, ListObjectsV2CommandInput } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DesiredStateSourceError, openSource, parseS3Url } from '../../../src/source/source.js';
import { deleteObject, getObjectText, listObjects, putObjectIfAbsent } from '../../../src/aws/s3.js';

const s3Mock = mockClient(S3Client);
const client = (): S3Client => new S3Client({ region: 'us-east-1' });

beforeEach(() => s3Mock.reset());

function body(text: string): GetObjectCommandOutput['Body'] {
  // Only transformToString is read; the real type is a Node stream mixed with SDK helpers.
  return { transformToString: () => Promise.resolve(text) } as unknown as GetObjectCommandOutput['Body'];
}

function s3Error<T extends S3ServiceException>(make: new (options: { message: string; $metadata: object }) => T): T {
  return new make({ message: 'simulated', $metadata: {} });
}

function statusError(name: string, status: number): S3ServiceException {
  return new S3ServiceException({ name, $fault: 'client', message: 'simulated', $metadata: { httpStatusCode: status } });
}

/** A fake bucket: ListObjectsV2 pages of `pageSize`, GetObject by key. */
class FakeBucket {
  readonly objects = new Map<string, { content: string; etag: string }>();

  constructor(private readonly pageSize = 1000) {
    s3Mock.on(ListObjectsV2Command).callsFake((input: ListObjectsV2CommandInput) => this.list(input));
    s3Mock.on(GetObjectCommand).callsFake((input: { Key: string }) => this.get(input.Key));
  }

  put(key: string, content: string): void {
    const version = (this.objects.get(key)?.etag.length ?? 0) + 1;
    this.objects.set(key, { content, etag: `"${'e'.repeat(version)}${key.length}"` });
  }

  private list(input: ListObjectsV2CommandInput) {
    const keys = [...this.objects.keys()].filter((key) => key.startsWith(input.Prefix ?? '')).sort();
    const start = Number(input.ContinuationToken ?? 0);
    const page = keys.slice(start, start + Math.min(this.pageSize, input.MaxKeys ?? 1000));
    const next = start + page.length;
    return {
      Contents: page.map((key) => ({ Key: key, ETag: this.objects.get(key)?.etag, Size: this.objects.get(key)?.content.length })),
      IsTruncated: next < keys.length,
      NextContinuationToken: next < keys.length ? String(next) : undefined,
    };
  }

  private get(key: string) {
    const object = this.objects.get(key);
    if (!object) throw s3Error(NoSuchKey);
    return { Body: body(object.content), ETag: object.etag };
  }
}

describe('parseS3Url', () => {
  it.each([
    ['s3://bucket', { bucket: 'bucket', prefix: '' }],
    ['s3://bucket/', { bucket: 'bucket', prefix: '' }],
    ['s3://bucket/envs/shop', { bucket: 'bucket', prefix: 'envs/shop/' }],
    ['s3://bucket/envs/shop/', { bucket: 'bucket', prefix: 'envs/shop/' }],
  ])('%s', (url, expected) => {
    expect(parseS3Url(url)).toEqual(expected);
  });

  it('rejects a missing bucket name', () => {
    expect(() => parseS3Url('s3:///prefix')).toThrow(DesiredStateSourceError);
  });
});

describe('folder source', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'converge-source-'));
    await mkdir(path.join(dir, 'services'));
    await mkdir(path.join(dir, '.github'));
    await writeFile(path.join(dir, 'environment.yaml'), 'kind: Environment\n');
    await writeFile(path.join(dir, 'services', 'users.yml'), 'kind: Service\n');
    await writeFile(path.join(dir, 'services', 'billing.json'), '{}');
    await writeFile(path.join(dir, 'README.md'), '# notes\n');
    await writeFile(path.join(dir, '.github', 'ci.yml'), 'on: push\n');
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads .yaml, .yml and .json files recursively, named relative to the folder and sorted', async () => {
    const { files, revision } = await openSource(dir, client).load();
    expect(files.map((f) => f.file)).toEqual(['environment.yaml', 'services/billing.json', 'services/users.yml']);
    expect(files[2]?.content).toBe('kind: Service\n');
    expect(revision).toMatch(/^sha256:[0-9a-f]{16}$/);
  });

  it('changes its revision when a document changes, and only then', async () => {
    const source = openSource(dir, client);
    const first = await source.revision();
    expect(await source.revision()).toBe(first);
    await writeFile(path.join(dir, 'README.md'), '# other notes\n');
    expect(await source.revision()).toBe(first);
    await writeFile(path.join(dir, 'services', 'users.yml'), 'kind: Service\n# changed\n');
    const second = await source.revision();
    expect(second).not.toBe(first);
    expect((await source.load()).revision).toBe(second);
    await writeFile(path.join(dir, 'services', 'users.yml'), 'kind: Service\n');
    expect(await source.revision()).toBe(first);
  });

  it('reports a missing folder clearly', async () => {
    const source = openSource(path.join(dir, 'nope'), client);
    await expect(source.load()).rejects.toThrow(DesiredStateSourceError);
    await expect(source.load()).rejects.toThrow(/desired-state folder .*nope does not exist/);
  });

  it('does not create an S3 client', async () => {
    let created = 0;
    await openSource(dir, () => {
      created += 1;
      return client();
    }).load();
    expect(created).toBe(0);
  });
});

describe('S3 source', () => {
  it('lists over several pages, ignores .converge/ and other files, and names files s3://bucket/key', async () => {
    const bucket = new FakeBucket(2);
    bucket.put('envs/shop/environment.yaml', 'kind: Environment\n');
    bucket.put('envs/shop/gateway.yaml', 'kind: Gateway\n');
    bucket.put('envs/shop/services/users.yml', 'kind: Service\n');
    bucket.put('envs/shop/web.json', '{}');
    bucket.put('envs/shop/notes.txt', 'ignore me');
    bucket.put('envs/shop/.converge/gateway/krakend-1.json', '{}');
    bucket.put('envs/other/environment.yaml', 'kind: Environment\n');

    const source = openSource('s3://configs/envs/shop', client);
    expect(source.description).toBe('s3://configs/envs/shop/');
    const { files } = await source.load();
    expect(files.map((f) => f.file)).toEqual([
      's3://configs/envs/shop/environment.yaml',
      's3://configs/envs/shop/gateway.yaml',
      's3://configs/envs/shop/services/users.yml',
      's3://configs/envs/shop/web.json',
    ]);
    expect(files[0]?.content).toBe('kind: Environment\n');
    const lists = s3Mock.commandCalls(ListObjectsV2Command).map((call) => call.args[0].input);
    expect(lists).toHaveLength(3);
    expect(lists.map((input) => input.ContinuationToken)).toEqual([undefined, '2', '4']);
    expect(lists.every((input) => input.Prefix === 'envs/shop/' && input.Bucket === 'configs')).toBe(true);
  });

  it('does not download an unchanged prefix again, and downloads only what changed', async () => {
    const bucket = new FakeBucket();
    bucket.put('environment.yaml', 'kind: Environment\n');
    bucket.put('services.yaml', 'kind: Service\n');
    const source = openSource('s3://configs', client);

    const first = await source.load();
    expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(2);
    expect(await source.revision()).toBe(first.revision);
    const second = await source.load();
    expect(second).toEqual(first);
    expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(2);

    bucket.put('services.yaml', 'kind: Service\n# changed\n');
    const changed = await source.revision();
    expect(changed).not.toBe(first.revision);
    expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(2);
    const third = await source.load();
    expect(third.revision).toBe(changed);
    expect(third.files[1]?.content).toBe('kind: Service\n# changed\n');
    expect(s3Mock.commandCalls(GetObjectCommand).map((call) => call.args[0].input.Key)).toEqual(['environment.yaml', 'services.yaml', 'services.yaml']);
  });

  it('does not change its revision when only .converge/ objects change', async () => {
    const bucket = new FakeBucket();
    bucket.put('environment.yaml', 'kind: Environment\n');
    const source = openSource('s3://configs/', client);
    const before = await source.revision();
    bucket.put('.converge/gateway/config.json', '{}');
    expect(await source.revision()).toBe(before);
  });

  it('reports a missing bucket clearly', async () => {
    s3Mock.on(ListObjectsV2Command).rejects(s3Error(NoSuchBucket));
    const source = openSource('s3://missing-bucket/envs', client);
    await expect(source.load()).rejects.toThrow('S3 bucket "missing-bucket" does not exist');
    await expect(source.revision()).rejects.toBeInstanceOf(DesiredStateSourceError);
  });
});

describe('S3 adapter', () => {
  it('listObjects returns key, etag and size over every page', async () => {
    const bucket = new FakeBucket(1000);
    for (let i = 0; i < 1500; i += 1) bucket.put(`k/${String(i).padStart(4, '0')}.yaml`, 'x');
    const objects = await listObjects(client(), 'b', 'k/');
    expect(objects).toHaveLength(1500);
    expect(objects[0]).toEqual({ key: 'k/0000.yaml', etag: bucket.objects.get('k/0000.yaml')?.etag, size: 1 });
    expect(s3Mock.commandCalls(ListObjectsV2Command).map((call) => call.args[0].input.MaxKeys)).toEqual([1000, 1000]);
  });

  it('getObjectText turns NoSuchKey into undefined', async () => {
    const bucket = new FakeBucket();
    bucket.put('a.yaml', 'text');
    expect(await getObjectText(client(), 'b', 'a.yaml')).toBe('text');
    expect(await getObjectText(client(), 'b', 'missing.yaml')).toBeUndefined();
  });

  it('putObjectIfAbsent writes with If-None-Match and reports an existing key as false', async () => {
    s3Mock.on(PutObjectCommand).resolvesOnce({}).rejectsOnce(statusError('PreconditionFailed', 412));
    expect(await putObjectIfAbsent(client(), 'b', 'k', 'body', 'application/json')).toBe(true);
    expect(await putObjectIfAbsent(client(), 'b', 'k', 'body', 'application/json')).toBe(false);
    expect(s3Mock.commandCalls(PutObjectCommand)[0]?.args[0].input).toEqual({ Bucket: 'b', Key: 'k', Body: 'body', ContentType: 'application/json', IfNoneMatch: '*' });
  });

  it('putObjectIfAbsent retries a conditional write conflict', async () => {
    s3Mock.on(PutObjectCommand).rejectsOnce(statusError('ConditionalRequestConflict', 409)).resolves({});
    expect(await putObjectIfAbsent(client(), 'b', 'k', 'body', 'text/plain', { retryDelayMs: 1 })).toBe(true);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(2);
  });

  it('putObjectIfAbsent gives up after the last attempt and rethrows other errors', async () => {
    s3Mock.on(PutObjectCommand).rejects(statusError('ConditionalRequestConflict', 409));
    await expect(putObjectIfAbsent(client(), 'b', 'k', 'body', 'text/plain', { attempts: 2, retryDelayMs: 1 })).rejects.toThrow('simulated');
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(2);
    s3Mock.reset();
    s3Mock.on(PutObjectCommand).rejects(statusError('AccessDenied', 403));
    await expect(putObjectIfAbsent(client(), 'b', 'k', 'body', 'text/plain')).rejects.toThrow('simulated');
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(1);
  });

  it('deleteObject ignores a missing key', async () => {
    s3Mock.on(DeleteObjectCommand).resolvesOnce({}).rejectsOnce(s3Error(NoSuchKey));
    await deleteObject(client(), 'b', 'k');
    await deleteObject(client(), 'b', 'k');
    expect(s3Mock.commandCalls(DeleteObjectCommand).map((call) => call.args[0].input)).toEqual([
      { Bucket: 'b', Key: 'k' },
      { Bucket: 'b', Key: 'k' },
    ]);
  });
});
