import { describe, expect, it } from 'vitest';
import { callKindOf } from '../../src/aws/call-counter.js';

describe('callKindOf', () => {
  it.each([
    ['DescribeServices', 'read'],
    ['ListObjectsV2', 'read'],
    ['BatchGetDeploymentGroups', 'read'],
    ['GetObject', 'read'],
    ['CreateService', 'write'],
    ['PutRetentionPolicy', 'write'],
    ['TagResource', 'write'],
  ])('%s is a %s', (operation, kind) => {
    expect(callKindOf(operation)).toBe(kind);
  });
});
