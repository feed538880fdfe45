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
  const commit = summary.commit !== undefined ? ` (commit ${summary.commit}${summary.commitSubject !== undefined ? ` ${JSON.stringify(summary.commitSubject)}` : ''})` : '';
  lines.push(`converge ${summary.mode} — revision ${summary.revision ?? '?'}${commit}`);
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
    ...(summary.commit !== undefined ? { commit: summary.commit } : {}),
    ...(summary.commitSubject !== undefined ? { commitSubject: summary.commitSubject } : {}),
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

export type PlanFormat = 'text' | 'json' | 'markdown';

/** `--format` with `--json` as its alias; an error when the value is unknown or the two disagree. */
export function planFormat(format: string | undefined, json: boolean): { format: PlanFormat } | { error: string } {
  if (format === undefined) return { format: json ? 'json' : 'text' };
  if (format !== 'text' && format !== 'json' && format !== 'markdown') return { error: `--format takes text, json or markdown, not ${JSON.stringify(format)}` };
  if (json && format !== 'json') return { error: `--json is --format json: it cannot go with --format ${format}` };
  return { format };
}

/** Longest value shown in the Markdown plan; the text and JSON forms carry the whole value. */
const MARKDOWN_VALUE_CHARS = 120;
const ACTIONS = ['create', 'update', 'deploy', 'replace', 'delete'] as const;

/**
 * Text where Markdown would see markup: emphasis, code, links, HTML and entities escaped anywhere,
 * and what would start a heading, quote or list at the start. On one line.
 */
