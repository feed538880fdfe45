import { setTimeout as sleep } from 'node:timers/promises';
import type { CycleSummary } from '../controller.js';
import type { ResourceResult } from '../engine/engine.js';
import { parseBoundedMilliseconds, type DurationBounds } from '../util/duration.js';
import type { DeploymentProgress } from '../engine/types.js';
import type { CliIo } from './io.js';

/** What `CONVERGE_WAIT_TIMEOUT_MS` and `CONVERGE_WAIT_POLL_MS` accept (milliseconds, or a duration with its unit). */
export const WAIT_BOUNDS = {
  /** How long `apply --wait` keeps going: 1 s to 24 h (default 1 h). */
  timeout: { min: 1_000, max: 24 * 3_600_000 },
  /** Pause between passes while something progresses: 500 ms (each pass is a full cycle of reads) to 10 min (default 10 s). */
  poll: { min: 500, max: 10 * 60_000 },
} as const satisfies Record<string, Required<DurationBounds>>;

/** The wait settings from the environment; an out-of-range or unreadable value throws a `DurationError` naming the variable. */
export function waitSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): { timeoutMs: number; pollMs: number } {
  const read = (variable: string, fallback: number, bounds: Required<DurationBounds>): number => {
    const raw = env[variable];
    return raw === undefined || raw.trim() === '' ? fallback : parseBoundedMilliseconds(raw, variable, bounds);
  };
  return { timeoutMs: read('CONVERGE_WAIT_TIMEOUT_MS', 60 * 60_000, WAIT_BOUNDS.timeout), pollMs: read('CONVERGE_WAIT_POLL_MS', 10_000, WAIT_BOUNDS.poll) };
}

export interface WaitOptions {
  timeoutMs?: number;
  pollMs?: number;
  /** How often an unchanged line is printed again; default 30 s. */
  heartbeatMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** What `apply` needs of the controller: apply cycles. */
export interface WaitController {
  runCycle(input: { mode: 'apply'; trigger: 'manual' }): Promise<CycleSummary>;
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

/** A cycle that made a write made progress: the next pass may find more to do (a listener once its certificate is issued). */
const madeProgress = (summary: CycleSummary): boolean => summary.awsWrites > 0 || summary.changes > 0;

/** Nothing left to do: no error, nothing pending or progressing, and the last pass wrote nothing. */
export const isConverged = (summary: CycleSummary): boolean => summary.outcome === 'converged' && !madeProgress(summary) && !summary.resources.some((r) => r.state === 'Progressing');

/**
 * `apply --wait`: keeps applying (certificate issuance, then the HTTPS listeners; deployments, then
 * what waits on them) until the environment has converged, printing each deployment's status,
 * traffic shifted and elapsed time when it changes (and every `heartbeatMs` otherwise). A pass
 * that made progress is followed at once; otherwise the next comes after `pollMs`. Returns false
 * when something ends Failed (a failed, stopped or rolled-back deployment, a refused request),
 * the desired state is invalid, or the wait times out.
 */
export async function waitForDeployments(controller: WaitController, first: CycleSummary, io: CliIo, options: WaitOptions = {}): Promise<boolean> {
  const fromEnv = options.timeoutMs === undefined || options.pollMs === undefined ? waitSettingsFromEnv() : undefined;
  const timeoutMs = options.timeoutMs ?? fromEnv?.timeoutMs ?? 60 * 60_000;
  const pollMs = options.pollMs ?? fromEnv?.pollMs ?? 10_000;
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
    const failed = summary.resources.filter((r) => r.state === 'Failed' || r.state === 'Conflict');
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
    if (summary.outcome === 'invalid' || summary.outcome === 'error') return false;
    if (progressing.length === 0 && !madeProgress(summary) && summary.pending === 0) return true;
    if (at - started > timeoutMs) {
      io.stderr(`gave up waiting after ${elapsed}\n`);
      return false;
    }
    if (progressing.length > 0 || !madeProgress(summary)) await pause(pollMs);
    summary = await controller.runCycle({ mode: 'apply', trigger: 'manual' });
  }
}

/** How long what a resource waits for usually takes, for the message `apply` leaves when it stops early. */
export function typicalWait(r: ResourceResult): string {
  if (r.progress?.kind === 'deployment') return 'a blue/green deployment takes the new tasks\' start and health checks, then the blue tasks are kept for terminateBlueAfterMinutes';
  if (r.type === 'certificate') return 'ACM issues a DNS-validated certificate a few minutes after the validation records resolve (up to about 30 minutes)';
  if (r.type === 'ecs-service' && /draining/.test(r.message ?? '')) return 'an ECS service drains for up to its target groups\' deregistration delay (300 s by default)';
  if (r.type === 'ecs-service') return 'a new ECS service takes a few minutes to start its tasks and pass health checks';
  if (r.waiting) return 'it goes ahead in the first pass after what it waits for is ready';
  return 'usually minutes';
}

/**
 * `apply` without `--wait`: passes while they make progress (a pass that wrote something may have
 * unblocked more), then stops. Exit code: 0 converged, 1 error or invalid, 3 stopped while
 * something is still progressing (it says what, and how long that usually takes).
 */
export async function applyPasses(controller: WaitController, io: CliIo, options: { maxPasses?: number; onPass?: (summary: CycleSummary) => void } = {}): Promise<{ summary: CycleSummary; exitCode: 0 | 1 | 3 }> {
  const maxPasses = options.maxPasses ?? 10;
  let summary = await controller.runCycle({ mode: 'apply', trigger: 'manual' });
  options.onPass?.(summary);
  for (let pass = 1; pass < maxPasses && madeProgress(summary) && summary.outcome !== 'invalid' && summary.outcome !== 'error'; pass += 1) {
    summary = await controller.runCycle({ mode: 'apply', trigger: 'manual' });
    options.onPass?.(summary);
  }
  if (summary.outcome === 'invalid' || summary.outcome === 'error') return { summary, exitCode: 1 };
  if (summary.outcome === 'converged' && !summary.resources.some((r) => r.state === 'Progressing')) return { summary, exitCode: 0 };
  const waiting = summary.resources.filter((r) => r.state === 'Progressing' || r.state === 'Pending');
  io.stderr(`\nstopped while ${waiting.length} resource(s) are still progressing; run \`converge apply --wait\` to follow them to the end:\n`);
  for (const r of waiting) io.stderr(`  ${r.resource} (${r.kind}/${r.name}): ${r.message ?? r.state}\n    ${typicalWait(r)}\n`);
  return { summary, exitCode: 3 };
}
