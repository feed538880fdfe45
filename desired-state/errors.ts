import { MAX_ISSUE_MESSAGE_CHARS, MAX_ISSUES } from './limits.js';

/** One problem in the desired state, located precisely enough for a person to fix it. */
export interface DesiredStateIssue {
  /** The file the document came from (relative path or S3 key). */
  file: string;
  /** The document: `Kind/name` when known, else `document #N` (1-based) of the file. */
  document?: string;
  /** Dotted field path inside the document, e.g. `spec.routes[1].backendPath`. */
  path: string;
  message: string;
}

/** The `file` of a problem that belongs to no single document. */
export const WHOLE_SOURCE = '(desired state)';

/** Longest file (an S3 URL: a 63-character bucket and a 1,024-byte key), document label and path kept. */
const MAX_FILE_CHARS = 1100;
const MAX_DOCUMENT_CHARS = 100;
const MAX_PATH_CHARS = 300;

/** Cuts a text longer than `max` in the middle, keeping its start (what is wrong) and its end (what to do). */
export function boundText(text: string, max: number): string {
  if (text.length <= max) return text;
  const marker = ' [...] ';
  const tail = Math.floor((max - marker.length) / 3);
  const head = max - marker.length - tail;
  return `${text.slice(0, head)}${marker}${text.slice(text.length - tail)}`;
}

/**
 * At most MAX_ISSUES problems, each field bounded, whoever made them (the loader, network
 * resolution, expansion): these go to logs and to `/status` as they are.
 */
export function boundIssues(issues: readonly DesiredStateIssue[]): DesiredStateIssue[] {
  const bounded = issues.map((issue) => {
    const out: DesiredStateIssue = { file: boundText(issue.file, MAX_FILE_CHARS), path: boundText(issue.path, MAX_PATH_CHARS), message: boundText(issue.message, MAX_ISSUE_MESSAGE_CHARS) };
    if (issue.document !== undefined) out.document = boundText(issue.document, MAX_DOCUMENT_CHARS);
    return out;
  });
  if (bounded.length <= MAX_ISSUES) return bounded;
  const shown = bounded.slice(0, MAX_ISSUES - 1);
  const more = bounded.length - shown.length;
  shown.push({ file: WHOLE_SOURCE, path: '', message: `${more} more problems are not shown (at most ${MAX_ISSUES} are listed per revision); fix these and validate again` });
  return shown;
}

export class InvalidDesiredStateError extends Error {
  readonly issues: DesiredStateIssue[];
  constructor(issues: readonly DesiredStateIssue[]) {
    const bounded = boundIssues(issues);
    super(formatIssues(bounded));
    this.name = 'InvalidDesiredStateError';
    this.issues = bounded;
  }
}

export function formatIssue(issue: DesiredStateIssue): string {
  const where = [issue.file, issue.document, issue.path].filter((part) => part !== undefined && part !== '').join(' ');
  return `${where}: ${issue.message}`;
}

export function formatIssues(issues: readonly DesiredStateIssue[]): string {
  const noun = issues.length === 1 ? 'problem' : 'problems';
  return `invalid desired state (${issues.length} ${noun}):\n${issues.map((i) => `  - ${formatIssue(i)}`).join('\n')}`;
}