function escapeMarkdown(text: string): string {
  return text
    .replace(/\s*\n\s*/g, ' ')
    .replace(/[\\`*_[\]<~&]/g, (c) => `\\${c}`)
    .replace(/^([#>+=-]|\d+[.)])/, '\\$1');
}

/** A value as inline code, shortened; backticks inside widen the fence. */
function code(value: unknown): string {
  let text = value === undefined ? '(none)' : typeof value === 'string' ? value : JSON.stringify(value);
  text = text.replace(/\s*\n\s*/g, ' ');
  if (text.length > MARKDOWN_VALUE_CHARS) text = `${text.slice(0, MARKDOWN_VALUE_CHARS - 1)}…`;
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = longest > 0 || text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * The plan as Markdown a pull request comment can carry: the counts on top, the changes grouped
 * by workload (the document that owns each resource), drift apart, then errors and what needs
 * attention. Values are shortened to 120 characters; `--json` carries them whole.
 */
export function formatPlanMarkdown(summary: CycleSummary): string {
  const lines: string[] = [];
  const changes = summary.resources.flatMap((r) => r.changes.map((c) => ({ r, c })));
  const drifted = summary.resources.filter((r) => r.drift.length > 0);
  const driftCount = drifted.reduce((n, r) => n + r.drift.length, 0);
  const attention = summary.resources.filter((r) => r.state === 'Failed' || r.state === 'Conflict');
  const verb = summary.mode === 'plan' ? 'pending' : 'made';
  const counted = summary.mode === 'plan' ? changes.length : changes.filter(({ c }) => c.applied).length;
  const headline =
    summary.outcome === 'invalid' ? 'the desired state is invalid' : summary.outcome === 'error' && summary.resources.length === 0 ? 'error' : `${plural(counted, 'change')} ${verb}, ${plural(driftCount, 'drift')}, ${plural(summary.errors, 'error')}`;
  lines.push(`### converge ${summary.mode}: ${headline}`, '');
  lines.push(`| Changes | ${ACTIONS.map((a) => a[0]?.toUpperCase() + a.slice(1)).join(' | ')} | Drift | Errors |`);
  lines.push(`| ${Array(ACTIONS.length + 3).fill('---:').join(' | ')} |`);
  lines.push(`| ${changes.length} | ${ACTIONS.map((a) => changes.filter(({ c }) => c.action === a).length).join(' | ')} | ${driftCount} | ${summary.errors} |`, '');
  const about = [`Revision ${code(summary.revision ?? '?')}`, `outcome ${code(summary.outcome)}`];
  if (summary.commit !== undefined) about.push(`commit ${code(summary.commit)}${summary.commitSubject !== undefined ? ` ${escapeMarkdown(summary.commitSubject)}` : ''}`);
  lines.push(about.join(' · '));

  if (summary.invalid && summary.invalid.length > 0) {
    lines.push(
      '',
      summary.outcome === 'invalid' ? '#### Invalid desired state: nothing would be written' : `#### The newest desired state (${code(summary.rejectedRevision ?? '?')}) is invalid and is not enforced`,
      '',
    );
    for (const issue of summary.invalid) lines.push(`- ${escapeMarkdown(formatIssue(issue))}`);
  }

  if (changes.length > 0) {
    lines.push('', summary.mode === 'plan' ? '#### Changes by workload' : '#### Changes made, by workload');
    const groups = new Map<string, typeof changes>();
    for (const entry of changes) {
      const owner = `${entry.r.kind}/${entry.r.name}`;
      groups.set(owner, [...(groups.get(owner) ?? []), entry]);
    }
    for (const [owner, entries] of groups) {
      lines.push('', `**${escapeMarkdown(owner)}** (${plural(entries.length, 'change')})`, '');
      for (const { r, c } of entries) {
        const failed = summary.mode === 'apply' && !c.applied ? ' **(failed)**' : '';
        lines.push(`- ${code(`${SYMBOL[c.action] ?? '?'} ${c.action}`)} ${code(r.resource)}${c.summary ? `: ${escapeMarkdown(c.summary)}` : ''}${failed}`);
        for (const d of c.diffs) lines.push(`  - ${code(d.field)}: ${code(d.live)} → ${code(d.desired)}`);
      }
    }
  } else if (summary.outcome !== 'invalid' && summary.outcome !== 'error') {
    lines.push('', summary.mode === 'plan' ? 'No changes: the environment matches the desired state.' : 'No changes were needed.');
  }

  if (drifted.length > 0) {
    lines.push('', '#### Drift (changed outside converge)', '');
    for (const r of drifted) {
      for (const d of r.drift) lines.push(`- ${code(r.resource)} (${escapeMarkdown(`${r.kind}/${r.name}`)}): ${code(d.field)} is ${code(d.live)}, desired ${code(d.desired)}`);
    }
  }

  const cycleErrors = summary.outcome === 'error' && summary.resources.length === 0 ? summary.warnings : [];
  if (attention.length > 0 || cycleErrors.length > 0) {
    lines.push('', '#### Errors and conflicts', '');
    for (const message of cycleErrors) lines.push(`- ${escapeMarkdown(message)}`);
    for (const r of attention) lines.push(`- **${r.state}** ${code(r.resource)} (${escapeMarkdown(`${r.kind}/${r.name}`)})${r.message ? `: ${escapeMarkdown(r.message)}` : ''}`);
  }
  const progressing = summary.resources.filter((r) => r.state === 'Progressing' && r.changes.length === 0);
  if (progressing.length > 0) {
    lines.push('', '#### In progress', '');
    for (const r of progressing) lines.push(`- ${code(r.resource)} (${escapeMarkdown(`${r.kind}/${r.name}`)})${r.message ? `: ${escapeMarkdown(r.message)}` : ''}`);
  }
  const warnings = cycleErrors.length > 0 ? [] : summary.warnings;
  if (warnings.length > 0) {
    lines.push('', '#### Warnings', '');
    for (const w of warnings) lines.push(`- ${escapeMarkdown(w)}`);
  }
  lines.push('', `<sub>converge ${summary.mode} · ${summary.awsCalls} AWS calls (${summary.awsWrites} writes) · ${(summary.durationMs / 1000).toFixed(1)} s</sub>`);
  return lines.join('\n');
}
