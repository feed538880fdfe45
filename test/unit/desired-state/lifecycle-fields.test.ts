/** The lifecycle fields of the desired state: scaling, suspend, ignore, reconcile (prune, suspend) and notifications. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { InvalidDesiredStateError, type DesiredStateIssue } from '../../../desired-state/errors.js';
import { parseDesiredState, type SourceFile } from '../../../desired-state/parse.js';
import type { DesiredState } from '../../../desired-state/types.js';

const EXAMPLE = fileURLToPath(new URL('../../../desired-state/examples/shop/', import.meta.url));
type Doc = { kind: string; metadata: { name: string }; spec: Record<string, unknown> };

/** The example's documents, changed by `edit`, as source files again. */
function example(edit: (docs: Doc[]) => void = () => undefined): SourceFile[] {
  const files = readdirSync(EXAMPLE).filter((name) => name.endsWith('.yaml')).sort();
  const parsed = files.map((file) => ({ file, docs: parseAllDocuments(readFileSync(join(EXAMPLE, file), 'utf8')).map((d) => d.toJS() as Doc) }));
  edit(parsed.flatMap((f) => f.docs));
  return parsed.map(({ file, docs }) => ({ file, content: docs.map((d) => stringify(d)).join('---\n') }));
}
const doc = (docs: Doc[], kind: string, name?: string): Doc => {
  const found = docs.find((d) => d.kind === kind && (name === undefined || d.metadata.name === name));
  if (!found) throw new Error(`no ${kind} ${name ?? ''}`);
  return found;
};
const parse = (files: SourceFile[]): DesiredState => parseDesiredState(files, 'sha256:t');
const issues = (files: SourceFile[]): DesiredStateIssue[] => {
  try {
    parse(files);
  } catch (error) {
    if (error instanceof InvalidDesiredStateError) return error.issues;
    throw error;
  }
  throw new Error('expected the desired state to be invalid');
};

