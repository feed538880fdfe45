/**
 * A hung AWS call does not hold `converge run`: the emulator holds every `DescribeServices` of
 * one cycle open (POST /converge-emulator/hang, test/emulator/control.py), the cycle is aborted
 * at `--cycle-timeout` with its calls, and the next cycle starts one interval later and converges.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedEnvironment, type SeedResult } from '../../../scripts/seed.js';
import { runCli } from '../../support/cli.js';
import { DaemonProcess, type LogEvent } from '../../support/daemon-process.js';
import { useMoto } from '../../support/moto.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const EXAMPLE = join(ROOT, 'desired-state', 'examples', 'shop');
const CYCLE_TIMEOUT_MS = 5_000;
const INTERVAL_MS = 3_000;
/** What may pass between the timeout and the end of the aborted cycle (its log line, the summary). */
const MARGIN_MS = 2_000;

const at = (e: LogEvent): number => Date.parse(String(e.time));

describe('converge run with a hung AWS call (a child process against the emulator)', () => {
  const moto = useMoto({ env: { CONVERGE_EMULATOR_DEPLOY_STEPS: '0', MOTO_ACM_VALIDATION_WAIT: '0' } });
  let seed: SeedResult;
  let daemon: DaemonProcess | undefined;
  const control = async (path: string, body: unknown = {}): Promise<{ hangs: { operation: string; hits: number }[]; held: number }> => {
    const response = await fetch(`${moto.endpoint}/converge-emulator${path}`, { method: path === '/' ? 'GET' : 'POST', ...(path === '/' ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
    expect(response.status, await response.clone().text()).toBe(200);
    return (await response.json()) as { hangs: { operation: string; hits: number }[]; held: number };
  };

  beforeAll(async () => {
    seed = await seedEnvironment({ endpoint: moto.endpoint, documentsDir: EXAMPLE });
    // Converged first, with the CLI: a daemon cycle from an empty account takes longer than the short timeout below.
    const applied = await runCli(['apply', '--source', seed.source, '--wait'], { ...moto.env, CONVERGE_WAIT_POLL_MS: '500', CONVERGE_WAIT_TIMEOUT_MS: '120000' });
    expect(applied.code, applied.stderr.slice(-3000)).toBe(0);
  }, 240_000);

  afterAll(async () => {
    await control('/hang/release').catch(() => undefined);
    await daemon?.stop();
  });

  it('aborts the cycle at --cycle-timeout with its calls, and starts the next one on time', async () => {
    daemon = new DaemonProcess(
      ['--source', seed.source, '--interval', `${INTERVAL_MS}ms`, '--watch-interval', '1s', '--cycle-timeout', `${CYCLE_TIMEOUT_MS}ms`, '--listen', '127.0.0.1:0'],
      moto.env,
    );
    const startup = await daemon.waitFor((e) => e.event === 'cycle' && e.trigger === 'startup', 60_000, 'the startup cycle');
    expect(startup).toMatchObject({ outcome: 'converged', errors: 0 });

    // From now on every DescribeServices is held for two minutes: far past the cycle timeout and the 30 s request timeout.
    const from = daemon.events.length;
    const armed = await control('/hang', { operation: 'DescribeServices', seconds: 120, count: 0 });
    expect(armed.hangs).toMatchObject([{ operation: 'DescribeServices', hits: 0 }]);
    const timeout = await daemon.waitFor((e) => e.event === 'cycle-timeout', INTERVAL_MS * 1.1 + CYCLE_TIMEOUT_MS + 10_000, 'the cycle timeout', from);
    const aborted = await daemon.waitFor((e) => e.event === 'cycle' && e.cycle === timeout.cycle, MARGIN_MS + 5_000, 'the end of the timed-out cycle', from);
    expect((await control('/')).hangs[0]?.hits).toBeGreaterThanOrEqual(1);
    // Let the next cycle's calls through.
    await control('/hang/release');

    expect(aborted).toMatchObject({ trigger: 'interval', outcome: 'aborted' });
    expect(aborted.durationMs).toBeGreaterThanOrEqual(CYCLE_TIMEOUT_MS - 100);
    expect(aborted.durationMs).toBeLessThan(CYCLE_TIMEOUT_MS + MARGIN_MS);
    expect(at(aborted) - at(timeout)).toBeLessThan(MARGIN_MS);
    // The call was aborted, not answered: logged with what aborted it.
    const cut = daemon.events.slice(from).find((e) => e.event === 'error' && e.cycle === aborted.cycle && /ECS DescribeServices aborted: the cycle ran longer than its timeout/.test(JSON.stringify(e)));
    expect(cut, daemon.stdoutLines.slice(from).join('\n')).toBeDefined();

    // The next cycle starts one interval (±10% jitter) after the aborted one ended, and converges.
    const next = await daemon.waitFor((e) => e.event === 'cycle' && at(e) > at(aborted) && e.cycle !== aborted.cycle, INTERVAL_MS * 1.1 + 30_000, 'the next cycle', from);
    const nextStartedAt = at(next) - Number(next.durationMs);
    const gap = nextStartedAt - at(aborted);
    expect(gap).toBeGreaterThanOrEqual(INTERVAL_MS * 0.9 - 100);
    expect(gap).toBeLessThan(INTERVAL_MS * 1.1 + 1_000);
    expect(next).toMatchObject({ trigger: 'interval', outcome: 'converged', errors: 0 });
    console.info(`[timing] aborted cycle ${aborted.durationMs} ms (timeout ${CYCLE_TIMEOUT_MS} ms); next cycle started ${gap} ms after it ended (interval ${INTERVAL_MS} ms)`);

    const listening = daemon.events.find((e) => e.event === 'listening');
    const metrics = await (await fetch(`${String(listening?.url)}/metrics`)).text();
    expect(metrics).toMatch(/converge_cycles_total\{trigger="interval",outcome="timeout"\} [1-9]/);

    await daemon.stop();
    expect((await daemon.exited).code).toBe(0);
  }, 120_000);
});
