import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { credentialWarnings, credentialWordIn, hasUrlUserinfo, looksLikeCredential, nameWords } from '../../../desired-state/credential-names.js';
import { parseDesiredState } from '../../../desired-state/parse.js';
import { diffTasks, buildRegisterInput } from '../../../reconcilers/task-definition/index.js';
import { normalizeTask } from '../../../reconcilers/shared/ecs.js';
import type { TaskDefinitionSpec } from '../../../desired-state/resources.js';
import { main } from '../../../src/cli/main.js';
import { Controller } from '../../../src/controller.js';
import { maskSensitive, REDACTED } from '../../../src/log/logger.js';
import { captureLogs } from '../../support/log-capture.js';

const EXAMPLE = fileURLToPath(new URL('../../../desired-state/examples/shop/', import.meta.url));
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const PASSWORD_IN_URL = 'postgres://app:s3cr3t-in-url@db.internal:5432/users';
const PLAIN_PASSWORD = 'hunter2-plain-value';

/** The example with the users service's env replaced. */
function exampleWithUsersEnv(env: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'converge-credentials-'));
  dirs.push(dir);
  cpSync(EXAMPLE, dir, { recursive: true });
  const file = join(dir, 'services.yaml');
  const before = readFileSync(file, 'utf8');
  const after = before.replace('    env: { LOG_LEVEL: info }\n    secrets:\n      DB_PASSWORD:', `    env: ${env}\n    secrets:\n      DB_PASSWORD:`);
  if (after === before) throw new Error('the example changed: users env not found');
  writeFileSync(file, after);
  return dir;
}

const RISKY_ENV = `{ LOG_LEVEL: info, ADMIN_PASSWORD: ${PLAIN_PASSWORD}, API_KEY: k-123, KEYBOARD_LAYOUT: de, MONKEY_MODE: "on", DATABASE_URL: "${PASSWORD_IN_URL}", PUBLIC_URL: "https://example.com/a@b" }`;

async function filesOf(dir: string) {
  const names = (await readdir(dir)).filter((name) => name.endsWith('.yaml'));
  return names.map((file) => ({ file, content: readFileSync(join(dir, file), 'utf8') }));
}

describe('the credential-name rule', () => {
  it.each([
    ['PASSWORD', 'PASSWORD'],
    ['DB_PASSWORD', 'PASSWORD'],
    ['PGPASSWORD', 'PASSWORD'],
    ['dbPassword', 'PASSWORD'],
    ['MYSQL_PWD', 'PWD'],
    ['DB_PASS', 'PASS'],
    ['CLIENT_SECRET', 'SECRET'],
    ['jwtSecret', 'SECRET'],
    ['GITHUB_TOKEN', 'TOKEN'],
    ['AccessToken', 'TOKEN'],
    ['API_KEY', 'KEY'],
    ['apiKey', 'KEY'],
    ['APIKEY', 'KEY'],
    ['STRIPE_KEYS', 'KEYS'],
    ['AWS_CREDENTIALS', 'CREDENTIAL'],
    ['GPG_PASSPHRASE', 'PASSPHRASE'],
  ])('%s looks like a credential (%s)', (name, word) => {
    expect(credentialWordIn(name)).toBe(word);
    expect(looksLikeCredential(name)).toBe(true);
  });

  it.each(['KEYBOARD_LAYOUT', 'MONKEY_MODE', 'TURNKEY', 'PASSENGER_LIMIT', 'BYPASS_CACHE', 'LOG_LEVEL', 'NODE_ENV', 'API_URL', 'AUTHOR', 'KEYCLOAK_REALM'])('%s does not', (name) => {
    expect(credentialWordIn(name)).toBeUndefined();
    expect(looksLikeCredential(name, 'plain')).toBe(false);
  });

  it('splits names into words at separators and case changes', () => {
    expect(nameWords('DB_PASSWORD')).toEqual(['DB', 'PASSWORD']);
    expect(nameWords('dbPassword')).toEqual(['DB', 'PASSWORD']);
    expect(nameWords('APIKey')).toEqual(['API', 'KEY']);
    expect(nameWords('KEYBOARD_LAYOUT')).toEqual(['KEYBOARD', 'LAYOUT']);
  });

  it('tells a URL that carries a user name or password', () => {
    expect(hasUrlUserinfo(PASSWORD_IN_URL)).toBe(true);
    expect(hasUrlUserinfo('https://token@api.example.com/')).toBe(true);
    expect(hasUrlUserinfo('redis://:pw@cache:6379')).toBe(true);
    expect(hasUrlUserinfo('https://example.com/a@b')).toBe(false);
    expect(hasUrlUserinfo('https://example.com/?user=a@b')).toBe(false);
    expect(hasUrlUserinfo('me@example.com')).toBe(false);
    expect(hasUrlUserinfo(42)).toBe(false);
    expect(looksLikeCredential('DATABASE_URL', PASSWORD_IN_URL)).toBe(true);
  });
});

