/**
 * An S3 bucket in memory behind aws-sdk-client-mock, as far as the desired-state source and
 * `converge publish` use it: ListObjectsV2 (pages), GetObject, PutObject (MD5 ETags as S3 gives for
 * a single-part upload, `ChecksumSHA256` verified as S3 does, `If-Match`/`If-None-Match`) and
 * DeleteObject.
 */
import { createHash } from 'node:crypto';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  type GetObjectCommandOutput,
  type ListObjectsV2CommandInput,
  type PutObjectCommandInput,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';

export const s3Mock = mockClient(S3Client);
export const client = (): S3Client => new S3Client({ region: 'us-east-1' });

function body(text: string): GetObjectCommandOutput['Body'] {
  // Only transformToString is read; the real type is a Node stream mixed with SDK helpers.
  return { transformToString: () => Promise.resolve(text) } as unknown as GetObjectCommandOutput['Body'];
}

const failure = (name: string, status: number): S3ServiceException => new S3ServiceException({ name, $fault: 'client', message: `simulated ${name}`, $metadata: { httpStatusCode: status } });

export class FakeBucket {
  readonly objects = new Map<string, { content: string; etag: string; checksumSHA256?: string }>();
  /** Runs before a GetObject is answered (tests replace an object between the listing and the download). */
  beforeGet?: (key: string) => void;

  constructor(private readonly pageSize = 1000) {
    s3Mock.reset();
    s3Mock.on(ListObjectsV2Command).callsFake((input: ListObjectsV2CommandInput) => this.list(input));
    s3Mock.on(GetObjectCommand).callsFake((input: { Key: string }) => this.get(input.Key));
    s3Mock.on(PutObjectCommand).callsFake((input: PutObjectCommandInput) => this.putCommand(input));
    s3Mock.on(DeleteObjectCommand).callsFake((input: { Key: string }) => {
      this.objects.delete(input.Key);
      return {};
    });
  }

  /** An upload made another way (a person, a sync tool): no checksum. */
  put(key: string, content: string): string {
    const etag = `"${createHash('md5').update(content).digest('hex')}"`;
    this.objects.set(key, { content, etag });
    return etag;
  }

  text(key: string): string | undefined {
    return this.objects.get(key)?.content;
  }

  /** Keys and ETags: what changes when anything in the bucket does. */
  snapshot(): string[] {
    return [...this.objects.entries()].map(([key, o]) => `${key} ${o.etag}`).sort();
  }

  calls(command: typeof ListObjectsV2Command | typeof GetObjectCommand | typeof PutObjectCommand | typeof DeleteObjectCommand): number {
    return s3Mock.calls().filter((call) => call.args[0] instanceof command).length;
  }

  private putCommand(input: PutObjectCommandInput) {
    const key = input.Key ?? '';
    const raw = input.Body;
    const content = typeof raw === 'string' ? raw : raw instanceof Uint8Array ? Buffer.from(raw).toString('utf-8') : '';
    const existing = this.objects.get(key);
    if (input.IfNoneMatch === '*' && existing) throw failure('PreconditionFailed', 412);
    if (input.IfMatch !== undefined && !existing) throw failure('NoSuchKey', 404);
    if (input.IfMatch !== undefined && existing?.etag !== input.IfMatch) throw failure('PreconditionFailed', 412);
    if (input.ChecksumSHA256 !== undefined) {
      const actual = createHash('sha256').update(typeof raw === 'string' ? raw : (raw as Uint8Array)).digest('base64');
      if (actual !== input.ChecksumSHA256) throw failure('BadDigest', 400);
    }
    const etag = this.put(key, content);
    if (input.ChecksumSHA256 !== undefined) this.objects.set(key, { content, etag, checksumSHA256: input.ChecksumSHA256 });
    return { ETag: etag };
  }

  private list(input: ListObjectsV2CommandInput) {
    const keys = [...this.objects.keys()].filter((key) => key.startsWith(input.Prefix ?? '')).sort();
    const start = Number(input.ContinuationToken ?? 0);
    const page = keys.slice(start, start + Math.min(this.pageSize, input.MaxKeys ?? 1000));
    const next = start + page.length;
    return {
      Contents: page.map((key) => ({ Key: key, ETag: this.objects.get(key)?.etag, Size: Buffer.byteLength(this.objects.get(key)?.content ?? '') })),
      IsTruncated: next < keys.length,
      NextContinuationToken: next < keys.length ? String(next) : undefined,
    };
  }

  private get(key: string) {
    this.beforeGet?.(key);
    const object = this.objects.get(key);
    if (!object) throw new NoSuchKey({ message: 'simulated', $metadata: {} });
    return { Body: body(object.content), ETag: object.etag };
  }
}
