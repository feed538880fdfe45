/**
 * `converge status --source s3://bucket/prefix [--json]`: the status document the daemon last wrote
 * beside the desired state (`<prefix>.converge/status.json`), as a table a person reads at a glance,
 * with how long ago the daemon completed the cycle it describes and whether its writer lease is
 * still being renewed. Only S3 is called (two GetObjects). Exit 0, or 1 when there is none or it
 * cannot be read.
 */
import { parseArgs } from 'node:util';
import { createS3Client } from '../aws/clients.js';
import { describeAwsError } from '../aws/errors.js';
import { getObject } from '../aws/s3.js';
import { STATUS_OBJECT, stateRank, type PublishedStatus } from '../daemon/status-object.js';
import { LEASE_OBJECT, parseLeaseRecord, type LeaseRecord } from '../lease/lease.js';
import { boundedErrorMessage } from '../log/logger.js';
import { parseS3Url, RESERVED_PREFIX } from '../source/source.js';
import type { CliIo } from './io.js';

const USAGE = `Usage:
  converge status [--source s3://bucket/prefix] [--json] [--no-color]
      the status the daemon last wrote beside the desired state (<prefix>.converge/status.json)

A table on a terminal (in colour unless NO_COLOR is set or the output is piped), the document
itself with --json. Exit 0, or 1 when there is no status document or it cannot be read.`;

export async function statusCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args, options: { source: { type: 'string' }, json: { type: 'boolean', default: false }, 'no-color': { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help === true) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  const source = values.source ?? process.env.CONVERGE_SOURCE;
  if (source === undefined || source === '') {
    io.stderr(`converge status: no desired state source: pass --source s3://bucket/prefix or set CONVERGE_SOURCE\n\n${USAGE}\n`);
    return 1;
  }
  if (!source.startsWith('s3://')) {
    io.stderr(`converge status: ${source} is a local folder: the daemon writes its status document beside S3 sources only (GET /status on the daemon shows it)\n`);
    return 1;
  }
  const { bucket, prefix } = parseS3Url(source);
  const key = `${prefix}${RESERVED_PREFIX}${STATUS_OBJECT}`;
  const location = `s3://${bucket}/${key}`;
  const s3 = createS3Client({ maxAttempts: 3 });
  try {
    let found: { text: string } | undefined;
    try {
      found = await getObject(s3, bucket, key);
    } catch (error) {
      io.stderr(`converge status: cannot read ${location}: ${boundedErrorMessage(describeAwsError(error))}\n`);
      return 1;
    }
    if (!found) {
      io.stderr(`converge status: no status document at ${location}: no converge daemon has completed a cycle for this source yet (or it runs from a folder)\n`);
      return 1;
    }
    const doc = parseStatusDocument(found.text);
    if (!doc) {
      io.stderr(`converge status: ${location} is not a converge status document\n`);
      return 1;
    }
    if (values.json === true) {
      io.stdout(`${JSON.stringify(doc, null, 2)}\n`);
      return 0;
    }
    // The lease tells whether the daemon is alive while the document, unchanged, is not rewritten.
    let lease: LeaseRecord | undefined;
    try {
      const leaseObject = await getObject(s3, bucket, `${prefix}${RESERVED_PREFIX}${LEASE_OBJECT}`);
      lease = leaseObject ? parseLeaseRecord(leaseObject.text) : undefined;
    } catch {
      lease = undefined;
    }
    const color = values['no-color'] !== true && process.stdout.isTTY === true && (process.env.NO_COLOR ?? '') === '' && process.env.TERM !== 'dumb';
    io.stdout(`${formatStatus(doc, { now: new Date(), color, lease })}\n`);
    return 0;
  } finally {
    s3.destroy();
  }
}

/** The document, when the text is one (the fields the table reads have their types). */
export function parseStatusDocument(text: string): PublishedStatus | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const doc = value as Partial<PublishedStatus>;
  if (doc.kind !== 'Status' || doc.apiVersion !== 'converge/v1' || !Array.isArray(doc.resources) || !Array.isArray(doc.cycles) || !Array.isArray(doc.deployments)) return undefined;
  if (typeof doc.resourceCounts !== 'object' || doc.resourceCounts === null || typeof doc.writtenAt !== 'string') return undefined;
  return doc as PublishedStatus;
}

