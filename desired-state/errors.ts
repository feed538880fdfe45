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

export class InvalidDesiredStateError extends Error {
  readonly issues: DesiredStateIssue[];
  constructor(issues: DesiredStateIssue[]) {
    super(formatIssues(issues));
    this.name = 'InvalidDesiredStateError';
    this.issues = issues;
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
