/** Notification events from consecutive cycle summaries: what counts, dedup across cycles, recovery, summaries. */
import { describe, expect, it } from 'vitest';
import { deriveEvents, EMPTY_STATE, type DedupState, type NotificationEvent } from '../../../src/notify/events.js';
import { composeMessages } from '../../../src/notify/message.js';
import type { CycleSummary } from '../../../src/controller.js';
import { drifted, resource, summary } from './fixtures.js';

/** Runs the summaries through the derivation in order; the events of each cycle. */
function run(...summaries: CycleSummary[]): NotificationEvent[][] {
  let state: DedupState = EMPTY_STATE;
  return summaries.map((s) => {
    const next = deriveEvents(state, s);
    state = next.state;
    return next.events;
  });
}

const kinds = (events: NotificationEvent[]): string[] => events.map((e) => (e.kind === 'recovered' ? `recovered:${e.recovered ?? ''}` : e.kind));

describe('notification events', () => {
  it('a drift left in place: one event across cycles, one recovery when it is gone', () => {
    const cycles = run(summary([resource('users')]), summary([drifted('users')]), summary([drifted('users')]), summary([drifted('users')]), summary([resource('users')]), summary([resource('users')]));
    expect(cycles.map(kinds)).toEqual([[], ['drift'], [], [], ['recovered:drift'], []]);
    const [event] = cycles[1] ?? [];
    expect(event).toMatchObject({ key: 'drift:ecs-service/users', severity: 'warning', resource: { kind: 'Service', name: 'users', resource: 'AWS::ECS::Service shop-users' } });
    expect(event?.message).toBe('Drift on AWS::ECS::Service shop-users (Service/users): desiredCount (desired 2, live 5); left as is (selfHeal is off or the resource is suspended)');
    expect(cycles[4]?.[0]?.message).toMatch(/^Recovered: AWS::ECS::Service shop-users \(Service\/users\) no longer drifts/);
  });

  it('a drift self-heal corrected in the same cycle: one event that says so, and no recovery', () => {
    const cycles = run(summary([drifted('users', true)]), summary([resource('users')]), summary([drifted('users', true)]));
    expect(cycles.map(kinds)).toEqual([['drift'], [], ['drift']]);
    expect(cycles[0]?.[0]?.message).toMatch(/; corrected$/);
  });

  it('a conflict: once until resolved, then a recovery', () => {
    const conflict = resource('users', { state: 'Conflict', message: 'AWS::ECS::Service shop-users exists without converge tags' });
    const cycles = run(summary([conflict]), summary([conflict]), summary([resource('users')]));
    expect(cycles.map(kinds)).toEqual([['conflict'], [], ['recovered:conflict']]);
    expect(cycles[0]?.[0]).toMatchObject({ severity: 'error', message: 'Conflict on AWS::ECS::Service shop-users (Service/users): AWS::ECS::Service shop-users exists without converge tags' });
  });

  it('a failed or rolled-back deployment: once per deployment, recovered when the service is in sync again', () => {
    const failed = (id: string) =>
      resource('users', { state: 'Failed', message: 'deployment failed', progress: { kind: 'deployment', deploymentId: id, status: 'Stopped', note: 'rolled back: health checks failed' } });
    const cycles = run(summary([failed('d-1')]), summary([failed('d-1')]), summary([failed('d-2')]), summary([resource('users', { state: 'Progressing' })]), summary([resource('users')]));
    expect(cycles.map(kinds)).toEqual([['deployment-failed'], [], ['deployment-failed'], [], ['recovered:deployment-failed']]);
    expect(cycles[0]?.[0]?.message).toBe('Deployment d-1 of AWS::ECS::Service shop-users (Service/users) ended Stopped: rolled back: health checks failed');
  });

  it('an invalid revision: once per revision, recovered when a valid one is enforced', () => {
    const issue = { file: 's3://b/shop/services.yaml', document: 'Service/users', path: 'spec.desiredCount', message: 'expected a number' };
    const invalid = (rev: string) => summary([resource('users')], { rejectedRevision: rev, invalid: [issue] });
    const cycles = run(invalid('sha256:bad1'), invalid('sha256:bad1'), invalid('sha256:bad2'), summary([resource('users')], { revision: 'sha256:good' }));
    expect(cycles.map(kinds)).toEqual([['invalid-desired-state'], [], ['invalid-desired-state'], ['recovered:invalid-desired-state']]);
    expect(cycles[0]?.[0]?.message).toMatch(/^Desired state revision sha256:bad1 is invalid \(1 problem\(s\)\): .*spec\.desiredCount.*expected a number; still enforcing revision sha256:aaaa$/);
    expect(cycles[3]?.[0]?.message).toBe('Desired state is valid again: revision sha256:good is enforced');
  });

  it('a cycle that never reached the engine changes nothing; a resource that left the desired state ends without a message', () => {
    const failedLoad = summary([], { revision: undefined, outcome: 'error' });
    const cycles = run(summary([drifted('users')]), failedLoad, summary([drifted('users')]), summary([], { outcome: 'aborted' }), summary([drifted('users')]), summary([resource('billing')]), summary([drifted('users')]));
    expect(cycles.map(kinds)).toEqual([['drift'], [], [], [], [], [], ['drift']]);
  });

  it('many events at once make one summary message', () => {
    const many = Array.from({ length: 12 }, (_, i) => drifted(`svc${i}`));
    const [events = []] = run(summary([...many, resource('users', { state: 'Conflict', message: 'untagged' })]));
    expect(events).toHaveLength(13);
    const messages = composeMessages('shop', events);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ kind: 'summary', severity: 'error', title: 'converge shop: 13 events (12 drift, 1 conflict)' });
    expect(messages[0]?.lines).toHaveLength(13);
    // Ten or fewer: one message each.
    expect(composeMessages('shop', events.slice(0, 10))).toHaveLength(10);
    expect(composeMessages('shop', events.slice(0, 1))[0]).toMatchObject({ kind: 'drift', title: 'converge shop: drift: Service/svc0' });
  });
});
