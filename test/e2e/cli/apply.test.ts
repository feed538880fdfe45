import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { seedEnvironment } from '../../../scripts/seed.js';
import { runCli } from '../../support/cli.js';
import { useMoto } from '../../support/moto.js';

const EXAMPLE = fileURLToPath(new URL('../../../desired-state/examples/shop/', import.meta.url));
/** moto issues a requested certificate this many seconds after the request. */
const ACM_WAIT_SECONDS = 15;

describe('`converge apply` means converged (moto, from an empty account)', () => {
  const moto = useMoto({ env: { MOTO_ACM_VALIDATION_WAIT: String(ACM_WAIT_SECONDS) } });

  it('without --wait makes passes while they make progress, then exits 3 naming what still progresses; --wait applies on to the end and exits 0', async () => {
    const seed = await seedEnvironment({ endpoint: moto.endpoint, documentsDir: EXAMPLE });
    const env = { ...moto.env, CONVERGE_WAIT_POLL_MS: '500', CONVERGE_WAIT_TIMEOUT_MS: '120000' };

    const early = await runCli(['apply', '--source', seed.source], env);
    expect(early.code, early.stderr).toBe(3);
    expect(early.stderr).toMatch(/stopped while \d+ resource\(s\) are still progressing/);
    expect(early.stderr).toMatch(/AWS::CertificateManager::Certificate api\.example\.com[^\n]*\n\s+ACM issues a DNS-validated certificate/);
    expect(early.stderr).toMatch(/converge apply --wait/);
    // More than one pass ran: the first creates the network pieces, the next what they unblocked.
    expect(early.stderr.match(/^converge apply — revision/gm)?.length ?? 0).toBeGreaterThan(1);

    const waited = await runCli(['apply', '--source', seed.source, '--wait'], env);
    expect(waited.code, waited.stderr.slice(-3000)).toBe(0);

    const plan = await runCli(['plan', '--source', seed.source, '--json'], env);
    expect(plan.code, plan.stderr.slice(-3000)).toBe(0);
    const document = JSON.parse(plan.stdout) as { outcome: string; resources: { resource: string; state: string }[] };
    expect(document.outcome).toBe('converged');
    for (const listener of ['shop-backend:443', 'shop-frontend:443']) {
      expect(document.resources.find((r) => r.resource === `AWS::ElasticLoadBalancingV2::Listener ${listener}`)?.state).toBe('InSync');
    }
    for (const service of ['shop-gateway', 'shop-web', 'shop-users']) {
      expect(document.resources.find((r) => r.resource === `AWS::ECS::Service ${service}`)?.state).toBe('InSync');
    }
  }, 180_000);
});
