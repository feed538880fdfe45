/**
 * Commands that call no AWS API load no AWS SDK client package, and a set of clients loads the
 * package of a client only when that client is first read (src/aws/clients.ts, src/cli/main.ts).
 *
 * converge runs from dist/ (built by the global setup), as users run it, in a child process with a
 * probe: a resolve hook records every module the ES module loader resolves, and on exit the probe
 * adds every CommonJS module in the require cache (the SDK's client packages are CommonJS, also
 * when imported, and src/aws/clients.ts `require`s them).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients, destroyAwsClients, madeClientNames } from '../../../src/aws/clients.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(ROOT, 'bin', 'converge.js');
const EXAMPLE = join('desired-state', 'examples', 'shop');
const SDK_CLIENT = /\/node_modules\/@aws-sdk\/(client-[\w-]+)\//;

const HOOKS = `import { appendFileSync } from 'node:fs';
let out;
export function initialize(data) { out = data.out; }
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(out, resolved.url + '\\n');
  return resolved;
}
`;

const probeSource = (hooks: string): string => `import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
const out = process.env.CONVERGE_MODULE_PROBE;
register(${JSON.stringify(pathToFileURL(hooks).href)}, { data: { out } });
process.on('exit', () => appendFileSync(out, Object.keys(createRequire(import.meta.url).cache).join('\\n') + '\\n'));
`;

let folder: string;
let probe: string;
let runs = 0;

beforeAll(() => {
  folder = mkdtempSync(join(tmpdir(), 'converge-lazy-sdk-'));
  const hooks = join(folder, 'hooks.mjs');
  writeFileSync(hooks, HOOKS);
  probe = join(folder, 'probe.mjs');
  writeFileSync(probe, probeSource(hooks));
});

afterAll(() => rmSync(folder, { recursive: true, force: true }));

/** Runs `node --import probe <args>` in the repository; the modules it loaded and its exit code. */
function loadedBy(args: string[]): Promise<{ code: number | null; stderr: string; modules: string[] }> {
  const out = join(folder, `modules-${(runs += 1)}.txt`);
  writeFileSync(out, '');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', pathToFileURL(probe).href, ...args], {
      cwd: ROOT,
      env: { ...process.env, CONVERGE_MODULE_PROBE: out },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      const modules = readFileSync(out, 'utf8').split('\n').filter((line) => line !== '');
      resolve({ code, stderr, modules: modules.map((module) => module.replace(/^file:\/\//, '')) });
    });
  });
}

function sdkClientPackages(modules: readonly string[]): string[] {
  return [...new Set(modules.flatMap((module) => SDK_CLIENT.exec(module)?.[1] ?? []))].sort();
}

describe('commands that call no AWS API load no AWS SDK client package', () => {
  const commands: [string, string[]][] = [
    ['--help', ['--help']],
    ['--version', ['--version']],
    ['validate', ['validate', '--source', EXAMPLE]],
    ['gateway render --nlb-dns', ['gateway', 'render', '--source', EXAMPLE, '--nlb-dns', 'internal.example.com']],
  ];

  it.each(commands)('converge %s', async (_name, args) => {
    const run = await loadedBy([CLI, ...args]);
    expect(run.code, run.stderr).toBe(0);
    // The probe saw the command's own modules (not an empty list that would pass anyway).
    expect(run.modules.some((module) => module.endsWith('/dist/src/cli/main.js'))).toBe(true);
    expect(sdkClientPackages(run.modules)).toEqual([]);
  });

  it('the probe sees a client package when one is loaded: reading aws.s3 loads @aws-sdk/client-s3 and no other', async () => {
    const clients = pathToFileURL(join(ROOT, 'dist', 'src', 'aws', 'clients.js')).href;
    const script = `const { createAwsClients, destroyAwsClients } = await import(${JSON.stringify(clients)});
const aws = createAwsClients({ region: 'us-east-1' });
if (aws.s3 !== aws.s3) throw new Error('a second read made a second client');
destroyAwsClients(aws);`;
    const run = await loadedBy(['--input-type=module', '-e', script]);
    expect(run.code, run.stderr).toBe(0);
    expect(sdkClientPackages(run.modules)).toEqual(['client-s3']);
  });
});

describe('createAwsClients', () => {
  it('makes a client the first time it is read, once, and destroys only the clients it made', () => {
    const aws = createAwsClients({ region: 'eu-west-1' });
    expect(aws.region).toBe('eu-west-1');
    expect(madeClientNames(aws)).toEqual([]);
    const ecs = aws.ecs;
    expect(aws.ecs).toBe(ecs);
    expect(aws.elbv2).toBe(aws.elbv2);
    expect(madeClientNames(aws)).toEqual(['ecs', 'elbv2']);
    destroyAwsClients(aws);
    expect(madeClientNames(aws)).toEqual([]);
  });

  it('reads its settings when created, so a bad value fails there and not at the first call', () => {
    const previous = process.env.AWS_MAX_ATTEMPTS;
    process.env.AWS_MAX_ATTEMPTS = 'many';
    try {
      expect(() => createAwsClients()).toThrow(/AWS_MAX_ATTEMPTS: "many" is not a whole number/);
    } finally {
      if (previous === undefined) delete process.env.AWS_MAX_ATTEMPTS;
      else process.env.AWS_MAX_ATTEMPTS = previous;
    }
  });
});