/** `42s`, `3m 12s`, `2h 5m`, `3d 4h`. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

const ago = (iso: string | undefined, now: Date): string => {
  const at = iso === undefined ? NaN : Date.parse(iso);
  return Number.isNaN(at) ? 'unknown' : `${formatAge(now.getTime() - at)} ago`;
};

type Paint = (text: string) => string;
interface Palette {
  red: Paint;
  yellow: Paint;
  green: Paint;
  cyan: Paint;
  dim: Paint;
  bold: Paint;
}

const ansi =
  (code: string): Paint =>
  (text) =>
    `\u001b[${code}m${text}\u001b[0m`;
const plain: Paint = (text) => text;

function palette(color: boolean): Palette {
  if (!color) return { red: plain, yellow: plain, green: plain, cyan: plain, dim: plain, bold: plain };
  return { red: ansi('31'), yellow: ansi('33'), green: ansi('32'), cyan: ansi('36'), dim: ansi('2'), bold: ansi('1') };
}

function paintState(p: Palette, state: string): Paint {
  if (state === 'Failed' || state === 'Conflict' || state === 'error' || state === 'invalid' || state === 'aborted') return p.red;
  if (state === 'Drifted' || state === 'Pending' || state === 'changes-pending') return p.yellow;
  if (state === 'Progressing' || state === 'progressing') return p.cyan;
  if (state === 'InSync' || state === 'converged') return p.green;
  return plain;
}

const MESSAGE_COLUMN = 100;
const cut = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/** Left-aligned columns; `paint` colours a cell after padding so that widths stay right. */
function table(rows: { cells: string[]; paint?: (Paint | undefined)[] }[], indent = '  '): string[] {
  const widths: number[] = [];
  for (const { cells } of rows) cells.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map(({ cells, paint }) =>
    `${indent}${cells
      .map((cell, i) => {
        const padded = i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0);
        return (paint?.[i] ?? plain)(padded);
      })
      .join('  ')}`.trimEnd(),
  );
}

