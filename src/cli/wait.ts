import { setTimeout as sleep } from 'node:timers/promises';
import type { CycleSummary } from '../controller.js';
import type { ResourceResult } from '../engine/engine.js';
import type { DeploymentProgress } from '../engine/types.js';
import type { CliIo } from './io.js';

export interface WaitOptions {
  timeoutMs?: number;
  pollMs?: number;
  /** How often an unchanged line is printed again; default 30 s. */
  heartbeatMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** What `apply --wait` needs of the controller: read-only cycles. */
export interface WaitController {
  runCycle(input: { mode: 'plan'; trigger: 'manual' }): Promise<CycleSummary>;
}

export function formatElapsed(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const pad = (n: number): string => String(n).padStart(2, '0');
  return h > 0 ? `${h}h${pad(m)}m${pad(s)}s` : m > 0 ? `${m}m${pad(s)}s` : `${s}s`;
}

const label = (r: ResourceResult): string => `${r.kind} ${r.name}`;

/** One line per deployment: status, traffic shifted and time elapsed since CodeDeploy created it. */
export function formatDeploymentRow(r: ResourceResult, p: DeploymentProgress): string {
  const traffic = p.trafficShiftedPercent === undefined ? '?' : `${p.trafficShiftedPercent}%`;
  const elapsed = p.elapsedSeconds === undefined ? '?' : formatElapsed(p.elapsedSeconds);
  const revision = p.taskDefinition ? `  ${p.taskDefinition}` : '';
  return `${label(r).padEnd(18)} ${p.deploymentId.padEnd(12)} ${p.status.padEnd(10)} traffic ${traffic.padStart(4)}  elapsed ${elapsed.padStart(7)}${revision}`;
}

/** A line without its elapsed time: what tells whether anything changed since the last poll. */
const withoutElapsed = (line: string): string => line.replace(/elapsed\s+\S+/, '');

/**
 * `apply --wait`: re-observes (read-only cycles) until nothing is Progressing any more, printing
 * each deployment's status, traffic shifted and elapsed time when it changes (and every
 * `heartbeatMs` otherwise). Returns false when something ends Failed (a failed, stopped or
 * rolled-back deployment) or the wait times out.
 */
export async function waitForDeployments(controller: WaitController, first: CycleSummary, io: CliIo, options: WaitOptions = {}): Promise<boolean> {
  const timeoutMs = options.timeoutMs ?? Number(process.env.CONVERGE_WAIT_TIMEOUT_MS ?? 60 * 60_000);
  const pollMs = options.pollMs ?? Number(process.env.CONVERGE_WAIT_POLL_MS ?? 10_000);
  const heartbeatMs = options.heartbeatMs ?? 30_000;
  const now = options.now ?? Date.now;
  const pause = options.sleep ?? ((ms: number) => sleep(ms));
  const started = now();
  const printed = new Map<string, { line: string; at: number }>();
  const watched = new Set(first.resources.filter((r) => r.changes.some((c) => c.action === 'deploy' && c.applied)).map((r) => r.id));
  let summary = first;
  for (;;) {
    const at = now();
    const elapsed = formatElapsed(Math.round((at - started) / 1000));
    const progressing = summary.resources.filter((r) => r.state === 'Progressing');
    const failed = summary.resources.filter((r) => r.state === 'Failed');
    for (const r of progressing) {
      const progress = r.progress;
      if (progress) watched.add(r.id);
      const line = progress ? formatDeploymentRow(r, progress) : `${label(r)}: ${r.resource}: ${r.message ?? 'in progress'}`;
      const last = printed.get(r.id);
      if (!last || withoutElapsed(last.line) !== withoutElapsed(line) || at - last.at >= heartbeatMs) {
        io.stderr(`[${elapsed}] ${line}\n`);
        printed.set(r.id, { line, at });
      }
    }
    for (const r of summary.resources) {
      if (watched.has(r.id) && r.state === 'InSync') {
        io.stderr(`[${elapsed}] ${label(r)}: deployed (${r.resource})\n`);
        watched.delete(r.id);
      }
    }
    if (failed.length > 0) {
      for (const r of failed) {
        const progress = r.progress;
        io.stderr(progress ? `failed: ${formatDeploymentRow(r, progress)}${progress.note ? `\n  ${progress.note}` : ''}\n` : `failed: ${r.resource}: ${r.message ?? ''}\n`);
      }
      return false;
    }
    if (progressing.length === 0) return true;
    if (at - started > timeoutMs) {
      io.stderr(`gave up waiting after ${elapsed}\n`);
      return false;
    }
    await pause(pollMs);
    summary = await controller.runCycle({ mode: 'plan', trigger: 'manual' });
  }
}
