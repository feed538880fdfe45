import { describe, expect, it } from 'vitest';
import { accountOfArn, certificateRegion, parseImage, parseRole, parseSecret } from '../../../src/preflight/references.js';

describe('parseImage', () => {
  it('reads a private ECR reference with a tag, a digest, both, or neither', () => {
    expect(parseImage('123456789012.dkr.ecr.us-east-1.amazonaws.com/users:1.4.2')).toEqual({
      kind: 'ecr',
      reference: '123456789012.dkr.ecr.us-east-1.amazonaws.com/users:1.4.2',
      account: '123456789012',
      region: 'us-east-1',
      repository: 'users',
      tag: '1.4.2',
    });
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(parseImage(`123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/api@${digest}`)).toMatchObject({ repository: 'team/api', digest, region: 'eu-west-1' });
    // ECS pulls by digest when both are given: the tag is not what is checked.
    const both = parseImage(`123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/api:2.0@${digest}`);
    expect(both).toMatchObject({ repository: 'team/api', digest });
    expect(both).not.toHaveProperty('tag');
    expect(parseImage('123456789012.dkr.ecr.us-east-1.amazonaws.com/users')).toMatchObject({ repository: 'users', tag: 'latest' });
    expect(parseImage('123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/x:1')).toMatchObject({ kind: 'ecr', region: 'us-gov-west-1' });
    expect(parseImage('123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/x:1')).toMatchObject({ kind: 'ecr', region: 'cn-north-1' });
  });

  it('names the registry of anything else', () => {
    expect(parseImage('devopsfaith/krakend:2.10')).toEqual({ kind: 'other', reference: 'devopsfaith/krakend:2.10', registry: 'docker.io' });
    expect(parseImage('nginx')).toMatchObject({ kind: 'other', registry: 'docker.io' });
    expect(parseImage('public.ecr.aws/aws-cli/aws-cli:2.17.0')).toMatchObject({ kind: 'other', registry: 'public.ecr.aws' });
    expect(parseImage('localhost:5000/app:1')).toMatchObject({ kind: 'other', registry: 'localhost:5000' });
    expect(parseImage('registry.example.com/svc1:1.0.0')).toMatchObject({ kind: 'other', registry: 'registry.example.com' });
  });
});

describe('parseSecret', () => {
  it('takes the secret ARN out of a Secrets Manager valueFrom with a JSON key, stage or version', () => {
    expect(parseSecret('arn:aws:secretsmanager:us-east-1:123456789012:secret:users-db')).toEqual({
      kind: 'secretsmanager',
      valueFrom: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:users-db',
      secretId: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:users-db',
      region: 'us-east-1',
      account: '123456789012',
    });
    expect(parseSecret('arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf:password::')).toMatchObject({
      secretId: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf',
      region: 'eu-west-1',
    });
  });

  it('reads an SSM parameter name: a hierarchy keeps its slash, a plain name may have one or not', () => {
    expect(parseSecret('arn:aws:ssm:us-east-1:123456789012:parameter/shop/billing/stripe-api-key')).toMatchObject({
      kind: 'ssm',
      name: '/shop/billing/stripe-api-key',
      candidates: ['/shop/billing/stripe-api-key'],
    });
    expect(parseSecret('arn:aws:ssm:us-east-1:123456789012:parameter/db')).toMatchObject({ name: 'db', candidates: ['db', '/db'] });
    expect(parseSecret('arn:aws:ssm:us-east-1:123456789012:parameter/db:3')).toMatchObject({ name: 'db' });
    expect(parseSecret('plain-value')).toBeUndefined();
  });
});

describe('roles, certificates, accounts', () => {
  it('reads a role ARN with or without a path', () => {
    expect(parseRole('arn:aws:iam::123456789012:role/shop-exec')).toEqual({ arn: 'arn:aws:iam::123456789012:role/shop-exec', account: '123456789012', name: 'shop-exec' });
    expect(parseRole('arn:aws:iam::123456789012:role/service-role/team/exec')).toMatchObject({ name: 'exec' });
    expect(parseRole('arn:aws:iam::123456789012:user/bob')).toBeUndefined();
  });

  it('reads the region of a certificate and the account of an ARN', () => {
    expect(certificateRegion('arn:aws:acm:eu-west-1:123456789012:certificate/abc')).toBe('eu-west-1');
    expect(certificateRegion('auto')).toBeUndefined();
    expect(accountOfArn('arn:aws:iam::123456789012:role/x')).toBe('123456789012');
    expect(accountOfArn('arn:aws:s3:::bucket')).toBeUndefined();
  });
});
