/**
 * docs/pipeline-iam.md stays true: the plan role's policy lists exactly converge's read actions
 * (the operations of src/aws/iam-actions.ts the call counter counts as reads) but the secret
 * value the daemon's notifier reads, and the publish role's policy exactly the S3 actions of the
 * operations `converge publish` sends.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { callKindOf } from '../../../src/aws/call-counter.js';
import { IAM_OPERATIONS, S3_ACTION_OF_OPERATION } from '../../../src/aws/iam-actions.js';

const DOC = readFileSync(fileURLToPath(new URL('../../../docs/pipeline-iam.md', import.meta.url)), 'utf8');

interface Statement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
}

const policies = [...DOC.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1] ?? '') as { Statement: Statement[] });
const actionsOf = (policy: { Statement: Statement[] } | undefined, effect: 'Allow' | 'Deny' = 'Allow'): string[] =>
  [...new Set((policy?.Statement ?? []).filter((s) => s.Effect === effect).flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])))].sort();

describe('docs/pipeline-iam.md', () => {
  it('has the plan and the publish policy, in that order', () => {
    expect(policies).toHaveLength(2);
  });

  it("grants the plan role converge's read actions, and not the notifier's secret value", () => {
    const reads = IAM_OPERATIONS.filter((op) => callKindOf(op.operation) === 'read' && !(op.service === 'SecretsManager' && op.operation === 'GetSecretValue'));
    const expected = [...new Set(reads.flatMap((op) => op.grants.map((g) => g.action)))].sort();
    expect(actionsOf(policies[0]), 'update the plan policy in docs/pipeline-iam.md to converge’s read actions').toEqual(expected);
    expect(actionsOf(policies[0])).not.toContain('secretsmanager:GetSecretValue');
  });

  it('grants the publish role the S3 actions of what publish sends, and denies it the daemon’s objects', () => {
    const sent = ['ListObjectsV2', 'GetObject', 'PutObject', 'DeleteObject'];
    const source = readFileSync(fileURLToPath(new URL('../../../src/cli/publish.ts', import.meta.url)), 'utf8');
    // publish.ts calls these wrappers of src/aws/s3.ts and s3-checksum.ts, and no other AWS call.
    for (const wrapper of ['listObjects(', 'getObject(', 'putObjectWithChecksum(', 'putObjectConditionally(', 'deleteObject(']) expect(source).toContain(wrapper);
    expect(source).not.toMatch(/from '\.\.\/aws\/(?!s3\.js|s3-checksum\.js|clients\.js|errors\.js)/);
    expect(actionsOf(policies[1])).toEqual(sent.map((op) => S3_ACTION_OF_OPERATION[op]).sort());
    expect(actionsOf(policies[1], 'Deny')).toEqual(['s3:DeleteObject', 's3:PutObject']);
  });
});
