import { describe, expect, it } from 'vitest';
import { classifyAwsError, describeAwsError, isAccessDenied, isEventuallyConsistent, isTerminalAwsError } from '../../../src/aws/errors.js';

const err = (name: string, status?: number, message = `${name}: no`): Error => Object.assign(new Error(message), { name, ...(status === undefined ? {} : { $metadata: { httpStatusCode: status } }) });

describe('AWS error classification', () => {
  it.each([
    ['DuplicateLoadBalancerNameException', 'conflict'],
    ['DuplicateTargetGroupNameException', 'conflict'],
    ['DuplicateListenerException', 'conflict'],
    ['ResourceAlreadyExistsException', 'conflict'],
    ['DeploymentLimitExceededException', 'conflict'],
    ['LoadBalancerNotFoundException', 'not-found'],
    ['TargetGroupNotFoundException', 'not-found'],
    ['ServiceNotFoundException', 'not-found'],
    ['ThrottlingException', 'transient'],
    ['ConcurrentUpdateException', 'transient'],
    ['RequestInProgressException', 'not-ready'],
    ['InvalidParameterException', 'terminal'],
    ['TooManyTagsException', 'terminal'],
  ])('%s is %s (names as the SDK v3 surfaces them)', (name, expected) => {
    expect(classifyAwsError(err(name, 400))).toBe(expected);
  });

  it('a 4xx refusal is terminal; a 5xx, or an error without an HTTP status (converge\'s own), is not', () => {
    expect(isTerminalAwsError(err('InvalidParameterException', 400))).toBe(true);
    expect(isTerminalAwsError(err('InternalError', 500))).toBe(false);
    expect(isTerminalAwsError(new Error('cannot tell who owns it'))).toBe(false);
  });

  it('a connection reset, refused or timed out is transient, also when the reset cut a 200 answer short', () => {
    const reset = Object.assign(new Error('aborted'), { code: 'ECONNRESET', $metadata: { httpStatusCode: 200 } });
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const timedOut = Object.assign(new Error('read ECONNRESET'), { name: 'TimeoutError', code: 'ECONNRESET' });
    for (const error of [reset, refused, timedOut]) {
      expect(classifyAwsError(error)).toBe('transient');
      expect(isTerminalAwsError(error)).toBe(false);
    }
    expect(classifyAwsError(Object.assign(new Error('no'), { code: 'ERR_SOMETHING_ELSE', $metadata: { httpStatusCode: 200 } }))).toBe('terminal');
  });

  it('tells eventual consistency right after a create from a real refusal', () => {
    expect(isEventuallyConsistent(err('InvalidGroup.NotFound', 400))).toBe(true);
    expect(isEventuallyConsistent(err('InvalidParameterException', 400, 'The target group with targetGroupArn arn:aws:... does not have an associated load balancer.'))).toBe(true);
    expect(isEventuallyConsistent(err('InvalidParameterException', 400, 'Invalid cpu value'))).toBe(false);
  });

  it('recognises access denied as the services spell it', () => {
    for (const name of ['AccessDeniedException', 'AccessDenied', 'UnauthorizedOperation']) expect(isAccessDenied(err(name, 403))).toBe(true);
    expect(isAccessDenied(err('ThrottlingException', 400))).toBe(false);
  });

  it('names the quota to raise when AWS refuses for a full quota, and nothing more otherwise', () => {
    expect(describeAwsError(err('TooManyLoadBalancersException', 400, "You've reached the limit on the number of load balancers for your AWS account."))).toBe(
      'TooManyLoadBalancersException: You\'ve reached the limit on the number of load balancers for your AWS account. (AWS quota "Application/Network Load Balancers per Region" reached: raise it in Service Quotas)',
    );
    expect(describeAwsError(err('RulesPerSecurityGroupLimitExceeded', 400))).toContain('"Inbound or outbound rules per security group"');
    expect(describeAwsError(err('DeploymentGroupLimitExceededException', 400))).toContain('"Deployment groups associated with a single application"');
    expect(describeAwsError(err('TooManyListenersException', 400))).toBe('TooManyListenersException: no (AWS quota "Listeners per load balancer: 50, for an NLB not adjustable" reached)');
    expect(describeAwsError(err('InvalidParameterException', 400))).toBe('InvalidParameterException: no');
  });

  it('tries a write refused for a full quota again later: a delete later in the cycle, or a person, may free it', () => {
    for (const name of ['TooManyListenersException', 'TooManyLoadBalancersException', 'RulesPerSecurityGroupLimitExceeded', 'DeploymentGroupLimitExceededException']) {
      expect(classifyAwsError(err(name, 400)), name).toBe('not-ready');
      expect(isTerminalAwsError(err(name, 400)), name).toBe(false);
    }
  });
});
