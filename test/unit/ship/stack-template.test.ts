import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { printed, renderForEnvironment, StackTemplateError, templatePolicy, unscopedTemplate } from '../../../scripts/stack-template.js';
import { policyDocument, UNSCOPED } from '../../../src/cli/iam-policy.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const EXAMPLE = join(ROOT, 'desired-state', 'examples', 'shop');
const committed = readFileSync(join(ROOT, 'deploy', 'converge.yaml'), 'utf8');

interface Template {
  Description: string;
  Parameters: Record<string, { Default?: unknown; AllowedValues?: unknown[] }>;
  Resources: Record<string, { Type: string }>;
}

describe('deploy/converge.yaml and its renderer', () => {
  const saved = process.env.CONVERGE_ARTIFACTS;
  afterEach(() => {
    if (saved === undefined) delete process.env.CONVERGE_ARTIFACTS;
    else process.env.CONVERGE_ARTIFACTS = saved;
  });

  it('carries the policy converge iam-policy prints without a desired state (else: npm run deploy:template -- --write)', () => {
    expect(templatePolicy(committed)).toEqual(printed(policyDocument(UNSCOPED)));
  });

  it('is what --write writes: writing it again changes nothing', () => {
    expect(unscopedTemplate(committed)).toBe(committed);
  });

  it('renders for one Environment: the scoped policy, the bucket and prefix pinned, the rest untouched', async () => {
    const rendered = await renderForEnvironment({ source: 's3://acme-desired/shop/', documents: EXAMPLE, templateText: committed });
    expect(rendered.environment).toBe('shop');
    expect(rendered.policy.Id).toBe('converge-task-role-shop');
    expect(templatePolicy(rendered.template)).toEqual(printed(rendered.policy));
    const template = parse(rendered.template) as Template;
    const original = parse(committed) as Template;
    expect(template.Parameters.DesiredStateBucket).toMatchObject({ Default: 'acme-desired', AllowedValues: ['acme-desired'] });
    expect(template.Parameters.DesiredStatePrefix).toMatchObject({ Default: 'shop/', AllowedValues: ['shop/'] });
    expect(template.Description).toMatch(/^Environment shop \(s3:\/\/acme-desired\/shop\/\): converge/);
    expect(template.Resources).toEqual(
      // Only the task role's policy differs.
      expect.objectContaining(Object.fromEntries(Object.entries(original.Resources).filter(([id]) => id !== 'TaskRole'))),
    );
    expect(rendered.template.startsWith("# converge's stack for Environment shop")).toBe(true);
  });

  it('refuses what would make the policy disagree with the task', async () => {
    await expect(renderForEnvironment({ source: EXAMPLE, templateText: committed })).rejects.toThrow(StackTemplateError);
    process.env.CONVERGE_ARTIFACTS = 's3://elsewhere/x/';
    await expect(renderForEnvironment({ source: 's3://acme-desired/shop/', documents: EXAMPLE, templateText: committed })).rejects.toThrow(/CONVERGE_ARTIFACTS/);
  });

  it('refuses an invalid desired state', async () => {
    await expect(renderForEnvironment({ source: 's3://acme-desired/shop/', documents: join(ROOT, 'deploy'), templateText: committed })).rejects.toThrow(/invalid/);
  });
});
