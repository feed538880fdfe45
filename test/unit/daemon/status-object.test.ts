/** The status document beside the desired state: what it holds, its bounds, and that it is written only when it changed. */
import type { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import type { CycleSummary } from '../../../src/controller.js';
import { buildPublishedStatus, recordRun, STATUS_LIMITS, StatusPublisher, statusFingerprint, type OutcomeRun } from '../../../src/daemon/status-object.js';
import { StatusTracker, type StatusDocument } from '../../../src/daemon/status.js';
import type { LeaseStatus } from '../../../src/lease/lease.js';
import { captureLogs } from '../../support/log-capture.js';
import { drifted, resource, summary } from '../notify/fixtures.js';

const LEASE: LeaseStatus = {
  enabled: true,
  location: 's3://b/shop/.converge/lease.json',
  self: 'daemon:host/1/abcd',
  role: 'holder',
  holder: 'daemon:host/1/abcd',
  generation: 3,
  durationMs: 60_000,
  writableUntil: '2025-01-01T10:00:40.000Z',
  lastRenewedAt: '2025-01-01T10:00:00.000Z',
  transitions: 1,
};

/** The daemon's status after the given cycles, each ending a minute after the previous one. */
function statusAfter(tracker: StatusTracker, s: CycleSummary, endedAt: Date, lease: LeaseStatus = LEASE): StatusDocument {
  tracker.cycleEnded(s, undefined, endedAt);
  return tracker.document(
    { source: 's3://b/shop/', enforcedRevision: s.revision, shuttingDown: false, ready: { ready: true }, lease: { ...lease, lastRenewedAt: endedAt.toISOString() } },
    endedAt,
  );
}

/** A fake S3 client: counts PutObject calls, fails them while `failing`. */
function fakeS3(): { client: S3Client; puts: { Key?: string; Body?: string }[]; failing: { on: boolean } } {
  const puts: { Key?: string; Body?: string }[] = [];
  const failing = { on: false };
  const client = {
    send: (command: { input: { Key?: string; Body?: string } }) => {
      if (failing.on) return Promise.reject(Object.assign(new Error('Service Unavailable'), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } }));
      puts.push(command.input);
      return Promise.resolve({ ETag: '"e"' });
    },
  } as unknown as S3Client;
  return { client, puts, failing };
}

describe('the status document', () => {
  it('holds the revisions, each resource with its state, message and drifted fields, deployments, the last cycle and the lease holder', () => {
    const tracker = new StatusTracker();
    const progressing = resource('billing', {
      state: 'Progressing',
      message: 'deployment d-1 in progress',
      progress: { kind: 'deployment', deploymentId: 'd-1', status: 'InProgress', trafficShiftedPercent: 40, taskDefinition: 'shop-billing:4' },
    });
    const s = summary([resource('web'), drifted('users'), progressing], { outcome: 'progressing' });
    const doc = buildPublishedStatus(statusAfter(tracker, s, new Date('2025-01-01T10:01:00Z')), recordRun([], { cycle: s.cycle, outcome: 'progressing', revision: s.revision, endedAt: '2025-01-01T10:01:00.000Z' }), new Date('2025-01-01T10:01:01Z'));
    expect(doc).toMatchObject({
      apiVersion: 'converge/v1',
      kind: 'Status',
      source: 's3://b/shop/',
      writtenAt: '2025-01-01T10:01:01.000Z',
      writer: { holder: 'daemon:host/1/abcd', generation: 3 },
      lastCycle: { cycle: s.cycle, outcome: 'progressing', endedAt: '2025-01-01T10:01:00.000Z', durationMs: 1200 },
      enforcedRevision: 'sha256:aaaa',
      rejected: null,
      resourceCounts: { InSync: 1, Drifted: 1, Progressing: 1 },
      resourcesOmitted: 0,
      deployments: [{ kind: 'Service', name: 'billing', deploymentId: 'd-1', status: 'InProgress', trafficShiftedPercent: 40, taskDefinition: 'shop-billing:4' }],
      cycles: [{ outcome: 'progressing', count: 1 }],
    });
    // What needs attention first; drift by field name only (values stay in the logs).
    expect(doc.resources.map((r) => [r.state, r.name, r.drift ?? null])).toEqual([
      ['Drifted', 'users', ['desiredCount']],
      ['Progressing', 'billing', null],
      ['InSync', 'web', null],
    ]);
    expect(JSON.stringify(doc)).not.toContain('"live"');
    expect(doc.fingerprint).toBe(statusFingerprint(doc));
  });

  it('is bounded: at most STATUS_LIMITS.resources resources (in-sync ones left out first), messages cut', () => {
    const tracker = new StatusTracker();
    const many = Array.from({ length: STATUS_LIMITS.resources + 50 }, (_, i) => resource(`s${i}`));
    const failed = resource('broken', { state: 'Failed', message: `x${'y'.repeat(5_000)}` });
    const doc = buildPublishedStatus(statusAfter(tracker, summary([...many, failed]), new Date()), []);
    expect(doc.resources).toHaveLength(STATUS_LIMITS.resources);
    expect(doc.resourcesOmitted).toBe(51);
    expect(doc.resources[0]?.name).toBe('broken');
    expect(doc.resources[0]?.message?.length).toBeLessThanOrEqual(STATUS_LIMITS.messageChars);
  });

  it('counts consecutive cycles with the same outcome as one run, outside the fingerprint', () => {
    let runs: OutcomeRun[] = [];
    const fingerprints: string[] = [];
    const tracker = new StatusTracker();
    for (let i = 0; i < 5; i += 1) {
      const s = summary([resource('users')]);
      const endedAt = new Date(Date.UTC(2025, 0, 1, 10, i));
      runs = recordRun(runs, { cycle: s.cycle, outcome: s.outcome, revision: s.revision, endedAt: endedAt.toISOString() });
      fingerprints.push(buildPublishedStatus(statusAfter(tracker, s, endedAt), runs, endedAt).fingerprint);
    }
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ outcome: 'converged', count: 5, firstEndedAt: '2025-01-01T10:00:00.000Z', lastEndedAt: '2025-01-01T10:04:00.000Z' });
    expect(new Set(fingerprints).size).toBe(1);
    runs = recordRun(runs, { cycle: 'x', outcome: 'error', revision: 'sha256:aaaa', endedAt: '2025-01-01T10:05:00.000Z' });
    expect(runs.map((r) => r.outcome)).toEqual(['error', 'converged']);
    for (let i = 0; i < 20; i += 1) runs = recordRun(runs, { cycle: `y${i}`, outcome: i % 2 === 0 ? 'converged' : 'error', endedAt: 'now' });
    expect(runs).toHaveLength(STATUS_LIMITS.runs);
  });
});

