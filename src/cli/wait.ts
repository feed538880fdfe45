import { setTimeout as sleep } from 'node:timers/promises';
import type { Controller, CycleSummary } from '../controller.js';
import type { CliIo } from './main.js';

export interface WaitOptions {
  timeoutMs?: number;
  pollMs?: number;
}

/**
 * `apply --wait`: re-observes (read-only cycles) until nothing is Progressing any more.
 * Returns false when something ends Failed or the wait times out.
 */
export async function waitForDeployments(controller: Controller, first: CycleSummary, io: CliIo, options: WaitOptions = {}): Promise<boolean> {
  const timeoutMs = options.timeoutMs ?? Number(process.env.CONVERGE_WAIT_TIMEOUT_MS ?? 60 * 60_000);
  const pollMs = options.pollMs ?? Number(process.env.CONVERGE_WAIT_POLL_MS ?? 10_000);
  const started = Date.now();
  let summary = first;
  for (;;) {
    const progressing = summary.resources.filter((r) => r.state === 'Progressing');
    const failed = summary.resources.filter((r) => r.state === 'Failed');
    const elapsed = Math.round((Date.now() - started) / 1000);
    for (const r of progressing) io.stderr(`[${elapsed}s] ${r.resource}: ${r.message ?? 'in progress'}\n`);
    if (failed.length > 0) {
      for (const r of failed) io.stderr(`failed: ${r.resource}: ${r.message ?? ''}\n`);
      return false;
    }
    if (progressing.length === 0) return true;
    if (Date.now() - started > timeoutMs) {
      io.stderr(`gave up waiting after ${elapsed}s\n`);
      return false;
    }
    await sleep(pollMs);
    summary = await controller.runCycle({ mode: 'plan', trigger: 'cli' });
  }
}