/** The table: header lines, resources (what needs attention first), deployments, the last outcome runs. */
export function formatStatus(doc: PublishedStatus, options: { now: Date; color: boolean; lease?: LeaseRecord }): string {
  const p = palette(options.color);
  const { now } = options;
  const lines: string[] = [];
  const head = (label: string, text: string): void => {
    lines.push(`${p.bold(label.padEnd(14))}${text}`);
  };
  lines.push(`${p.bold('converge status')}  ${doc.source}`);
  const last = doc.lastCycle;
  if (last) {
    const outcome = paintState(p, last.outcome)(`${last.outcome}${last.aborted ? ` (${last.aborted})` : ''}`);
    head('Last cycle', `${ago(last.endedAt, now)}: ${outcome}, cycle ${last.cycle} (${last.trigger}, ${last.mode}, ${(last.durationMs / 1000).toFixed(1)}s) at ${last.endedAt}`);
  } else {
    head('Last cycle', 'none yet');
  }
  const holder = doc.writer.holder ?? 'a converge without a lease';
  head('Written', `${ago(doc.writtenAt, now)} by ${holder}${doc.writer.generation !== null ? ` (lease generation ${doc.writer.generation})` : ''}; rewritten only when something in it changes`);
  const lease = options.lease;
  if (lease) {
    const renewed = Date.parse(lease.renewedAt);
    const stale = Number.isNaN(renewed) || now.getTime() - renewed > lease.durationMs;
    const text = lease.released
      ? p.yellow(`lease released by ${lease.holder} ${ago(lease.renewedAt, now)}: no daemon holds it`)
      : stale
        ? p.red(`lease not renewed for ${ago(lease.renewedAt, now).replace(/ ago$/, '')} (duration ${formatAge(lease.durationMs)}): the daemon ${lease.holder} may be down`)
        : p.green(`running: ${lease.holder} renewed its lease ${ago(lease.renewedAt, now)}`);
    head('Daemon', text);
  }
  head('Enforced', doc.enforcedRevision ?? p.red('no valid revision loaded yet'));
  const provenance = doc.provenance;
  if (doc.enforcedRevision && provenance) {
    const what = provenance.baseline
      ? 'the documents that were there before the first converge publish'
      : [provenance.commit !== undefined ? `commit ${provenance.commit}` : 'published without a commit', provenance.subject !== undefined ? JSON.stringify(provenance.subject) : '', provenance.author !== undefined ? `by ${provenance.author}` : '']
          .filter((part) => part !== '')
          .join(' ');
    head('Published', `${what}${provenance.dirty === true ? p.yellow(' (from a work tree with uncommitted changes)') : ''}, ${ago(provenance.publishedAt, now)}`);
  }
  const publication = doc.publication;
  if (publication?.state === 'unpublished') {
    const keys = (publication.differences ?? []).map((d) => `${d.change} ${d.key}`).join(', ');
    const more = publication.differencesOmitted ? ` and ${publication.differencesOmitted} more` : '';
    const paint = publication.overdue ? p.red : p.yellow;
    head('Publication', paint(`the documents differ from the published manifest since ${ago(publication.since, now)} (${keys}${more}): not applied until converge publish`));
  }
  if (doc.rejected) {
    head('Rejected', p.red(`${doc.rejected.revision}: ${doc.rejected.problems} problem(s), not enforced`));
    for (const issue of doc.rejected.issues) lines.push(`${' '.repeat(14)}${p.red('!')} ${issue.file}${issue.document ? ` ${issue.document}` : ''} ${issue.path}: ${issue.message}`);
  }
  if (doc.sourceHealth) {
    head('Source', doc.sourceHealth.healthy ? p.green('readable') : p.red(`unreadable since ${doc.sourceHealth.since ?? '?'}: ${doc.sourceHealth.error ?? ''}; the enforced revision stays enforced`));
  }
  const counts = Object.entries(doc.resourceCounts)
    .sort(([a], [b]) => stateRank(a) - stateRank(b))
    .map(([state, n]) => paintState(p, state)(`${n} ${state}`));
  head('Resources', counts.length > 0 ? counts.join(', ') : 'none reported yet');

  if (doc.resources.length > 0) {
    lines.push('');
    const sorted = [...doc.resources].sort((a, b) => stateRank(a.state) - stateRank(b.state));
    lines.push(
      ...table([
        { cells: ['STATE', 'RESOURCE', 'OWNER', 'MESSAGE'], paint: [p.dim, p.dim, p.dim, p.dim] },
        ...sorted.map((r) => {
          const detail = [r.drift ? `drift: ${r.drift.join(', ')}` : '', r.message ?? ''].filter((part) => part !== '').join('; ');
          return { cells: [r.state, r.resource, `${r.kind}/${r.name}`, cut(detail, MESSAGE_COLUMN)], paint: [paintState(p, r.state)] };
        }),
      ]),
    );
    if (doc.resourcesOmitted > 0) lines.push(`  … ${doc.resourcesOmitted} more in sync, not listed`);
  }
  if (doc.deployments.length > 0) {
    lines.push('', p.bold('Deployments'));
    lines.push(
      ...table(
        doc.deployments.map((d) => ({
          cells: [`${d.kind}/${d.name}`, d.deploymentId, d.status, d.trafficShiftedPercent !== undefined ? `${d.trafficShiftedPercent}% traffic shifted` : '', cut(d.note ?? d.taskDefinition ?? '', MESSAGE_COLUMN)],
          paint: [undefined, undefined, paintState(p, /fail|stop|rolled/i.test(d.status) ? 'Failed' : 'Progressing')],
        })),
      ),
    );
  }
  if (doc.cycles.length > 0) {
    lines.push('', p.bold('Cycles (newest first; consecutive cycles with the same outcome counted together)'));
    lines.push(
      ...table(
        doc.cycles.map((run) => ({
          cells: [`${run.outcome}${run.aborted ? ` (${run.aborted})` : ''}`, `×${run.count}`, `from ${run.firstEndedAt}`, `to ${run.lastEndedAt}`, run.revision ? `revision ${run.revision}` : ''],
          paint: [paintState(p, run.outcome)],
        })),
      ),
    );
  }
  return lines.join('\n');
}
