/**
 * What is worth a notification, derived from consecutive cycle summaries alone (pure): a resource
 * that drifted, a failed or rolled-back deployment, an invalid desired-state revision, a conflict,
 * and the recovery from each. Deduplicated across cycles by (event kind, resource): an event is
 * sent once when it begins and, where it can end, once more when it ends.
 */
import { formatIssue } from '../../desired-state/errors.js';
import type { CycleSummary } from '../controller.js';
import type { ResourceResult } from '../engine/engine.js';
import { boundedErrorMessage } from '../log/logger.js';

export type ProblemKind = 'drift' | 'deployment-failed' | 'invalid-desired-state' | 'conflict';
export type NotificationKind = ProblemKind | 'recovered';

export interface NotificationEvent {
  kind: NotificationKind;
  /** For `recovered`: what ended. */
  recovered?: ProblemKind;
  /** The dedup key: `<kind>:<resource id>`, or `invalid-desired-state`. */
  key: string;
  severity: 'warning' | 'error' | 'ok';
  /** The resource, for resource events. */
  resource?: { kind: string; name: string; resource: string };
  revision?: string;
  /** One line, bounded; never a secret (drift values are masked by the engine already). */
  message: string;
}

/** What is active, by dedup key: the state notified last. */
export interface ActiveProblem {
  kind: ProblemKind;
  /** The deployment id, or the rejected revision: a new one is a new event. */
  detail?: string;
  /** Drift corrected in the same cycle (self-heal): its notification said so; no recovery follows. */
  corrected?: boolean;
}

export type DedupState = ReadonlyMap<string, ActiveProblem>;
export const EMPTY_STATE: DedupState = new Map();

const MAX_MESSAGE = 400;
const VALUE_CHARS = 80;

const show = (value: unknown): string => {
  const text = value === undefined ? '(none)' : typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > VALUE_CHARS ? `${text.slice(0, VALUE_CHARS - 1)}…` : text;
};

const label = (r: ResourceResult): string => `${r.resource} (${r.kind}/${r.name})`;
const bounded = (text: string): string => boundedErrorMessage(text, MAX_MESSAGE);
const resourceOf = (r: ResourceResult): NotificationEvent['resource'] => ({ kind: r.kind, name: r.name, resource: r.resource });

function driftMessage(r: ResourceResult, corrected: boolean): string {
  const fields = r.drift.slice(0, 5).map((d) => `${d.field} (desired ${show(d.desired)}, live ${show(d.live)})`);
  const more = r.drift.length > 5 ? ` and ${r.drift.length - 5} more` : '';
  const what = corrected ? 'corrected' : r.state === 'Drifted' ? 'left as is (selfHeal is off or the resource is suspended)' : `now ${r.state}`;
  return bounded(`Drift on ${label(r)}: ${fields.join('; ')}${more}; ${what}`);
}

const isFailedDeployment = (r: ResourceResult): boolean => r.state === 'Failed' && r.progress?.kind === 'deployment';

/**
 * The events of one cycle, given what was active before it, and what is active after it. A cycle
 * that never reached the engine (the source unreadable before any valid revision, an error) changes
 * nothing about resources; resources missing from an aborted cycle keep their state.
 */