describe('StatusPublisher', () => {
  it('writes after the first cycle and when something changed, never for a steady-state cycle', async () => {
    const s3 = fakeS3();
    const logs = captureLogs();
    const publisher = new StatusPublisher({ s3: () => s3.client, bucket: 'b', key: 'shop/.converge/status.json', log: logs.log });
    const tracker = new StatusTracker();
    const at = (minute: number): Date => new Date(Date.UTC(2025, 0, 1, 10, minute));
    publisher.cycleEnded(statusAfter(tracker, summary([resource('users')]), at(0)), true, at(0));
    await publisher.idle();
    expect(s3.puts).toHaveLength(1);
    expect(s3.puts[0]?.Key).toBe('shop/.converge/status.json');
    // Steady state: new cycle ids, times, lease renewals: no write.
    for (let minute = 1; minute <= 5; minute += 1) publisher.cycleEnded(statusAfter(tracker, summary([resource('users')]), at(minute)), true, at(minute));
    await publisher.idle();
    expect(s3.puts).toHaveLength(1);
    // A drift: written; the same drift again: not.
    publisher.cycleEnded(statusAfter(tracker, summary([drifted('users')]), at(6)), true, at(6));
    publisher.cycleEnded(statusAfter(tracker, summary([drifted('users')]), at(7)), true, at(7));
    await publisher.idle();
    expect(s3.puts).toHaveLength(2);
    expect(JSON.parse(s3.puts[1]?.Body ?? '{}')).toMatchObject({ resourceCounts: { Drifted: 1 }, lastCycle: { endedAt: at(6).toISOString() } });
    expect(logs.ofEvent('status-written')).toHaveLength(2);
  });

  it('a standby writes nothing, and writes afresh once it holds the lease', async () => {
    const s3 = fakeS3();
    const publisher = new StatusPublisher({ s3: () => s3.client, bucket: 'b', key: 'k', log: captureLogs().log });
    const tracker = new StatusTracker();
    publisher.cycleEnded(statusAfter(tracker, summary([resource('users')]), new Date()), true);
    await publisher.idle();
    publisher.cycleEnded(statusAfter(tracker, summary([resource('users')]), new Date()), false);
    await publisher.idle();
    expect(s3.puts).toHaveLength(1);
    // Another converge may have written meanwhile: the same content is written again.
    publisher.cycleEnded(statusAfter(tracker, summary([resource('users')]), new Date()), true);
    await publisher.idle();
    expect(s3.puts).toHaveLength(2);
  });

  it('a failed write is logged as status-error and tried again after the next cycle', async () => {
    const s3 = fakeS3();
    const logs = captureLogs();
    const publisher = new StatusPublisher({ s3: () => s3.client, bucket: 'b', key: 'k', log: logs.log });
    const tracker = new StatusTracker();
    s3.failing.on = true;
    publisher.cycleEnded(statusAfter(tracker, summary([resource('users')]), new Date()), true);
    await publisher.idle();
    expect(logs.ofEvent('status-error')).toHaveLength(1);
    expect(logs.ofEvent('status-error')[0]).toMatchObject({ level: 'warn', location: 's3://b/k' });
    s3.failing.on = false;
    publisher.cycleEnded(statusAfter(tracker, summary([resource('users')]), new Date()), true);
    await publisher.idle();
    expect(s3.puts).toHaveLength(1);
  });
});
