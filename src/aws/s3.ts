import { setTimeout as sleep } from 'node:timers/promises';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { awsErrorName, httpStatusOf } from './errors.js';

export interface S3ObjectSummary {
  key: string;
  etag: string;
  size: number;
  lastModified?: Date;
}

/** A complete listing of a prefix, taken earlier in the same cycle. */
export interface S3Listing {
  bucket: string;
  prefix: string;
  objects: readonly S3ObjectSummary[];
}

/**
 * Every object under `prefix`, answered from a listing of a covering prefix made earlier in the
 * cycle when there is one (the desired-state source lists the bucket prefix that also holds
 * converge's own objects), else listed.
 */
export async function listObjectsWithin(s3: S3Client, bucket: string, prefix: string, known: readonly S3Listing[] = []): Promise<S3ObjectSummary[]> {
  const covering = known.find((listing) => listing.bucket === bucket && prefix.startsWith(listing.prefix));
  if (covering) return covering.objects.filter((object) => object.key.startsWith(prefix));
  return listObjects(s3, bucket, prefix);
}

/** Every object under `prefix`, 1000 per ListObjectsV2 call. */
export async function listObjects(s3: S3Client, bucket: string, prefix: string): Promise<S3ObjectSummary[]> {
  const objects: S3ObjectSummary[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 1000, ContinuationToken: token }));
    for (const object of page.Contents ?? []) {
      if (object.Key !== undefined) objects.push({ key: object.Key, etag: object.ETag ?? '', size: object.Size ?? 0, lastModified: object.LastModified });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return objects;
}

/** The key does not exist; a bucket that does not exist (also a 404) is not a missing key, and throws. */
function isMissingKey(error: unknown): boolean {
  const name = awsErrorName(error);
  if (name === 'NoSuchBucket') return false;
  return name === 'NoSuchKey' || name === 'NotFound' || httpStatusOf(error) === 404;
}

/** The object's text and ETag, or undefined when the key does not exist. */
export async function getObject(s3: S3Client, bucket: string, key: string): Promise<{ text: string; etag: string } | undefined> {
  try {
    const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const text = response.Body ? await response.Body.transformToString('utf-8') : '';
    return { text, etag: response.ETag ?? '' };
  } catch (error) {
    if (isMissingKey(error)) return undefined;
    throw error;
  }
}

export async function getObjectText(s3: S3Client, bucket: string, key: string): Promise<string | undefined> {
  return (await getObject(s3, bucket, key))?.text;
}

function isPreconditionFailed(error: unknown): boolean {
  return awsErrorName(error) === 'PreconditionFailed' || httpStatusOf(error) === 412;
}

function isConditionalConflict(error: unknown): boolean {
  return awsErrorName(error) === 'ConditionalRequestConflict' || httpStatusOf(error) === 409;
}

export interface ConditionalPutOptions {
  /** Attempts when S3 reports a concurrent conditional write (409), including the first. */
  attempts?: number;
  retryDelayMs?: number;
}

/**
 * Writes the object only if the key is free. Returns false when it already exists (412);
 * a concurrent conditional write (409) is retried, after which a 412 means the other writer won.
 */
export async function putObjectIfAbsent(
  s3: S3Client,
  bucket: string,
  key: string,
  body: string | Uint8Array,
  contentType: string,
  options: ConditionalPutOptions = {},
): Promise<boolean> {
  const attempts = options.attempts ?? 4;
  const delayMs = options.retryDelayMs ?? 200;
  for (let attempt = 1; ; attempt += 1) {
    try {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType, IfNoneMatch: '*' }));
      return true;
    } catch (error) {
      if (isPreconditionFailed(error)) return false;
      if (!isConditionalConflict(error) || attempt >= attempts) throw error;
      await sleep(delayMs * attempt);
    }
  }
}

/** Writes the object whatever is there (repairs an object whose bytes are not what its key promises). */
export async function putObject(s3: S3Client, bucket: string, key: string, body: string | Uint8Array, contentType: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
}

/** Deletes the object; a key that is already gone is not an error. */
export async function deleteObject(s3: S3Client, bucket: string, key: string): Promise<void> {
  try {
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  } catch (error) {
    if (!isMissingKey(error)) throw error;
  }
}

export type ConditionalPutResult =
  | { written: true; etag: string }
  /** `precondition`: the ETag no longer matches, or the key exists; `missing`: If-Match on a key that is gone; `conflict`: a concurrent conditional write. */
  | { written: false; reason: 'precondition' | 'missing' | 'conflict' };

/**
 * One conditional PutObject: `ifNoneMatch: '*'` writes only a new key, `ifMatch` only over the
 * version with that ETag (S3 conditional writes). Refusals are answers, not errors; other
 * failures (throttling, 5xx, timeouts) throw.
 */
export async function putObjectConditionally(
  s3: S3Client,
  location: { bucket: string; key: string },
  body: string,
  condition: { ifMatch: string } | { ifNoneMatch: '*' },
): Promise<ConditionalPutResult> {
  try {
    const response = await s3.send(
      new PutObjectCommand({
        Bucket: location.bucket,
        Key: location.key,
        Body: body,
        ContentType: 'application/json',
        ...('ifMatch' in condition ? { IfMatch: condition.ifMatch } : { IfNoneMatch: condition.ifNoneMatch }),
      }),
    );
    return { written: true, etag: response.ETag ?? '' };
  } catch (error) {
    if (isPreconditionFailed(error)) return { written: false, reason: 'precondition' };
    if (isConditionalConflict(error)) return { written: false, reason: 'conflict' };
    if (isMissingKey(error)) return { written: false, reason: 'missing' };
    throw error;
  }
}
