/** `converge status`: the table (golden text, no colour), colour codes, the document check and exit codes that need no AWS. */
import { describe, expect, it } from 'vitest';
import { formatAge, formatStatus, parseStatusDocument } from '../../../src/cli/status.js';
import { main } from '../../../src/cli/main.js';
import type { PublishedStatus } from '../../../src/daemon/status-object.js';

const DOC: PublishedStatus = {
  apiVersion: 'converge/v1',
  kind: 'Status',
  source: 's3://converge-desired-state/shop/',
  writtenAt: '2025-01-01T10:00:05.000Z',
  writer: { holder: 'daemon:host/7/abcd', generation: 2, daemonStartedAt: '2025-01-01T09:00:00.000Z' },
  lastCycle: {
    cycle: 'c42',
    trigger: 'interval',
    mode: 'apply',
    outcome: 'progressing',
    revision: 'sha256:1111222233334444',
    startedAt: '2025-01-01T10:00:02.000Z',
    endedAt: '2025-01-01T10:00:04.000Z',
    durationMs: 2_000,
    changes: 1,
    drifts: 1,
    errors: 0,
    pending: 0,
  },
  enforcedRevision: 'sha256:1111222233334444',
  rejected: { revision: 'sha256:9999888877776666', problems: 1, issues: [{ file: 's3://converge-desired-state/shop/services.yaml', document: 'Service/users', path: 'spec.cpu', message: 'expected a number' }] },
  sourceHealth: { healthy: true },
  resourceCounts: { InSync: 1, Drifted: 1, Progressing: 1 },
  resources: [
    { kind: 'Frontend', name: 'web', resource: 'AWS::ECS::Service shop-web', state: 'InSync' },
    { kind: 'Service', name: 'users', resource: 'AWS::ECS::Service shop-users', state: 'Drifted', drift: ['desiredCount'] },
    { kind: 'Service', name: 'billing', resource: 'AWS::ECS::Service shop-billing', state: 'Progressing', message: 'deployment d-1 in progress' },
  ],
  resourcesOmitted: 0,
  deployments: [{ kind: 'Service', name: 'billing', resource: 'AWS::ECS::Service shop-billing', deploymentId: 'd-1', status: 'InProgress', trafficShiftedPercent: 40, taskDefinition: 'shop-billing:4' }],
  cycles: [
    { outcome: 'progressing', revision: 'sha256:1111222233334444', count: 2, firstCycle: 'c41', firstEndedAt: '2025-01-01T09:59:04.000Z', lastEndedAt: '2025-01-01T10:00:04.000Z' },
    { outcome: 'converged', revision: 'sha256:0000', count: 30, firstCycle: 'c11', firstEndedAt: '2025-01-01T09:30:00.000Z', lastEndedAt: '2025-01-01T09:58:00.000Z' },
  ],
  fingerprint: 'sha256:x',
};

const GOLDEN = `converge status  s3://converge-desired-state/shop/
Last cycle    2m 16s ago: progressing, cycle c42 (interval, apply, 2.0s) at 2025-01-01T10:00:04.000Z
Written       2m 15s ago by daemon:host/7/abcd (lease generation 2); rewritten only when something in it changes
Daemon        running: daemon:host/7/abcd renewed its lease 10s ago
Enforced      sha256:1111222233334444
Rejected      sha256:9999888877776666: 1 problem(s), not enforced
              ! s3://converge-desired-state/shop/services.yaml Service/users spec.cpu: expected a number
Source        readable
Resources     1 Drifted, 1 Progressing, 1 InSync

  STATE        RESOURCE                        OWNER            MESSAGE
  Drifted      AWS::ECS::Service shop-users    Service/users    drift: desiredCount
  Progressing  AWS::ECS::Service shop-billing  Service/billing  deployment d-1 in progress
  InSync       AWS::ECS::Service shop-web      Frontend/web

Deployments
  Service/billing  d-1  InProgress  40% traffic shifted  shop-billing:4

Cycles (newest first; consecutive cycles with the same outcome counted together)
  progressing  ×2   from 2025-01-01T09:59:04.000Z  to 2025-01-01T10:00:04.000Z  revision sha256:1111222233334444
  converged    ×30  from 2025-01-01T09:30:00.000Z  to 2025-01-01T09:58:00.000Z  revision sha256:0000`;

const NOW = new Date('2025-01-01T10:02:20.000Z');
const LEASE = { holder: 'daemon:host/7/abcd', generation: 2, durationMs: 60_000, acquiredAt: '2025-01-01T09:00:00.000Z', renewedAt: '2025-01-01T10:02:10.000Z' };

describe('converge status', () => {
  it('prints the table a person reads at a glance (golden text, no colour)', () => {
    expect(formatStatus(DOC, { now: NOW, color: false, lease: LEASE })).toBe(GOLDEN);
  });

  it('says when the lease is no longer renewed, and colours states on a terminal', () => {
    const stale = formatStatus(DOC, { now: new Date('2025-01-01T10:10:00.000Z'), color: false, lease: LEASE });
    expect(stale).toMatch(/^Daemon {8}lease not renewed for 7m 50s \(duration 1m 0s\): the daemon daemon:host\/7\/abcd may be down$/m);
    const coloured = formatStatus(DOC, { now: NOW, color: true, lease: LEASE });
    expect(coloured).toContain('\u001b[33mDrifted');
    expect(coloured).toContain('\u001b[32m1 InSync\u001b[0m');
    // Colour changes no column.
    expect(coloured.split('\u001b[').map((part, i) => (i === 0 ? part : part.replace(/^\d+m/, ''))).join('')).toBe(GOLDEN);
  });

  it('formats ages', () => {
    expect([formatAge(0), formatAge(42_400), formatAge(192_000), formatAge(7_500_000), formatAge(3 * 86_400_000 + 4 * 3_600_000)]).toEqual(['0s', '42s', '3m 12s', '2h 5m', '3d 4h']);
  });

  it('accepts only a converge status document', () => {
    expect(parseStatusDocument(JSON.stringify(DOC))).toEqual(DOC);
    expect(parseStatusDocument('{"kind":"Status"}')).toBeUndefined();
    expect(parseStatusDocument('not json')).toBeUndefined();
  });

  it('exits 1 without an S3 source', async () => {
    let stderr = '';
    const io = { stdout: () => undefined, stderr: (text: string) => (stderr += text) };
    const saved = process.env.CONVERGE_SOURCE;
    delete process.env.CONVERGE_SOURCE;
    try {
      expect(await main(['status'], io)).toBe(1);
      expect(stderr).toMatch(/no desired state source/);
      stderr = '';
      expect(await main(['status', '--source', './desired-state/examples/shop'], io)).toBe(1);
      expect(stderr).toMatch(/local folder.*S3 sources only/);
    } finally {
      if (saved !== undefined) process.env.CONVERGE_SOURCE = saved;
    }
  });
});