describe('lifecycle fields', () => {
  it('default to no scaling, nothing suspended or ignored, prune off with a 0.5 share, no notifications', () => {
    const state = parse(example());
    expect(state.environment.spec.reconcile).toEqual({ selfHeal: true, prune: false, pruneLogs: false, maxPruneShare: 0.5, suspend: false });
    expect(state.environment.spec.notifications).toBeUndefined();
    for (const w of [state.gateway, state.frontend, ...state.services]) {
      expect(w.scaling).toBeUndefined();
      expect(w.suspend).toBe(false);
      expect(w.ignore).toEqual([]);
    }
  });

  it('merges scaling over the Environment defaults; a workload without desiredCount starts at minCount; enabled: false opts out', () => {
    const state = parse(
      example((docs) => {
        doc(docs, 'Environment').spec.defaults = { ...(doc(docs, 'Environment').spec.defaults as object), scaling: { minCount: 1, maxCount: 4, targetCpuPercent: 70 } };
        const users = doc(docs, 'Service', 'users');
        users.spec.scaling = { minCount: 2, maxCount: 10, targetMemoryPercent: 80, scaleInCooldownSeconds: 120 };
        delete users.spec.desiredCount;
        doc(docs, 'Frontend').spec.scaling = { requestsPerTarget: 1000 };
        doc(docs, 'Gateway').spec.scaling = { enabled: false };
      }),
    );
    const users = state.services.find((s) => s.name === 'users');
    expect(users?.scaling).toEqual({ minCount: 2, maxCount: 10, targetCpuPercent: 70, targetMemoryPercent: 80, scaleInCooldownSeconds: 120, scaleOutCooldownSeconds: 60 });
    expect(users?.desiredCount).toBe(2);
    expect(state.frontend.scaling).toEqual({ minCount: 1, maxCount: 4, targetCpuPercent: 70, requestsPerTarget: 1000, scaleInCooldownSeconds: 300, scaleOutCooldownSeconds: 60 });
    expect(state.gateway.scaling).toBeUndefined();
  });

  it('refuses scaling that is incomplete, out of order, without a target, around a desiredCount outside it, or counting requests behind the NLB', () => {
    const found = issues(
      example((docs) => {
        doc(docs, 'Service', 'users').spec.scaling = { minCount: 3, maxCount: 2, targetCpuPercent: 50 };
        const billing = doc(docs, 'Service', 'billing');
        billing.spec.scaling = { minCount: 3, maxCount: 6, requestsPerTarget: 100 };
        billing.spec.desiredCount = 1;
        doc(docs, 'Frontend').spec.scaling = { maxCount: 3 };
        doc(docs, 'Gateway').spec.scaling = { minCount: 1, maxCount: 3, targetCpuPercent: 150 };
      }),
    );
    const messages = found.map((i) => `${i.document ?? ''} ${i.path}: ${i.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/Service\/users spec\.scaling\.minCount: minCount 3 is greater than maxCount 2/),
        expect.stringMatching(/Service\/billing spec\.desiredCount: 1 is outside the scaling range 3 to 6/),
        expect.stringMatching(/Service\/billing spec\.scaling\.requestsPerTarget: a backend Service sits behind the internal NLB/),
        expect.stringMatching(/Frontend\/web spec\.scaling\.minCount: required when the workload scales/),
        expect.stringMatching(/Frontend\/web spec\.scaling: needs at least one target/),
        expect.stringMatching(/Gateway\/gateway spec\.scaling\.targetCpuPercent: targetCpuPercent must be a percentage from 1 to 100, got 150/),
      ]),
    );
  });

  it('reads suspend and ignore on a workload, and refuses a field converge does not reconcile, with a hint', () => {
    const state = parse(
      example((docs) => {
        const users = doc(docs, 'Service', 'users');
        users.spec.suspend = true;
        users.spec.reconcile = { ignore: ['desiredCount', 'containers.users.image', 'desiredCount'] };
      }),
    );
    const users = state.services.find((s) => s.name === 'users');
    expect(users).toMatchObject({ suspend: true, ignore: ['containers.users.image', 'desiredCount'] });
    const found = issues(example((docs) => (doc(docs, 'Service', 'users').spec.reconcile = { ignore: ['desiredCont'] })));
    expect(found[0]).toMatchObject({ path: 'spec.reconcile.ignore[0]' });
    expect(found[0]?.message).toMatch(/"desiredCont" is not a field converge reconciles on a workload \(did you mean "desiredCount"\?\)/);
  });

  it('reads the Environment reconcile settings and notifications, and refuses a bad share or an empty notifications block', () => {
    const state = parse(
      example((docs) => {
        const env = doc(docs, 'Environment');
        env.spec.reconcile = { prune: true, pruneLogs: true, maxPruneShare: 0.25, suspend: true };
        env.spec.notifications = { snsTopicArn: 'arn:aws:sns:us-east-1:123456789012:shop-alerts', webhook: { url: 'https://hooks.example.com/T0/B0/x', secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:hook-AbC123' } };
      }),
    );
    expect(state.environment.spec.reconcile).toEqual({ selfHeal: true, prune: true, pruneLogs: true, maxPruneShare: 0.25, suspend: true });
    expect(state.environment.spec.notifications).toEqual({
      snsTopicArn: 'arn:aws:sns:us-east-1:123456789012:shop-alerts',
      webhook: { url: 'https://hooks.example.com/T0/B0/x', secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:hook-AbC123' },
    });
    const found = issues(
      example((docs) => {
        const env = doc(docs, 'Environment');
        env.spec.reconcile = { maxPruneShare: 0 };
        env.spec.notifications = {};
      }),
    );
    expect(found.map((i) => `${i.path}: ${i.message}`)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/spec\.reconcile\.maxPruneShare: must be a share of the workloads greater than 0 and at most 1, got 0/),
        expect.stringMatching(/spec\.notifications: needs snsTopicArn, webhook or both/),
      ]),
    );
    const insecure = issues(example((docs) => (doc(docs, 'Environment').spec.notifications = { webhook: { url: 'http://hooks.example.com/secret-token' } })));
    expect(insecure[0]?.message).toMatch(/must be an https:\/\/ URL/);
    expect(JSON.stringify(insecure)).not.toContain('secret-token');
  });
});
