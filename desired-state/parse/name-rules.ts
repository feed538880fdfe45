import { environmentNames, NameError, workloadNames } from '../naming.js';
import type { CheckedDocument } from './check-document.js';
import type { IssueList } from './issue-list.js';

/**
 * Derives every AWS name (naming.ts) as expansion will, so that a name AWS refuses (an ALB named
 * `internal-...`, a security group named `sg-...`) is reported by `validate`, before any AWS call.
 */
export function checkDerivedNames(checked: readonly CheckedDocument[], issues: IssueList): void {
  const environment = checked.find((c) => c.kind === 'Environment');
  if (environment?.name === undefined) return;
  const envName = environment.name;
  if (!namesFit(() => environmentNames(envName, envName), (message) => issues.add(environment.doc, 'metadata.name', message))) return;
  for (const c of checked) {
    const name = c.name;
    if (c.kind === 'Environment' || name === undefined) continue;
    namesFit(() => workloadNames(envName, name), (message) => issues.add(c.doc, 'metadata.name', message));
  }
}

function namesFit(derive: () => unknown, report: (message: string) => void): boolean {
  try {
    derive();
    return true;
  } catch (error) {
    if (!(error instanceof NameError)) throw error;
    report(error.message);
    return false;
  }
}
