import { describe, expect, it } from 'vitest';
import { applyPasses, type WaitController } from '../../../src/cli/wait.js';
import type { CycleSummary } from '../../../src/controller.js';
import type { ResourceResult } from '../../../src/engine/engine.js';

const certificate = (state: ResourceResult['state']): ResourceResult => ({
  id: 'certificate/api.example.com',
  type: 'certificate',
  resource: 'AWS::CertificateManager::Certificate api.example.com',
  kind: 'Environment',
  name: 'shop',
  state,
  drift: [],
  changes: [],
  message: state === 'Progressing' ? 'waiting for ACM to issue the certificate for api.example.com' : undefined,
});

const pass = (outcome: CycleSummary['outcome'], writes: number, resources: ResourceResult[] = []): CycleSummary => ({
  cycle: 'c',
  trigger: 'manual',
  mode: 'apply',
  outcome,
  startedAt: new Date(0).toISOString(),
  durationMs: 1,
  changes: writes,
  drifts: 0,
  errors: outcome === 'error' ? 1 : 0,
  pending: 0,
  awsCalls: writes,
  awsReads: 0,
  awsWrites: writes,
  callsByOperation: {},
  resources,
  warnings: [],
});

async function run(passes: CycleSummary[]) {
  const lines: string[] = [];
  let cycles = 0;
  const controller: WaitController = {
    runCycle: () => {
      cycles += 1;
      const next = passes.shift();
      if (!next) throw new Error('no more passes');
      return Promise.resolve(next);
    },
  };
  const result = await applyPasses(controller, { stdout: () => undefined, stderr: (text) => void lines.push(text) });
  return { ...result, cycles, output: lines.join('') };
}

describe('applyPasses: `converge apply` without --wait', () => {
  it('makes passes while they write, and exits 0 once a pass finds the environment converged', async () => {
    const result = await run([pass('progressing', 40), pass('converged', 3), pass('converged', 0)]);
    expect(result).toMatchObject({ exitCode: 0, cycles: 3 });
  });

  it('exits 3 when a pass writes nothing while something still progresses, naming it and how long it takes', async () => {
    const result = await run([pass('progressing', 40, [certificate('Progressing')]), pass('progressing', 0, [certificate('Progressing')])]);
    expect(result).toMatchObject({ exitCode: 3, cycles: 2 });
    expect(result.output).toMatch(/AWS::CertificateManager::Certificate api\.example\.com \(Environment\/shop\): waiting for ACM/);
    expect(result.output).toMatch(/ACM issues a DNS-validated certificate/);
    expect(result.output).toMatch(/converge apply --wait/);
  });

  it('exits 1 on an error or invalid desired state, without another pass', async () => {
    expect(await run([pass('error', 5)])).toMatchObject({ exitCode: 1, cycles: 1 });
    expect(await run([pass('invalid', 0)])).toMatchObject({ exitCode: 1, cycles: 1 });
  });

  it('stops after at most 10 passes', async () => {
    const result = await run(Array.from({ length: 12 }, () => pass('progressing', 1, [certificate('Progressing')])));
    expect(result).toMatchObject({ exitCode: 3, cycles: 10 });
  });
});
