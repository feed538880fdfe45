/**
 * `npm run bench`: what converge costs at scale, on a local emulator, for environments of 10, 50
 * and 200 backend services (BENCH_SIZES=10,50,200), each a blue/green Service with one route, all
 * in one document file, plus the example's Gateway and Frontend. Per size:
 *
 * - from empty: `apply` passes until the environment has converged, their AWS calls and wall time;
 * - a second `apply` (a fresh process, as the CLI runs): it must write nothing;
 * - a cold `plan` (a fresh process): AWS calls with the desired-state downloads counted apart, and wall time;
 * - the daemon (`converge run`, a real process): a steady cycle's AWS calls, writes and time, and
 *   the process's resident memory (now and peak) after its cycles;
 * - calls per operation of the cold plan and of the daemon cycle.
 *
 * Call counts are deterministic; times depend on the machine (the emulator is most of them).
 * Targets live here, never in timed tests: they are checked and printed as met or not.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { findRepoRoot, startMoto } from '../scripts/moto.js';
import { seedEnvironment } from '../scripts/seed.js';
import { withCallScope } from '../src/aws/call-counter.js';
import { createAwsClients, destroyAwsClients } from '../src/aws/clients.js';
import { Controller, type CycleSummary } from '../src/controller.js';
import { openSource } from '../src/source/source.js';

const SIZES = (process.env.BENCH_SIZES ?? '10,50,200').split(',').map(Number);
const MAX_PASSES = 12;
const DAEMON_CYCLES = 3;

function writeEnvironment(dir: string, services: number): void {
  const example = join(findRepoRoot(), 'desired-state', 'examples', 'shop');
  for (const file of ['environment.yaml', 'gateway.yaml', 'frontend.yaml']) writeFileSync(join(dir, file), readFileSync(join(example, file)));
  const docs: string[] = [];
  for (let i = 0; i < services; i += 1) {
    docs.push(`apiVersion: converge/v1
kind: Service
metadata: { name: svc${i} }
spec:
  container: { image: registry.example.com/svc${i}:1.0.0, port: 8000, cpu: 256, memory: 512 }
  desiredCount: 1
  listenerPort: ${10001 + i}
  deployment: { strategy: blue-green }
  routes:
    - { path: /svc${i}, methods: [GET, POST] }
`);
  }
  writeFileSync(join(dir, 'services.yaml'), docs.join('---\n'));
}

interface DaemonCycle {
  awsCalls: number;
  awsWrites: number;
  durationMs: number;
}

interface Row {
  services: number;
  passes: number;
  converged: boolean;
  emptyCalls: number;
  emptyMs: number;
  secondApplyWrites: number;
  secondApplyCalls: number;
  coldPlanCalls: number;
  sourceCalls: number;
  coldPlanMs: number;
  coldPlanByOperation: Record<string, number>;
  daemon: DaemonCycle;
  /** A warm in-process cycle, as the daemon's: its calls by operation (the daemon logs only totals). */
  warmByOperation: Record<string, number>;
  rssMb: number;
  peakRssMb: number;
}

const silent = pino({ level: 'silent' });

/** The AWS calls one read of the desired state makes (list and download), counted apart from the cycle's. */
async function sourceCalls(source: string): Promise<number> {
  const aws = createAwsClients();
  try {
    const { calls } = await withCallScope(() => openSource(source, () => aws.s3).load());
    return calls.total;
  } finally {
    destroyAwsClients(aws);
  }
}

