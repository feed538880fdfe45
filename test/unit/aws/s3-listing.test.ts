import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { listObjectsWithin, type S3Listing } from '../../../src/aws/s3.js';

describe('listObjectsWithin', () => {
  const listing: S3Listing = {
    bucket: 'b',
    prefix: 'shop/',
    objects: [
      { key: 'shop/services.yaml', etag: '"1"', size: 1 },
      { key: 'shop/.converge/gateway/shop/abc.json', etag: '"2"', size: 2 },
      { key: 'shop/.converge/gateway/other/def.json', etag: '"3"', size: 3 },
    ],
  };

  it('answers from a listing of a covering prefix without a call', async () => {
    const s3 = mockClient(S3Client);
    const objects = await listObjectsWithin(new S3Client({ region: 'us-east-1' }), 'b', 'shop/.converge/gateway/shop/', [listing]);
    expect(objects.map((o) => o.key)).toEqual(['shop/.converge/gateway/shop/abc.json']);
    expect(s3.commandCalls(ListObjectsV2Command)).toHaveLength(0);
    s3.restore();
  });

  it('lists when no known listing covers the prefix (another bucket or prefix)', async () => {
    const s3 = mockClient(S3Client);
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'artifacts/.converge/gateway/shop/x.json', ETag: '"9"', Size: 9 }] });
    const client = new S3Client({ region: 'us-east-1' });
    expect(await listObjectsWithin(client, 'other', 'shop/.converge/', [listing])).toHaveLength(1);
    expect(await listObjectsWithin(client, 'b', 'artifacts/', [listing])).toHaveLength(1);
    expect(s3.commandCalls(ListObjectsV2Command)).toHaveLength(2);
    s3.restore();
  });
});