export function deriveEvents(previous: DedupState, summary: CycleSummary): { events: NotificationEvent[]; state: DedupState } {
  const state = new Map(previous);
  const events: NotificationEvent[] = [];
  const begin = (key: string, problem: ActiveProblem, event: Omit<NotificationEvent, 'key'>): void => {
    state.set(key, problem);
    events.push({ ...event, key });
  };
  const end = (key: string, problem: ActiveProblem, event: Omit<NotificationEvent, 'key' | 'kind' | 'severity' | 'recovered'>, notify = true): void => {
    state.delete(key);
    if (notify) events.push({ ...event, key, kind: 'recovered', recovered: problem.kind, severity: 'ok' });
  };

  // The desired state: once per rejected revision, and once when a valid one is enforced again.
  const invalidKey = 'invalid-desired-state';
  const invalid = previous.get(invalidKey);
  if (summary.rejectedRevision !== undefined) {
    if (invalid?.detail !== summary.rejectedRevision) {
      const issues = summary.invalid ?? [];
      const first = issues[0] ? `: ${formatIssue(issues[0])}` : '';
      const enforced = summary.revision ? `; still enforcing revision ${summary.revision}` : '; no valid revision is enforced';
      begin(
        invalidKey,
        { kind: 'invalid-desired-state', detail: summary.rejectedRevision },
        { kind: 'invalid-desired-state', severity: 'error', revision: summary.rejectedRevision, message: bounded(`Desired state revision ${summary.rejectedRevision} is invalid (${issues.length} problem(s))${first}${enforced}`) },
      );
    }
  } else if (invalid && summary.revision !== undefined && summary.outcome !== 'invalid') {
    end(invalidKey, invalid, { revision: summary.revision, message: bounded(`Desired state is valid again: revision ${summary.revision} is enforced`) });
  }

  if (summary.revision === undefined) return { events, state };
  const seen = new Set<string>();
  for (const r of summary.resources) {
    seen.add(r.id);
    // Drift: once until the resource shows none again.
    const driftKey = `drift:${r.id}`;
    const drift = state.get(driftKey);
    if (r.drift.length > 0) {
      const corrected = r.state !== 'Drifted' && r.changes.some((c) => c.applied);
      if (!drift) begin(driftKey, { kind: 'drift', corrected }, { kind: 'drift', severity: 'warning', resource: resourceOf(r), message: driftMessage(r, corrected) });
      else if (drift.corrected && !corrected) state.set(driftKey, { ...drift, corrected: false });
    } else if (drift && r.state !== 'Failed' && r.state !== 'Conflict') {
      end(driftKey, drift, { resource: resourceOf(r), message: bounded(`Recovered: ${label(r)} no longer drifts (${r.state})`) }, drift.corrected !== true);
    }
    // Conflict: once until resolved.
    const conflictKey = `conflict:${r.id}`;
    const conflict = state.get(conflictKey);
    if (r.state === 'Conflict') {
      if (!conflict) begin(conflictKey, { kind: 'conflict' }, { kind: 'conflict', severity: 'error', resource: resourceOf(r), message: bounded(`Conflict on ${label(r)}: ${r.message ?? 'not owned by converge'}`) });
    } else if (conflict) {
      end(conflictKey, conflict, { resource: resourceOf(r), message: bounded(`Recovered: ${label(r)} is no longer in conflict (${r.state})`) });
    }
    // A failed or rolled-back deployment: once per deployment, recovered when the resource is in sync again.
    const deployKey = `deployment-failed:${r.id}`;
    const deploy = state.get(deployKey);
    if (isFailedDeployment(r) && r.progress) {
      const p = r.progress;
      if (deploy?.detail !== p.deploymentId) {
        begin(
          deployKey,
          { kind: 'deployment-failed', detail: p.deploymentId },
          {
            kind: 'deployment-failed',
            severity: 'error',
            resource: resourceOf(r),
            revision: summary.revision,
            message: bounded(`Deployment ${p.deploymentId} of ${label(r)} ended ${p.status}${p.note ? `: ${p.note}` : r.message ? `: ${r.message}` : ''}`),
          },
        );
      }
    } else if (deploy && r.state === 'InSync') {
      end(deployKey, deploy, { resource: resourceOf(r), message: bounded(`Recovered: ${label(r)} is in sync again after the failed deployment ${deploy.detail ?? ''}`.trim()) });
    }
  }
  // A resource gone from a complete cycle left the desired state: its problems end without a message.
  if (summary.outcome !== 'aborted') {
    for (const [key, problem] of state) {
      if (problem.kind === 'invalid-desired-state') continue;
      const id = key.slice(key.indexOf(':') + 1);
      if (!seen.has(id)) state.delete(key);
    }
  }
  return { events, state };
}
