/**
 * Network references are resolved once and cached (10 minutes by default). When the hosted zone
 * is replaced by one of the same name, AWS answers NoSuchHostedZone for the cached id: converge
 * resolves the references again at the next cycle instead of failing until the cache expires.
 */
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, DeleteHostedZoneCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedEnvironment, type SeedResult } from '../../../scripts/seed.js';
import { Controller, type CycleSummary } from '../../../src/controller.js';
import { captureLogs } from '../../support/log-capture.js';
import { useMoto } from '../../support/moto.js';

const EXAMPLE = fileURLToPath(new URL('../../../desired-state/examples/shop/', import.meta.url));

describe('a replaced hosted zone (moto)', () => {
  const moto = useMoto({ setProcessEnv: true, env: { CONVERGE_EMULATOR_DEPLOY_STEPS: '0', MOTO_ACM_VALIDATION_WAIT: '0' } });
  let seed: SeedResult;
  let controller: Controller;
  const logs = captureLogs();
  const cycle = (): Promise<CycleSummary> => controller.runCycle({ mode: 'apply', trigger: 'interval' });
  const failed = (summary: CycleSummary) => summary.resources.filter((r) => r.state === 'Failed' || r.state === 'Conflict');

  const withRoute53 = async <T>(fn: (route53: Route53Client) => Promise<T>): Promise<T> => {
    const route53 = new Route53Client(moto.clientConfig);
    try {
      return await fn(route53);
    } finally {
      route53.destroy();
    }
  };
  const records = (zoneId: string) => withRoute53(async (r53) => (await r53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }))).ResourceRecordSets ?? []);

  beforeAll(async () => {
    seed = await seedEnvironment({ endpoint: moto.endpoint, documentsDir: EXAMPLE });
    // One controller for the whole file, as the daemon keeps one: its network cache lives across cycles.
    controller = new Controller({ source: seed.source, log: logs.log });
  }, 60_000);

  afterAll(() => controller?.close());

  it('converges first', async () => {
    let summary: CycleSummary | undefined;
    for (let pass = 0; pass < 8 && summary?.outcome !== 'converged'; pass += 1) summary = await cycle();
    expect(summary?.outcome, JSON.stringify(summary && failed(summary), null, 2)).toBe('converged');
    expect((await records(seed.hostedZoneId)).some((r) => r.Name === 'api.example.com.' && r.Type === 'A')).toBe(true);
  }, 240_000);

  it('resolves the zone again at the next cycle once AWS says the cached one is gone', async () => {
    // Replace the zone: empty it, delete it, create another one with the same name.
    const old = seed.hostedZoneId;
    const existing = await records(old);
    await withRoute53(async (r53) => {
      const changes = existing.filter((r) => r.Type !== 'SOA' && r.Type !== 'NS').map((r) => ({ Action: 'DELETE' as const, ResourceRecordSet: r }));
      if (changes.length > 0) await r53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: old, ChangeBatch: { Changes: changes } }));
      await r53.send(new DeleteHostedZoneCommand({ Id: old }));
    });
    const created = await withRoute53((r53) => r53.send(new CreateHostedZoneCommand({ Name: 'example.com', CallerReference: `replaced-${Date.now()}` })));
    const replacement = (created.HostedZone?.Id ?? '').replace('/hostedzone/', '');
    expect(replacement).not.toBe(old);

    const from = logs.events.length;
    const stale = await cycle();
    const staleEvents = logs.events.slice(from).filter((e) => e.event === 'network-stale');
    expect(staleEvents, JSON.stringify(failed(stale).map((r) => r.message))).toEqual([expect.objectContaining({ level: 'warn', reference: `hosted zone ${old}` })]);

    // The next cycle looks the zone up again (well within the 10-minute cache) and writes the records there.
    let summary = await cycle();
    expect(logs.events.slice(from).filter((e) => e.event === 'network-resolved')).toEqual([expect.objectContaining({ changed: true, zone: replacement })]);
    for (let pass = 0; pass < 4 && summary.outcome !== 'converged'; pass += 1) summary = await cycle();
    expect(summary.outcome, JSON.stringify(failed(summary), null, 2)).toBe('converged');
    const now = await records(replacement);
    expect(now.some((r) => r.Name === 'api.example.com.' && r.Type === 'A')).toBe(true);
    expect(now.some((r) => r.Name === 'www.example.com.' && r.Type === 'A')).toBe(true);
  }, 180_000);
});
