import { describe, expect, it } from 'vitest';
import { checkElbName, checkLogGroupName, checkSecurityGroupName, environmentNames, fitName, NameError, workloadNames } from '../../../desired-state/naming.js';

describe('fitName', () => {
  it('keeps names that fit', () => {
    expect(fitName(['shop', 'users', 'a'], 32)).toBe('shop-users-a');
  });

  it('shortens with a stable hash suffix and stays within the limit', () => {
    const long = fitName(['a-very-long-environment-name', 'a-very-long-service-name', 'a'], 32);
    expect(long).toHaveLength(32);
    expect(long).toMatch(/^a-very-long-environment-n-[0-9a-f]{6}$/);
    expect(fitName(['a-very-long-environment-name', 'a-very-long-service-name', 'a'], 32)).toBe(long);
  });

  it('keeps distinct inputs distinct after shortening', () => {
    const a = fitName(['environment-with-long-name', 'service-with-long-name', 'a'], 32);
    const b = fitName(['environment-with-long-name', 'service-with-long-name', 'b'], 32);
    expect(a).not.toBe(b);
    expect(a.length).toBeLessThanOrEqual(32);
    expect(b.length).toBeLessThanOrEqual(32);
  });

  it('never leaves a hyphen before the suffix doubled', () => {
    expect(fitName(['abcdefghij-', 'klmnop'], 16)).not.toMatch(/--/);
  });

  it('refuses a limit too small for any name', () => {
    expect(() => fitName(['abcdefgh', 'ijk'], 6)).toThrow(NameError);
  });
});

describe('ELB names', () => {
  it.each([
    ['a leading hyphen', '-shop-backend'],
    ['a trailing hyphen', 'shop-backend-'],
    ['an underscore', 'shop_backend'],
    ['a dot', 'shop.backend'],
  ])('refuses a name with %s', (_name, name) => {
    expect(() => checkElbName(name, 'backend ALB')).toThrow(`backend ALB name "${name}" may hold only letters, digits and inner hyphens`);
  });

  it('refuses names starting with internal-', () => {
    expect(() => checkElbName('internal-backend', 'backend ALB')).toThrow(/must not start with "internal-"/);
    expect(() => environmentNames('internal', 'internal')).toThrow(NameError);
  });

  it('derives every target group within 32 characters', () => {
    const names = workloadNames('a-rather-long-environment', 'an-even-longer-service-name-here');
    for (const tg of names.targetGroups) expect(tg.length).toBeLessThanOrEqual(32);
    expect(names.targetGroups[0]).not.toBe(names.targetGroups[1]);
  });

  it('names the environment-wide resources', () => {
    const names = environmentNames('shop', 'shop');
    expect(names).toMatchObject({ cluster: 'shop', backendAlb: 'shop-backend', frontendAlb: 'shop-frontend', internalNlb: 'shop-services', codeDeployApp: 'shop' });
    expect(names.albSecurityGroup('backend')).toBe('shop-backend-alb');
  });
});

describe('security group names', () => {
  it.each([
    ['the ALB groups', () => environmentNames('sg-prod', 'sg-prod').albSecurityGroup('backend'), 'sg-prod-backend-alb'],
    ['a workload group', () => workloadNames('sg-prod', 'users').securityGroup, 'sg-prod-users-tasks'],
    ['in capitals too', () => checkSecurityGroupName('SG-prod'), 'SG-prod'],
  ])('refuses names starting with sg- (%s)', (_name, derive, name) => {
    expect(derive).toThrow(new NameError(`security group name "${name}" must not start with "sg-" (AWS keeps that prefix for security group ids); rename the Environment`));
  });

  it('takes names that only contain sg', () => {
    expect(environmentNames('sgprod', 'sgprod').nlbSecurityGroup).toBe('sgprod-services-nlb');
    expect(workloadNames('shop', 'sg-users').securityGroup).toBe('shop-sg-users-tasks');
  });
});

describe('log group names', () => {
  it('refuses names starting with aws/', () => {
    expect(() => checkLogGroupName('aws/ecs/shop')).toThrow(NameError);
  });

  it('derives every log group under /ecs/, never under aws/', () => {
    expect(workloadNames('aws', 'users').logGroup).toBe('/ecs/aws/users');
  });
});
