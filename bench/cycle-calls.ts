/**
 * `npm run bench`: AWS calls per cycle, on a local emulator, for environments of growing size.
 * Reports the first apply (from empty), a CLI-style steady-state cycle (fresh process, cold
 * caches) and a daemon-style steady-state cycle (warm caches), total and per ECS service.
 * Call counts are deterministic; wall times are printed as ratios to the smallest environment.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startMoto } from '../scripts/moto.js';
import { seedEnvironment } from '../scripts/seed.js';
import { Controller } from '../src/controller.js';
import { findRepoRoot } from '../scripts/moto.js';

const SIZES = (process.env.BENCH_SIZES ?? '3,10,30').split(',').map(Number);

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
  deployment: { strategy: ${i % 2 === 0 ? 'blue-green' : 'rolling'} }
  routes:
    - { path: /svc${i}, methods: [GET, POST] }
`);
  }
  writeFileSync(join(dir, 'services.yaml'), docs.join('---\n'));
}

interface Row {
  services: number;
  workloads: number;
  firstApply: number;
  cliSteady: number;
  daemonSteady: number;
  daemonMs: number;
  byOperation: Record<string, number>;
}

async function measure(services: number): Promise<Row> {
  const moto = await startMoto({ env: { MOTO_ACM_VALIDATION_WAIT: '0' } });
  const dir = mkdtempSync(join(tmpdir(), 'converge-bench-'));
  try {
    Object.assign(process.env, moto.awsEnv);
    writeEnvironment(dir, services);
    const { source } = await seedEnvironment({ endpoint: moto.endpoint, documentsDir: dir });
    const log = pino({ level: 'silent' });
    const daemon = new Controller({ source, log });
    const first = await daemon.runCycle({ mode: 'apply', trigger: 'startup' });
    // A second pass settles what the first could only start (certificates, listeners after issuance).
    await daemon.runCycle({ mode: 'apply', trigger: 'interval' });
    await daemon.runCycle({ mode: 'apply', trigger: 'interval' });
    const started = performance.now();
    const steady = await daemon.runCycle({ mode: 'apply', trigger: 'interval' });
    const daemonMs = performance.now() - started;
    const cli = await new Controller({ source, log }).runCycle({ mode: 'plan', trigger: 'manual' });
    return { services, workloads: services + 2, firstApply: first.awsCalls, cliSteady: cli.awsCalls, daemonSteady: steady.awsCalls, daemonMs, byOperation: steady.callsByOperation };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await moto.stop();
  }
}

const rows: Row[] = [];
for (const size of SIZES) rows.push(await measure(size));
const base = rows[0];
console.log('\nAWS calls per cycle (ECS services = backend services + gateway + frontend)\n');
console.log('services  first-apply  cli-steady  daemon-steady  daemon/service  daemon-time-ratio');
for (const r of rows) {
  console.log(
    `${String(r.workloads).padStart(8)}  ${String(r.firstApply).padStart(11)}  ${String(r.cliSteady).padStart(10)}  ${String(r.daemonSteady).padStart(13)}  ${(r.daemonSteady / r.workloads).toFixed(2).padStart(14)}  ${(base ? r.daemonMs / base.daemonMs : 1).toFixed(2).padStart(17)}`,
  );
}
const last = rows[rows.length - 1];
if (last) console.log(`\nsteady-state daemon cycle with ${last.workloads} ECS services, by operation:\n${JSON.stringify(last.byOperation, null, 2)}`);
