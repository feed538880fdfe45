import { CloudWatchLogsClient, CreateLogGroupCommand, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedEnvironment } from '../../../scripts/seed.js';
import { Controller } from '../../../src/controller.js';
import { captureLogs } from '../../support/log-capture.js';
import { useMoto } from '../../support/moto.js';

const EXAMPLE = fileURLToPath(new URL('../../../desired-state/examples/shop/', import.meta.url));
const dirs: string[] = [];

/** A copy of the example with one textual edit in one file. */
function mutatedExample(file: string, from: string | RegExp, to: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'converge-invalid-'));
  dirs.push(dir);
  cpSync(EXAMPLE, dir, { recursive: true });
  const path = join(dir, file);
  const before = readFileSync(path, 'utf8');
  const after = before.replace(from, to);
  if (after === before) throw new Error(`the mutation ${String(from)} did not apply to ${file}`);
  writeFileSync(path, after);
  return dir;
}

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const INVALID: { name: string; file: string; from: string | RegExp; to: string; path: RegExp; message: RegExp }[] = [
  { name: 'an unknown field', file: 'services.yaml', from: '  desiredCount: 2\n  listenerPort: 10001', to: '  desiredCount: 2\n  replicas: 3\n  listenerPort: 10001', path: /^spec\.replicas$/, message: /unknown|not allowed|unrecognized/i },
  { name: 'a wrong type', file: 'services.yaml', from: '  desiredCount: 2\n  listenerPort: 10001', to: '  desiredCount: two\n  listenerPort: 10001', path: /^spec\.desiredCount$/, message: /number|integer/i },
  { name: 'a missing required field', file: 'gateway.yaml', from: '    image: devopsfaith/krakend:2.10\n', to: '', path: /^spec\.container\.image$/, message: /required|missing/i },
  { name: 'a duplicate listener port', file: 'services.yaml', from: 'listenerPort: 10002', to: 'listenerPort: 10001', path: /listenerPort/, message: /10001|already|duplicate/i },
  { name: 'a duplicate route', file: 'services.yaml', from: '{ path: /invoices, methods: [GET, POST] }', to: '{ path: /users, methods: [GET] }', path: /routes/, message: /GET \/users|duplicate|already/i },
  { name: 'an undefined backend placeholder', file: 'services.yaml', from: 'backendPath: "/v1/users/{id}"', to: 'backendPath: "/v1/users/{userId}"', path: /backendPath/, message: /userId/ },
  { name: 'a plain secret value', file: 'services.yaml', from: 'DB_PASSWORD: arn:aws:secretsmanager:us-east-1:123456789012:secret:users-db', to: 'DB_PASSWORD: hunter2-very-secret', path: /secrets\.DB_PASSWORD/, message: /ARN/ },
  { name: 'a cpu/memory pair Fargate does not offer', file: 'services.yaml', from: '    cpu: 256\n    memory: 512', to: '    cpu: 256\n    memory: 4096', path: /spec\.container\.memory|spec\.container/, message: /Fargate|256/ },
  { name: 'a duplicate name', file: 'services.yaml', from: 'name: billing', to: 'name: users', path: /metadata\.name/, message: /duplicate|already|more than once/i },
  { name: 'an invalid log retention', file: 'environment.yaml', from: 'logRetentionDays: 30', to: 'logRetentionDays: 31', path: /logRetentionDays/, message: /30|retention|one of/i },
  { name: 'a canary config behind the NLB', file: 'services.yaml', from: '  deployment: { strategy: blue-green }', to: '  deployment: { strategy: blue-green, config: CodeDeployDefault.ECSCanary10Percent5Minutes }', path: /deployment\.config/, message: /NLB|all at once|AllAtOnce/i },
  { name: 'a health check timeout longer than its interval', file: 'environment.yaml', from: 'timeoutSeconds: 5', to: 'timeoutSeconds: 60', path: /timeoutSeconds/, message: /interval/i },
];

describe('invalid desired state is rejected before any write (moto)', () => {
  useMoto({ setProcessEnv: true });

  it.each(INVALID)('$name', async ({ file, from, to, path, message }) => {
    const { log, ofEvent } = captureLogs();
    const summary = await new Controller({ source: mutatedExample(file, from, to), log }).runCycle({ mode: 'apply', trigger: 'manual' });
    expect(summary.outcome).toBe('invalid');
    expect(summary.awsWrites).toBe(0);
    expect(summary.awsCalls).toBe(0);
    const events = ofEvent('invalid-desired-state');
    expect(events).toHaveLength(1);
    const errors = events[0]!.errors as { file: string; path: string; message: string }[];
    expect(errors.some((e) => e.file.endsWith(file) && path.test(e.path) && message.test(e.message)), JSON.stringify(errors, null, 2)).toBe(true);
    expect(JSON.stringify(events)).not.toContain('hunter2');
  });
});

describe('a same-named resource without the ownership tags (moto)', () => {
  const moto = useMoto({ setProcessEnv: true });
  let source = '';

  beforeAll(async () => {
    source = (await seedEnvironment({ endpoint: moto.endpoint, documentsDir: EXAMPLE })).source;
  });

  it('is reported as a conflict and left untouched', async () => {
    const logs = new CloudWatchLogsClient(moto.clientConfig);
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/ecs/shop/users', tags: { team: 'someone-else' } }));
    const capture = captureLogs();
    const summary = await new Controller({ source, log: capture.log }).runCycle({ mode: 'apply', trigger: 'manual' });
    const conflict = summary.resources.find((r) => r.id === 'log-group//ecs/shop/users');
    expect(conflict?.state).toBe('Conflict');
    expect(capture.ofEvent('conflict')).toEqual([expect.objectContaining({ level: 'warn', resource: 'AWS::Logs::LogGroup /ecs/shop/users' })]);
    const live = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/ecs/shop/users' }));
    expect(live.logGroups?.[0]?.retentionInDays).toBeUndefined();
    expect(summary.callsByOperation['Logs:PutRetentionPolicy'] ?? 0).toBe(summary.resources.filter((r) => r.type === 'log-group' && r.state === 'InSync').length);
    expect(summary.resources.find((r) => r.id === 'log-group//ecs/shop/billing')?.state).toBe('InSync');
  });
});
