import { formatIssue } from '../../desired-state/errors.js';
import type { CycleSummary } from '../controller.js';

const show = (value: unknown): string => {
  if (value === undefined) return '(none)';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
};

const SYMBOL: Record<string, string> = { create: '+', update: '~', delete: '-', deploy: '»', replace: '±' };

/** The plan as a person reviews it: what is created, updated, deployed, with old and new values. */
export function formatPlan(summary: CycleSummary): string {
  const lines: string[] = [];
  if (summary.invalid && summary.invalid.length > 0) {
    lines.push(summary.outcome === 'invalid' ? 'Desired state is invalid; nothing would be written:' : `The newest desired state (${summary.rejectedRevision ?? '?'}) is invalid and is not enforced:`);
    for (const issue of summary.invalid) lines.push(`  ! ${formatIssue(issue)}`);
    if (summary.outcome === 'invalid') return lines.join('\n');
    lines.push('');
  }
  const withChanges = summary.resources.filter((r) => r.changes.length > 0);
  const drifted = summary.resources.filter((r) => r.drift.length > 0);
  const notable = summary.resources.filter((r) => r.changes.length === 0 && ['Conflict', 'Failed', 'Progressing'].includes(r.state));
  lines.push(`converge ${summary.mode} — revision ${summary.revision ?? '?'}`);
  if (drifted.length > 0) {
    lines.push('', 'Drift (changed outside converge):');
    for (const r of drifted) {
      lines.push(`  ${r.resource} (${r.kind}/${r.name})`);
      for (const d of r.drift) lines.push(`      ${d.field}: ${show(d.live)} (live) -> ${show(d.desired)} (desired)`);
    }
  }
  if (withChanges.length > 0) {
    lines.push('', summary.mode === 'plan' ? 'Changes converge would make:' : 'Changes:');
    for (const r of withChanges) {
      for (const c of r.changes) {
        const status = summary.mode === 'apply' && !c.applied ? ' (failed)' : '';
        lines.push(`  ${SYMBOL[c.action] ?? '?'} ${c.action} ${r.resource} (${r.kind}/${r.name})${c.summary ? `: ${c.summary}` : ''}${status}`);
        for (const d of c.diffs) lines.push(`      ${d.field}: ${show(d.live)} -> ${show(d.desired)}`);
      }
    }
  }
  if (notable.length > 0) {
    lines.push('', 'Attention:');
    for (const r of notable) lines.push(`  ${r.state} ${r.resource} (${r.kind}/${r.name}): ${r.message ?? ''}`);
  }
  const waiting = summary.resources.filter((r) => r.state === 'Pending' && r.changes.length === 0 && r.message);
  if (waiting.length > 0) {
    lines.push('', 'Waiting:');
    for (const r of waiting) lines.push(`  ${r.resource}: ${r.message ?? ''}`);
  }
  for (const w of summary.warnings) lines.push(`warning: ${w}`);
  lines.push(
    '',
    `${summary.mode === 'plan' ? `${summary.pending} change(s) pending` : `${summary.changes} change(s) made`}, ${summary.drifts} drift(s), ${summary.errors} error(s); ${summary.awsCalls} AWS calls (${summary.awsWrites} writes) in ${summary.durationMs} ms`,
  );
  return lines.join('\n');
}

/** The machine form of a plan: the same content as the text, stable field names. */
export function planJson(summary: CycleSummary): unknown {
  return {
    revision: summary.revision,
    outcome: summary.outcome,
    mode: summary.mode,
    pending: summary.pending,
    changes: summary.resources.flatMap((r) =>
      r.changes.map((c) => ({ kind: r.kind, name: r.name, resource: r.resource, type: r.type, action: c.action, applied: c.applied, summary: c.summary, diffs: c.diffs })),
    ),
    drift: summary.resources.flatMap((r) => r.drift.map((d) => ({ kind: r.kind, name: r.name, resource: r.resource, field: d.field, desired: d.desired, live: d.live }))),
    resources: summary.resources.map((r) => ({ id: r.id, kind: r.kind, name: r.name, resource: r.resource, state: r.state, message: r.message })),
    invalid: summary.invalid,
    warnings: summary.warnings,
    awsCalls: summary.awsCalls,
    awsWrites: summary.awsWrites,
    callsByOperation: summary.callsByOperation,
  };
}
