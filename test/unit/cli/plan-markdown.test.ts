/**
 * `converge plan --format markdown`: a golden file (test/unit/cli/golden/plan.md) for a plan with
 * changes in several workloads, drift, a failed and a conflicting resource, a rejected newer
 * revision and a warning; and the `--format`/`--json` flags. `UPDATE_GOLDEN=1` writes the file anew.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatPlanMarkdown, planFormat, planJson } from '../../../src/cli/format.js';
import { main } from '../../../src/cli/main.js';
import type { CycleSummary } from '../../../src/controller.js';
import type { ResourceResult } from '../../../src/engine/types.js';

const GOLDEN = fileURLToPath(new URL('./golden/plan.md', import.meta.url));

function resource(r: Partial<ResourceResult> & Pick<ResourceResult, 'kind' | 'name' | 'resource' | 'type'>): ResourceResult {
  return { id: `${r.type}/${r.name}`, state: 'InSync', drift: [], changes: [], ...r };
}

export const PLAN: CycleSummary = {
  cycle: 'c1',
  trigger: 'manual',
  mode: 'plan',
  revision: 'sha256:0123456789abcdef',
  rejectedRevision: 'sha256:fedcba9876543210',
  commit: '4b825dc642cb6eb9a060e54bf8d69288fbee4904',
  commitSubject: 'Scale users to 3 <and> add orders',
  outcome: 'changes-pending',
  startedAt: '2025-01-01T00:00:00.000Z',
  durationMs: 1234,
  changes: 0,
  drifts: 1,
  errors: 1,
  pending: 4,
  awsCalls: 41,
  awsReads: 41,
  awsWrites: 0,
  callsByOperation: { 'ECS:DescribeServices': 1 },
  warnings: ['Service users: env variable DB_PASSWORD looks like a credential: use secrets'],
  invalid: [{ file: 's3://configs/shop/services.yaml', document: 'Service/orders', path: 'spec.container.cpu', message: 'expected a number' }],
  resources: [
    resource({ kind: 'Environment', name: 'shop', type: 'ecs-cluster', resource: 'AWS::ECS::Cluster shop' }),
    resource({
      kind: 'Service',
      name: 'users',
      type: 'ecs-service',
      resource: 'AWS::ECS::Service shop-users',
      state: 'Pending',
      changes: [{ action: 'update', summary: 'desiredCount 2 -> 3', applied: false, diffs: [{ field: 'desiredCount', desired: 3, live: 2 }] }],
      drift: [{ field: 'healthCheckGracePeriodSeconds', desired: 60, live: 0 }],
    }),
    resource({
      kind: 'Service',
      name: 'users',
      type: 'task-definition',
      resource: 'AWS::ECS::TaskDefinition shop-users',
      state: 'Pending',
      changes: [{ action: 'create', applied: false, diffs: [{ field: 'containers.users.image', desired: 'registry/users:`v2`', live: undefined }] }],
    }),
    resource({
      kind: 'Service',
      name: 'orders',
      type: 'ecs-service',
      resource: 'AWS::ECS::Service shop-orders',
      state: 'Pending',
      changes: [{ action: 'create', summary: 'new service', applied: false, diffs: [{ field: 'taskDefinition', desired: 'x'.repeat(200), live: undefined }] }],
    }),
    resource({
      kind: 'Service',
      name: 'legacy',
      type: 'target-group',
      resource: 'AWS::ElasticLoadBalancingV2::TargetGroup shop-legacy-a',
      state: 'Pending',
      changes: [{ action: 'delete', summary: 'pruned: Service legacy is no longer in the desired state', applied: false, diffs: [] }],
    }),
    resource({ kind: 'Gateway', name: 'api', type: 'log-group', resource: 'AWS::Logs::LogGroup /ecs/shop/api', state: 'Failed', message: 'AccessDeniedException: not authorized to perform logs:PutRetentionPolicy' }),
    resource({ kind: 'Frontend', name: 'web', type: 'security-group', resource: 'AWS::EC2::SecurityGroup shop-web', state: 'Conflict', message: 'exists without converge:environment=shop: not touched' }),
    resource({ kind: 'Frontend', name: 'web', type: 'certificate', resource: 'AWS::CertificateManager::Certificate www.example.com', state: 'Progressing', message: 'waiting for DNS validation (ACM usually issues within minutes)' }),
  ],
};

describe('converge plan --format markdown', () => {
  it('matches the golden file', async () => {
    const text = `${formatPlanMarkdown(PLAN)}\n`;
    if (process.env.UPDATE_GOLDEN === '1') await writeFile(GOLDEN, text);
    expect(text).toBe(await readFile(GOLDEN, 'utf8'));
  });

  it('says so when nothing changes, and names a cycle that failed before it planned', () => {
    const quiet: CycleSummary = { ...PLAN, outcome: 'converged', pending: 0, errors: 0, drifts: 0, invalid: undefined, rejectedRevision: undefined, commit: undefined, commitSubject: undefined, warnings: [], resources: [PLAN.resources[0]!] };
    const text = formatPlanMarkdown(quiet);
    expect(text).toMatch(/^### converge plan: 0 changes pending, 0 drifts, 0 errors$/m);
    expect(text).toContain('No changes: the environment matches the desired state.');
    expect(text).not.toContain('commit');
    const failed: CycleSummary = { ...quiet, outcome: 'error', errors: 1, revision: undefined, resources: [], warnings: ['load desired state from s3://configs/shop/: AccessDenied'] };
    expect(formatPlanMarkdown(failed)).toMatch(/^### converge plan: error$[\s\S]*#### Errors and conflicts\n\n- load desired state from s3:\/\/configs\/shop\/: AccessDenied$/m);
  });

  it('the JSON plan carries the commit too', () => {
    expect(planJson(PLAN)).toMatchObject({ revision: PLAN.revision, commit: PLAN.commit, commitSubject: PLAN.commitSubject });
  });

  it('--format takes text, json or markdown, with --json as the alias of json', async () => {
    expect(planFormat(undefined, false)).toEqual({ format: 'text' });
    expect(planFormat(undefined, true)).toEqual({ format: 'json' });
    expect(planFormat('markdown', false)).toEqual({ format: 'markdown' });
    expect(planFormat('json', true)).toEqual({ format: 'json' });
    expect(planFormat('yaml', false)).toEqual({ error: '--format takes text, json or markdown, not "yaml"' });
    expect(planFormat('markdown', true)).toEqual({ error: '--json is --format json: it cannot go with --format markdown' });
    const out: string[] = [];
    const code = await main(['plan', '--source', './nowhere', '--json', '--format', 'text'], { stdout: (t) => out.push(t), stderr: (t) => out.push(t) });
    expect(code).toBe(1);
    expect(out.join('')).toMatch(/^converge: --json is --format json: it cannot go with --format text/);
  });
});
