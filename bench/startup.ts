/**
 * `npm run bench:startup` (also the end of `npm run bench`): what starting converge costs, from
 * dist/ as users run it (`node bin/converge.js ...`). Per command: the median of 5 runs (after one
 * unmeasured run that warms the file cache) of wall time, CPU time (user + system) and peak
 * resident memory (max RSS). Also the import of src/cli/main alone, and `node -e 0`: Node's own floor.
 *
 * Max RSS and CPU time come from `process.resourceUsage()` read in the child as it exits: every
 * run gets `--import` of a probe module (written to a temporary folder) that writes them to a
 * file. No tool beyond Node is needed. Wall time is measured here, spawn included.
 *
 * Wall time depends on the machine and on what else runs on it: CPU time varies less on a loaded
 * machine. Targets live here, never in timed tests: they are checked and printed as met or not.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 5);
const EXAMPLE = join('desired-state', 'examples', 'shop');

/** The probe: on exit, the child's own resource usage, as JSON, to the file the parent names. */
const PROBE = `import { writeFileSync } from 'node:fs';
process.on('exit', () => {
  const usage = process.resourceUsage();
  writeFileSync(process.env.CONVERGE_STARTUP_PROBE, JSON.stringify({ maxRssKb: usage.maxRSS, cpuMicros: usage.userCPUTime + usage.systemCPUTime }));
});
`;

export interface StartupCase {
  name: string;
  /** Node arguments after the probe's `--import`. */
  args: string[];
  /** Exit codes that mean the command worked. */
  okCodes: number[];
  target?: { wallMs?: number; maxRssMb?: number };
}

export interface Measurement {
  wallMs: number;
  cpuMs: number;
  maxRssMb: number;
}

export interface StartupRow extends Measurement {
  name: string;
  target?: StartupCase['target'];
}

/** The repository root: the nearest folder above this file with package.json and bin/converge.js. */
function repoRoot(start: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bin', 'converge.js'))) return dir;
    if (dirname(dir) === dir) throw new Error(`bench:startup: no folder above ${start} holds package.json and bin/converge.js`);
  }
}

export function startupCases(root: string): StartupCase[] {
  const cli = join(root, 'bin', 'converge.js');
  const main = pathToFileURL(join(root, 'dist', 'src', 'cli', 'main.js')).href;
  return [
    { name: 'node -e 0 (Node alone)', args: ['-e', '0'], okCodes: [0] },
    { name: 'import src/cli/main', args: ['--input-type=module', '-e', `await import(${JSON.stringify(main)});`], okCodes: [0] },
    { name: 'converge --help', args: [cli, '--help'], okCodes: [0], target: { wallMs: 200 } },
    { name: 'converge --version', args: [cli, '--version'], okCodes: [0] },
    { name: `converge validate --source ${EXAMPLE}`, args: [cli, 'validate', '--source', EXAMPLE], okCodes: [0], target: { wallMs: 300, maxRssMb: 90 } },
    // --nlb-dns: without it, render looks the NLB up in AWS (and loads the ELBv2 client for that).
    { name: `converge gateway render --source ${EXAMPLE} --nlb-dns NAME`, args: [cli, 'gateway', 'render', '--source', EXAMPLE, '--nlb-dns', 'internal.example.com'], okCodes: [0] },
  ];
}

function runOnce(root: string, probe: string, result: string, args: string[], okCodes: number[]): Promise<Measurement> {
  return new Promise((resolvePromise, reject) => {
    rmSync(result, { force: true });
    const started = process.hrtime.bigint();
    const env = { ...process.env, CONVERGE_STARTUP_PROBE: result };
    const child = spawn(process.execPath, ['--import', pathToFileURL(probe).href, ...args], { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      if (code === null || !okCodes.includes(code)) {
        reject(new Error(`bench:startup: node ${args.join(' ')} exited ${code}:\n${stderr}`));
        return;
      }
      const usage = JSON.parse(readFileSync(result, 'utf8')) as { maxRssKb: number; cpuMicros: number };
      resolvePromise({ wallMs, cpuMs: usage.cpuMicros / 1000, maxRssMb: usage.maxRssKb / 1024 });
    });
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

export async function measureStartup(root: string = repoRoot(), runs: number = RUNS): Promise<StartupRow[]> {
  const folder = mkdtempSync(join(tmpdir(), 'converge-startup-'));
  const probe = join(folder, 'probe.mjs');
  const result = join(folder, 'usage.json');
  writeFileSync(probe, PROBE);
  try {
    const rows: StartupRow[] = [];
    for (const startupCase of startupCases(root)) {
      await runOnce(root, probe, result, startupCase.args, startupCase.okCodes);
      const samples: Measurement[] = [];
      for (let run = 0; run < runs; run += 1) samples.push(await runOnce(root, probe, result, startupCase.args, startupCase.okCodes));
      rows.push({
        name: startupCase.name,
        wallMs: median(samples.map((sample) => sample.wallMs)),
        cpuMs: median(samples.map((sample) => sample.cpuMs)),
        maxRssMb: median(samples.map((sample) => sample.maxRssMb)),
        target: startupCase.target,
      });
    }
    return rows;
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

function targetText(row: StartupRow): string {
  const target = row.target;
  if (!target) return '';
  const parts: string[] = [];
  if (target.wallMs !== undefined) parts.push(`< ${target.wallMs / 1000} s: ${row.wallMs < target.wallMs ? 'met' : 'NOT met'}`);
  if (target.maxRssMb !== undefined) parts.push(`< ${target.maxRssMb} MB: ${row.maxRssMb < target.maxRssMb ? 'met' : 'NOT met'}`);
  return parts.join(', ');
}

export function formatStartupTable(rows: readonly StartupRow[], runs: number = RUNS): string {
  const lines = [
    `Process start, median of ${runs} runs (node ${process.version}, ${process.platform}/${process.arch})`,
    '',
    '| command | wall time | CPU time | max RSS | target |',
    '| --- | ---: | ---: | ---: | --- |',
    ...rows.map((row) => `| \`${row.name}\` | ${(row.wallMs / 1000).toFixed(2)} s | ${(row.cpuMs / 1000).toFixed(2)} s | ${row.maxRssMb.toFixed(0)} MB | ${targetText(row)} |`),
  ];
  return lines.join('\n');
}

async function cli(): Promise<number> {
  const root = repoRoot();
  if (!existsSync(join(root, 'dist', 'src', 'cli', 'main.js'))) {
    process.stderr.write('bench:startup: converge is not built: run npm run build first\n');
    return 1;
  }
  const rows = await measureStartup(root);
  process.stdout.write(`${formatStartupTable(rows)}\n`);
  return 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await cli();
}
