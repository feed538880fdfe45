/**
 * The AWS endpoint killed and restarted while converge writes. The fault proxy goes down (its
 * listener closed, every open connection cut, new connections refused) and comes back on the same
 * port 2.5 s later. moto itself keeps running: it holds its state in memory only, so a real restart
 * would empty the account, which no AWS outage does (see test/support/fault-proxy.ts).
 *
 * Two outages per case, each started by a write converge sends (the writer lease's own writes
 * aside): one cuts that write before it reaches moto, the other right after moto did it (its
 * answer is lost). From an empty account with `converge apply` run again until it exits 0; from a
 * converged account whose desired state changed, with the `converge run` daemon (interval 1 s)
 * until a cycle converges without a write. Afterwards the checks of scenario.ts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess } from '../../support/daemon-process.js';
import { startFaultProxy, type FaultProxy, type RequestInfo } from '../../support/fault-proxy.js';
import { useMoto } from '../../support/moto.js';
import { applyUntilConverged, dumpCase, faultFigures, MOTO_ENV, prepareAccount, reportFigures, throughProxy, verifyEnvironment, type CaseResult } from './scenario.js';

const OUTAGE_MS = 2_500;

const isLease = (r: RequestInfo): boolean => r.service === 'S3' && r.path.includes('/.converge/lease.json');

/**
 * Takes the proxy down at the given writes (counted from 1, lease writes aside) for OUTAGE_MS:
 * `before` as the write arrives (it never reaches moto), `after` once it was forwarded.
 */
function outagesAt(proxy: FaultProxy, points: { write: number; when: 'before' | 'after' }[]): { finished: () => Promise<void>; taken: () => number; stop: () => void } {
  let writes = 0;
  const outages: Promise<void>[] = [];
  const outage = async (): Promise<void> => {
    await proxy.down();
    await sleep(OUTAGE_MS);
    await proxy.up();
  };
  const stop = proxy.onRequest((request) => {
    if (request.kind !== 'write' || isLease(request)) return;
    writes += 1;
    const point = points.find((p) => p.write === writes);
    if (!point) return;
    // Synchronously the proxy is down before it forwards; in a microtask, after forward() was called.
    if (point.when === 'before') outages.push(outage());
    else queueMicrotask(() => outages.push(outage()));
  });
  return { finished: async () => void (await Promise.all(outages)), taken: () => outages.length, stop };
}

describe('the AWS endpoint killed and restarted during the writes (moto behind the fault proxy)', () => {
  const moto = useMoto({ setProcessEnv: true, env: MOTO_ENV });
  let proxy: FaultProxy;
  let daemon: DaemonProcess | undefined;
  let fromEmpty: CaseResult | undefined;

  beforeAll(async () => {
    proxy = await startFaultProxy({ target: moto.endpoint, seed: 5 });
  });
  afterAll(async () => {
    await daemon?.stop();
    await proxy?.close();
  });

  it('converge apply, from an empty account: down as the 3rd write arrives, and right after the 30th reached AWS', async () => {
    const started = Date.now();
    const account = await prepareAccount(moto, { converged: false });
    proxy.resetStats();
    const outages = outagesAt(proxy, [
      { write: 3, when: 'before' },
      { write: 30, when: 'after' },
    ]);
    const runs = await applyUntilConverged(proxy, throughProxy(moto, proxy), account.seed.source).finally(() => outages.stop());
    await outages.finished();
    const figures = faultFigures(proxy);
    const verified = await verifyEnvironment(moto, account, proxy.writes).catch((error: unknown) => {
      console.log(`[fault-figures] failed case restart from empty; details in ${dumpCase('restart-empty', runs.stderrs, proxy)}`);
      throw error;
    });
    reportFigures({
      case: 'endpoint killed and restarted',
      start: 'empty',
      driver: 'apply',
      ...figures,
      runs: runs.runs,
      exitCodes: runs.codes,
      referencesChecked: verified.referencesChecked,
      duplicates: Object.values(verified.duplicates).flat().length,
      seconds: Math.round((Date.now() - started) / 100) / 10,
    });
    expect(outages.taken()).toBe(2);
    expect(proxy.counts.down).toBe(2);
    expect(verified.duplicates).toEqual({});
    fromEmpty = { account, writes: [...proxy.writes] };
  }, 300_000);

  it('converge run (the daemon), from a converged account with a new image and route: down as the 1st write arrives, and right after the 3rd reached AWS', async () => {
    const started = Date.now();
    // It goes on with the account the first case converged (and checked), when it did.
    const account = await prepareAccount(moto, { converged: true, after: fromEmpty });
    proxy.resetStats();
    const outages = outagesAt(proxy, [
      { write: 1, when: 'before' },
      { write: 3, when: 'after' },
    ]);
    daemon = new DaemonProcess(['--source', account.seed.source, '--interval', '1s', '--watch-interval', '1s', '--listen', '127.0.0.1:0'], throughProxy(moto, proxy));
    // Converged: a cycle after both outages that found nothing to write.
    let quiet;
    try {
      quiet = await daemon.waitFor((e) => e.event === 'cycle' && outages.taken() === 2 && !proxy.isDown && e.outcome === 'converged' && e.awsWrites === 0, 150_000, 'a quiet converged cycle after the outages');
    } catch (error) {
      console.log(`[fault-figures] failed case restart daemon; details in ${dumpCase('restart-daemon', [daemon.stdoutLines.join('\n'), daemon.stderr], proxy)}`);
      throw error;
    } finally {
      outages.stop();
    }
    const cycles = daemon.of('cycle');
    if (process.env.CONVERGE_FAULT_DUMP) console.log(`[fault-figures] daemon log in ${dumpCase('restart-daemon', [daemon.stdoutLines.join('\n'), daemon.stderr], proxy)}`);
    await daemon.stop();
    expect((await daemon.exited).code).toBe(0);
    daemon = undefined;
    await outages.finished();
    const figures = faultFigures(proxy);
    const verified = await verifyEnvironment(moto, account, proxy.writes);
    reportFigures({
      case: 'endpoint killed and restarted',
      start: 'converged',
      driver: 'run',
      ...figures,
      cycles: cycles.indexOf(quiet) + 1,
      referencesChecked: verified.referencesChecked,
      duplicates: Object.values(verified.duplicates).flat().length,
      seconds: Math.round((Date.now() - started) / 100) / 10,
    });
    console.log(`[fault-figures] daemon cycles: ${cycles.map((c) => `${String(c.trigger)}:${String(c.outcome)}:${String(c.awsWrites)}w`).join(' ')}`);
    expect(proxy.counts.down).toBe(2);
    expect(verified.duplicates).toEqual({});
  }, 300_000);
});
