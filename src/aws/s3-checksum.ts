/**
 * Uploads for `converge publish`: a PutObject that carries the body's SHA-256 (`ChecksumSHA256`),
 * so that S3 verifies the bytes it stores against it and refuses the upload otherwise
 * (`BadDigest`), and that keeps the checksum with the object (`HeadObject`/`GetObject` with
 * `ChecksumMode: ENABLED` return it).
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';

/** Writes the object with its checksum; returns the ETag S3 answered. */
export async function putObjectWithChecksum(
  s3: S3Client,
  location: { bucket: string; key: string },
  body: Uint8Array,
  options: { contentType: string; checksumSHA256: string },
): Promise<{ etag: string }> {
  const response = await s3.send(
    new PutObjectCommand({
      Bucket: location.bucket,
      Key: location.key,
      Body: body,
      ContentType: options.contentType,
      // The algorithm as well as the value: S3 then records SHA-256 as the object's checksum algorithm.
      ChecksumAlgorithm: 'SHA256',
      ChecksumSHA256: options.checksumSHA256,
    }),
  );
  return { etag: response.ETag ?? '' };
}
