import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';

const EXAMPLE = fileURLToPath(new URL('../../../desired-state/examples/shop/', import.meta.url));
const NLB = 'internal-shop-services-1234.us-east-1.elb.amazonaws.com';
const work = mkdtempSync(join(tmpdir(), 'converge-render-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(...args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main(['gateway', ...args], { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) });
  return { code, stdout, stderr };
}

function copyExample(name: string, edit?: (services: string) => string): string {
  const dir = join(work, name);
  cpSync(EXAMPLE, dir, { recursive: true });
  if (edit) writeFileSync(join(dir, 'services.yaml'), edit(readFileSync(join(dir, 'services.yaml'), 'utf8')));
  return dir;
}

// Any AWS lookup must fail fast and locally: nothing listens on the discard port.
const saved = { ...process.env };
beforeEach(() => {
  Object.assign(process.env, { AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' });
});
afterEach(() => {
  for (const key of ['AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION']) {
    if (saved[key] === undefined) delete process.env[key];
    else process.env[key] = saved[key];
  }
});

describe('converge gateway render', () => {
  it('prints the configuration with every backend on the given NLB', async () => {
    const result = await run('render', '--source', EXAMPLE, '--nlb-dns', NLB);
    expect(result.code).toBe(0);
    const config = JSON.parse(result.stdout) as { name: string; endpoints: { endpoint: string; method: string; backend: { host: string[] }[] }[]; extra_config: { router: { health_path: string } } };
    expect(config.name).toBe('converge-shop');
    expect(config.extra_config.router.health_path).toBe('/__health');
    expect(config.endpoints.find((e) => e.endpoint === '/users/{id}/orders')?.backend[0]?.host).toEqual([`http://${NLB}:10003`]);
    expect(new Set(config.endpoints.flatMap((e) => e.backend[0]?.host ?? []))).toEqual(new Set([`http://${NLB}:10001`, `http://${NLB}:10002`, `http://${NLB}:10003`]));
    expect(result.stderr).toMatch(/^sha256 [0-9a-f]{64}/);
  });

  it('prints byte-identical output on every run', async () => {
    const first = await run('render', '--source', EXAMPLE, '--nlb-dns', NLB);
    const second = await run('render', '--source', EXAMPLE, '--nlb-dns', NLB);
    expect(second.stdout).toBe(first.stdout);
  });

  it('reads the source from CONVERGE_SOURCE too', async () => {
    process.env.CONVERGE_SOURCE = EXAMPLE;
    try {
      expect((await run('render', '--nlb-dns', NLB)).code).toBe(0);
    } finally {
      delete process.env.CONVERGE_SOURCE;
    }
  });

  it('without --nlb-dns and no reachable AWS, uses a clearly fake host and says so', async () => {
    const result = await run('render', '--source', EXAMPLE);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('http://shop-services.nlb.invalid:10001');
    expect(result.stderr).toContain('using the placeholder shop-services.nlb.invalid');
  }, 30_000);

  it('exits 1 naming the service and route of a method KrakenD cannot route', async () => {
    const dir = copyExample('head-route', (text) => text.replace('- { path: /users, methods: [GET, POST] }', '- { path: /users, methods: [GET, POST, HEAD] }'));
    const result = await run('render', '--source', dir, '--nlb-dns', NLB);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('Service/users');
    expect(result.stderr).toContain('spec.routes[0].methods[2]');
    expect(result.stderr).toContain('"HEAD"');
  });

  it('exits 1 with the loader errors for invalid desired state', async () => {
    const dir = copyExample('bad-port', (text) => text.replace('listenerPort: 10002', 'listenerPort: 10001'));
    const result = await run('render', '--source', dir, '--nlb-dns', NLB);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('listenerPort');
  });

  it('exits 1 on an unknown subcommand or flag', async () => {
    expect((await run('publish')).code).toBe(1);
    expect((await run('render', '--source', EXAMPLE, '--bogus')).code).toBe(1);
  });
});