/** `converge run` in a child process: the last of DAEMON_CYCLES cycles, and its memory afterwards. */
async function measureDaemon(source: string, env: Record<string, string>): Promise<{ cycle: DaemonCycle; rssMb: number; peakRssMb: number }> {
  const child = spawn(process.execPath, [join(findRepoRoot(), 'bin', 'converge.js'), 'run', '--source', source, '--interval', '2s', '--listen', '127.0.0.1:0'], {
    env: { ...process.env, ...env, CONVERGE_LOG_LEVEL: 'info', CONVERGE_TRIGGER_TOKEN: 'bench-token-0123456789abcdef' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const cycles: DaemonCycle[] = [];
  let buffer = '';
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (stderr += chunk));
  child.stdout.setEncoding('utf8');
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the daemon ran ${cycles.length} cycle(s) in 10 minutes; stderr: ${stderr.slice(-2000)}`)), 600_000);
    child.once('exit', (code) => reject(new Error(`the daemon exited (${code}) after ${cycles.length} cycle(s); stderr: ${stderr.slice(-2000)}`)));
    child.stdout.on('data', (chunk: string) => {
      buffer += chunk;
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        newline = buffer.indexOf('\n');
        if (!line.includes('"event":"cycle"')) continue;
        const event = JSON.parse(line) as { awsCalls: number; awsWrites: number; durationMs: number };
        cycles.push({ awsCalls: event.awsCalls, awsWrites: event.awsWrites, durationMs: event.durationMs });
        if (cycles.length >= DAEMON_CYCLES) {
          clearTimeout(timer);
          resolve();
        }
      }
    });
  });
  try {
    await done;
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    const last = cycles[cycles.length - 1] as DaemonCycle;
    return { cycle: last, rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
  } finally {
    child.removeAllListeners('exit');
    child.kill('SIGTERM');
  }
}

async function measure(services: number): Promise<Row> {
  const moto = await startMoto({ env: { MOTO_ACM_VALIDATION_WAIT: '0' } });
  const dir = mkdtempSync(join(tmpdir(), 'converge-bench-'));
  try {
    Object.assign(process.env, moto.awsEnv);
    writeEnvironment(dir, services);
    const { source } = await seedEnvironment({ endpoint: moto.endpoint, documentsDir: dir });

    // From empty: apply passes (each a fresh process, as `converge apply` runs) until converged.
    let emptyCalls = 0;
    let passes = 0;
    let last: CycleSummary | undefined;
    const startedEmpty = performance.now();
    while (passes < MAX_PASSES) {
      passes += 1;
      const controller = new Controller({ source, log: silent });
      last = await controller.runCycle({ mode: 'apply', trigger: 'manual' });
      controller.close();
      emptyCalls += last.awsCalls;
      if (last.outcome === 'converged') break;
      if (last.outcome === 'error' || last.outcome === 'invalid') {
        const failed = last.resources.filter((r) => r.state === 'Failed' || r.state === 'Conflict').slice(0, 3);
        throw new Error(`apply pass ${passes} at ${services} services: ${last.outcome}: ${failed.map((r) => `${r.resource}: ${r.message ?? ''}`).join('; ')}`);
      }
      // Deployments and certificates progress on the emulator's clock.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    const emptyMs = performance.now() - startedEmpty;

    const second = new Controller({ source, log: silent });
    const again = await second.runCycle({ mode: 'apply', trigger: 'manual' });
    const warm = await second.runCycle({ mode: 'apply', trigger: 'interval' });
    second.close();

    const planner = new Controller({ source, log: silent });
    const startedPlan = performance.now();
    const plan = await planner.runCycle({ mode: 'plan', trigger: 'manual' });
    const coldPlanMs = performance.now() - startedPlan;
    planner.close();

    const daemon = await measureDaemon(source, moto.awsEnv);
    return {
      services,
      passes,
      converged: last?.outcome === 'converged',
      emptyCalls,
      emptyMs,
      secondApplyWrites: again.awsWrites,
      secondApplyCalls: again.awsCalls,
      coldPlanCalls: plan.awsCalls,
      sourceCalls: await sourceCalls(source),
      coldPlanMs,
      coldPlanByOperation: plan.callsByOperation,
      daemon: daemon.cycle,
      warmByOperation: warm.callsByOperation,
      rssMb: daemon.rssMb,
      peakRssMb: daemon.peakRssMb,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await moto.stop();
  }
}

const pad = (value: string | number, width: number): string => String(value).padStart(width);
const rows: Row[] = [];
for (const size of SIZES) {
  process.stderr.write(`bench: ${size} backend services...\n`);
  rows.push(await measure(size));
}

console.log('\nconverge at scale, on the emulator (blue/green backend services, plus the Gateway and the Frontend)\n');
console.log('services | from empty: passes, calls, s | 2nd apply writes | cold plan: calls (+ source), per service, s | daemon cycle: calls, per service, writes, s | daemon RSS MB (peak)');
for (const r of rows) {
  const planCalls = r.coldPlanCalls - r.sourceCalls;
  console.log(
    [
      pad(r.services, 8),
      `${pad(r.passes, 2)}${r.converged ? '' : ' (not converged)'}, ${pad(r.emptyCalls, 6)}, ${pad((r.emptyMs / 1000).toFixed(1), 6)}`,
      pad(r.secondApplyWrites, 16),
      `${pad(planCalls, 5)} (+${r.sourceCalls}), ${(planCalls / r.services).toFixed(2)}, ${(r.coldPlanMs / 1000).toFixed(2)}`,
      `${pad(r.daemon.awsCalls, 4)}, ${(r.daemon.awsCalls / r.services).toFixed(2)}, ${r.daemon.awsWrites}, ${(r.daemon.durationMs / 1000).toFixed(2)}`,
      `${r.rssMb.toFixed(0)} (${r.peakRssMb.toFixed(0)})`,
    ].join(' | '),
  );
}

const largest = rows[rows.length - 1];
if (largest) {
  const planCalls = largest.coldPlanCalls - largest.sourceCalls;
  const targets: [string, boolean, string][] = [
    [`converges from empty at ${largest.services}`, largest.converged, `${largest.passes} pass(es)`],
    ['a second apply writes nothing', largest.secondApplyWrites === 0, `${largest.secondApplyWrites} write(s)`],
    ['daemon cycle: at most 0.3 calls per service', largest.daemon.awsCalls <= 0.3 * largest.services, `${(largest.daemon.awsCalls / largest.services).toFixed(2)}`],
    ['daemon cycle: zero writes', largest.daemon.awsWrites === 0, `${largest.daemon.awsWrites}`],
    ['daemon cycle: under 1 s', largest.daemon.durationMs < 1000, `${(largest.daemon.durationMs / 1000).toFixed(2)} s`],
    ['cold plan: at most 1.25 calls per service (source apart)', planCalls <= 1.25 * largest.services, `${(planCalls / largest.services).toFixed(2)}`],
    ['daemon RSS under 256 MB', largest.peakRssMb < 256, `${largest.peakRssMb.toFixed(0)} MB peak`],
  ];
  console.log(`\ntargets at ${largest.services} services:`);
  for (const [what, met, measured] of targets) console.log(`  ${met ? 'met    ' : 'NOT MET'}  ${what}: ${measured}`);
  console.log(`\ncold plan at ${largest.services} services, calls by operation:\n${JSON.stringify(largest.coldPlanByOperation, null, 2)}`);
  console.log(`\nsteady daemon cycle at ${largest.services} services, calls by operation:\n${JSON.stringify(largest.warmByOperation, null, 2)}`);
}
