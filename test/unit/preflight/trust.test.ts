import { describe, expect, it } from 'vitest';
import { decodePolicyDocument, trustsService } from '../../../src/preflight/trust.js';

const policy = (...statements: object[]): string => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const allow = (service: string | string[], action: string | string[] = 'sts:AssumeRole', extra: object = {}) => ({ Effect: 'Allow', Principal: { Service: service }, Action: action, ...extra });

describe('trustsService', () => {
  it('reads the URL-encoded document GetRole returns', () => {
    const encoded = encodeURIComponent(policy(allow('ecs-tasks.amazonaws.com')));
    expect(encoded.startsWith('%7B')).toBe(true);
    expect(decodePolicyDocument(encoded)).toBe(policy(allow('ecs-tasks.amazonaws.com')));
    expect(trustsService(encoded, 'ecs-tasks.amazonaws.com')).toEqual({ trusted: true, services: ['ecs-tasks.amazonaws.com'] });
  });

  it('accepts a list of services, a single statement, wildcard actions and conditions', () => {
    expect(trustsService(policy(allow(['lambda.amazonaws.com', 'codedeploy.amazonaws.com'])), 'codedeploy.amazonaws.com').trusted).toBe(true);
    expect(trustsService(JSON.stringify({ Statement: allow('ecs-tasks.amazonaws.com', 'sts:*') }), 'ecs-tasks.amazonaws.com').trusted).toBe(true);
    expect(trustsService(policy(allow('ecs-tasks.amazonaws.com', ['sts:TagSession', 'sts:Assume*'])), 'ecs-tasks.amazonaws.com').trusted).toBe(true);
    const guarded = allow('ecs-tasks.amazonaws.com', 'sts:AssumeRole', { Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } } });
    expect(trustsService(policy(guarded), 'ecs-tasks.amazonaws.com').trusted).toBe(true);
    expect(trustsService(policy({ Effect: 'Allow', Principal: '*', Action: 'sts:AssumeRole' }), 'ecs-tasks.amazonaws.com').trusted).toBe(true);
  });

  it('says which services a policy trusts when the wanted one is not among them', () => {
    expect(trustsService(policy(allow('lambda.amazonaws.com'), allow('ec2.amazonaws.com')), 'ecs-tasks.amazonaws.com')).toEqual({
      trusted: false,
      services: ['ec2.amazonaws.com', 'lambda.amazonaws.com'],
    });
    // The right principal, the wrong action.
    expect(trustsService(policy(allow('ecs-tasks.amazonaws.com', 'sts:TagSession')), 'ecs-tasks.amazonaws.com').trusted).toBe(false);
    // An AWS account principal is not the service.
    expect(trustsService(policy({ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 'sts:AssumeRole' }), 'ecs-tasks.amazonaws.com').trusted).toBe(false);
  });

  it('lets an unconditional Deny win', () => {
    const deny = { Effect: 'Deny', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' };
    expect(trustsService(policy(allow('ecs-tasks.amazonaws.com'), deny), 'ecs-tasks.amazonaws.com').trusted).toBe(false);
    expect(trustsService(policy(allow('ecs-tasks.amazonaws.com'), { ...deny, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }), 'ecs-tasks.amazonaws.com').trusted).toBe(true);
  });

  it('reports a document that is not JSON', () => {
    expect(trustsService('%7Bnot json', 'ecs-tasks.amazonaws.com')).toEqual({ trusted: false, services: [], invalid: 'its trust policy is not valid JSON' });
  });
});
