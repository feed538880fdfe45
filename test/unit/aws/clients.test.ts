import { describe, expect, it } from 'vitest';
import { createAwsClients, destroyAwsClients } from '../../../src/aws/clients.js';

describe('AWS clients', () => {
  it('the S3 client follows region redirects (a bucket in another region answers 301 otherwise)', () => {
    const aws = createAwsClients({ region: 'us-east-1' });
    try {
      expect(aws.s3.config.followRegionRedirects).toBe(true);
    } finally {
      destroyAwsClients(aws);
    }
  });
});
