/**
 * The enforced revision's provenance and the publication state in `converge status` and in the
 * status document the daemon writes (src/daemon/status-object.ts).
 */
import { describe, expect, it } from 'vitest';
import { formatStatus } from '../../../src/cli/status.js';
import { buildPublishedStatus, statusFingerprint, type PublishedStatus } from '../../../src/daemon/status-object.js';
import { StatusTracker } from '../../../src/daemon/status.js';
import type { CycleSummary } from '../../../src/controller.js';

const NOW = new Date('2025-01-01T10:02:20.000Z');
const COMMIT = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

const summary: CycleSummary = {
  cycle: 'c1',
  trigger: 'source-change',
  mode: 'apply',
  revision: 'sha256:1111222233334444',
  commit: COMMIT,
  commitSubject: 'Scale users to 4',
  outcome: 'converged',
  startedAt: '2025-01-01T10:00:00.000Z',
  durationMs: 900,
  changes: 1,
  drifts: 0,
  errors: 0,
  pending: 0,
  awsCalls: 12,
  awsReads: 11,
  awsWrites: 1,
  callsByOperation: {},
  resources: [],
  warnings: [],
};

function statusDoc(publication: PublishedStatus['publication'], provenance: PublishedStatus['provenance']): PublishedStatus {
  const tracker = new StatusTracker();
  tracker.cycleEnded(summary, undefined, new Date('2025-01-01T10:00:01.000Z'));
  const status = tracker.document(
    {
      source: 's3://configs/shop/',
      enforcedRevision: summary.revision,
      provenance: provenance ?? undefined,
      publication: publication ?? undefined,
      shuttingDown: false,
      ready: { ready: true },
      lease: { enabled: false, reason: 'test' },
    },
    NOW,
  );
  return buildPublishedStatus(status, [], NOW);
}

describe('provenance in the status', () => {
  const provenance = { commit: COMMIT, subject: 'Scale users to 4', author: 'Grace Hopper <grace@example.com>', dirty: false, publishedAt: '2025-01-01T09:59:50.000Z' };

  it('the status document carries the provenance, the publication and the last cycle’s commit; the provenance counts in the fingerprint', () => {
    const doc = statusDoc({ state: 'published', manifest: 's3://configs/shop/.converge/manifest.json', graceMs: 120_000 }, provenance);
    expect(doc.provenance).toEqual(provenance);
    expect(doc.publication).toEqual({ state: 'published', manifest: 's3://configs/shop/.converge/manifest.json', graceMs: 120_000 });
    expect(doc.lastCycle?.commit).toBe(COMMIT);
    const other = statusDoc({ state: 'published', graceMs: 120_000 }, { ...provenance, commit: 'f'.repeat(40) });
    expect(statusFingerprint(other)).not.toBe(doc.fingerprint);
  });

  it('converge status prints the commit, and a publish the daemon does not apply', () => {
    const published = formatStatus(statusDoc({ state: 'published', graceMs: 120_000 }, provenance), { now: NOW, color: false });
    expect(published).toMatch(new RegExp(`^Enforced {6}sha256:1111222233334444\\nPublished {5}commit ${COMMIT} "Scale users to 4" by Grace Hopper <grace@example.com>, 2m 30s ago$`, 'm'));
    expect(published).not.toMatch(/^Publication/m);

    const unpublished = formatStatus(
      statusDoc({ state: 'unpublished', graceMs: 120_000, since: '2025-01-01T09:58:20.000Z', overdue: true, differences: [{ key: 'shop/services.yaml', change: 'changed' }] }, { ...provenance, dirty: true }),
      { now: NOW, color: false },
    );
    expect(unpublished).toMatch(/^Published {5}commit \w+ "Scale users to 4" by .* \(from a work tree with uncommitted changes\), 2m 30s ago$/m);
    expect(unpublished).toMatch(/^Publication {3}the documents differ from the published manifest since 4m 0s ago \(changed shop\/services\.yaml\): not applied until converge publish$/m);
  });

  it('a document without provenance (a daemon before publish existed, or no manifest) prints as before', () => {
    const plain = formatStatus(statusDoc(null, null), { now: NOW, color: false });
    expect(plain).not.toMatch(/^Published|^Publication/m);
    const { provenance: _p, publication: _q, ...older } = statusDoc(null, null);
    expect(formatStatus(older as PublishedStatus, { now: NOW, color: false })).toBe(plain);
  });
});