describe('masking in change and drift events', () => {
  it('masks by the same rule, and a URL with userinfo on either side masks both', () => {
    expect(maskSensitive('DB_PASSWORD', 'x')).toBe(REDACTED);
    expect(maskSensitive('API_KEY', 'x')).toBe(REDACTED);
    expect(maskSensitive('KEYBOARD_LAYOUT', 'de')).toBe('de');
    expect(maskSensitive('DATABASE_URL', PASSWORD_IN_URL)).toBe(REDACTED);
    expect(maskSensitive('DATABASE_URL', 'postgres://db.internal/users', [PASSWORD_IN_URL])).toBe(REDACTED);
    expect(maskSensitive('DATABASE_URL', 'postgres://db.internal/users')).toBe('postgres://db.internal/users');
    expect(maskSensitive('API_KEY', undefined)).toBeUndefined();
  });

  it('the task definition diff shows no credential-looking value', () => {
    const spec = (environment: Record<string, string>): TaskDefinitionSpec => ({
      family: 'shop-users',
      region: 'us-east-1',
      cpu: 256,
      memory: 512,
      logGroupName: '/ecs/shop/users',
      executionRoleArn: 'arn:aws:iam::123456789012:role/x',
      service: { serviceName: 'shop-users', clusterName: 'shop' },
      container: { name: 'users', image: 'users:1', port: 8000, environment, secrets: {} },
    });
    const desired = { API_KEY: 'new-key', DATABASE_URL: PASSWORD_IN_URL, KEYBOARD_LAYOUT: 'de' };
    const live = { API_KEY: 'old-key', DATABASE_URL: 'postgres://db.internal/users', KEYBOARD_LAYOUT: 'fr' };
    const diffs = diffTasks(normalizeTask(buildRegisterInput(spec(desired), {})), normalizeTask(buildRegisterInput(spec(live), {})));
    expect(diffs).toEqual([
      { field: 'containers.users.environment.API_KEY', desired: REDACTED, live: REDACTED },
      { field: 'containers.users.environment.DATABASE_URL', desired: REDACTED, live: REDACTED },
      { field: 'containers.users.environment.KEYBOARD_LAYOUT', desired: 'de', live: 'fr' },
    ]);
  });
});

describe('warnings about credential-looking env variables', () => {
  it('name the document and the variable, say to use secrets, and never show the value', async () => {
    const dir = exampleWithUsersEnv(RISKY_ENV);
    const state = parseDesiredState(await filesOf(dir), 'sha256:test');
    const warnings = credentialWarnings(state);
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toMatch(/^Service\/users \(services\.yaml\): spec\.container\.env\.ADMIN_PASSWORD looks like a credential \(its name contains PASSWORD\).*spec\.container\.secrets\.ADMIN_PASSWORD/);
    expect(warnings[1]).toMatch(/spec\.container\.env\.API_KEY .*its name contains KEY/);
    expect(warnings[2]).toMatch(/spec\.container\.env\.DATABASE_URL .*URL with a user name or password/);
    const text = warnings.join('\n');
    for (const value of [PLAIN_PASSWORD, 's3cr3t-in-url', 'k-123', 'KEYBOARD_LAYOUT', 'MONKEY_MODE', 'PUBLIC_URL']) expect(text).not.toContain(value);
  });

  it('the example has none', async () => {
    expect(credentialWarnings(parseDesiredState(await filesOf(EXAMPLE), 'sha256:test'))).toEqual([]);
  });

  it('converge validate prints them and still exits 0', async () => {
    const dir = exampleWithUsersEnv(RISKY_ENV);
    let stderr = '';
    let stdout = '';
    const code = await main(['validate', '--source', dir], { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) });
    expect(code).toBe(0);
    expect(stderr).toMatch(/^valid: /);
    const lines = stderr.split('\n').filter((line) => line.startsWith('warning: '));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/ADMIN_PASSWORD looks like a credential/);
    expect(stderr + stdout).not.toContain(PLAIN_PASSWORD);
    expect(stderr + stdout).not.toContain('s3cr3t-in-url');
  });

  it("are the controller's warnings in every cycle summary and are logged without values", async () => {
    const dir = exampleWithUsersEnv(RISKY_ENV);
    const logs = captureLogs();
    const controller = new Controller({
      source: dir,
      log: logs.log,
      registry: [],
      resolveNetwork: () =>
        Promise.resolve({
          vpcId: 'vpc-1',
          vpcCidr: '10.0.0.0/16',
          privateSubnets: [{ id: 'subnet-a', availabilityZone: 'us-east-1a' }, { id: 'subnet-b', availabilityZone: 'us-east-1b' }],
          publicSubnets: [{ id: 'subnet-c', availabilityZone: 'us-east-1a' }, { id: 'subnet-d', availabilityZone: 'us-east-1b' }],
          zoneId: 'Z1',
          zoneName: 'example.com',
          warnings: ['a network warning'],
        }),
    });
    try {
      const summary = await controller.runCycle({ mode: 'plan', trigger: 'manual' });
      expect(summary.warnings.filter((w) => w.includes('looks like a credential'))).toHaveLength(3);
      expect(summary.warnings).toContain('a network warning');
      expect(logs.ofEvent('warning').filter((e) => String(e.msg).includes('looks like a credential'))).toHaveLength(3);
      expect(JSON.stringify(logs.events)).not.toContain(PLAIN_PASSWORD);
      expect(JSON.stringify(summary)).not.toContain('s3cr3t-in-url');
    } finally {
      controller.close();
    }
  });
});
