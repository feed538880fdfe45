import { describe, expect, it } from 'vitest';
import { checkElbName, environmentNames, fitName, NameError, workloadNames } from '../../../desired-state/naming.js';

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
