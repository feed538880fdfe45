import { WHOLE_SOURCE, type DesiredStateIssue } from '../errors.js';
import { shownKey } from '../schema/values.js';
import { compareStrings } from './order.js';
import type { RawDocument } from './raw-document.js';

export { WHOLE_SOURCE };

/** Collects problems and lists them grouped by file and document, in discovery order within one. */
export class IssueList {
  private readonly entries: { issue: DesiredStateIssue; file: string; index: number; seq: number }[] = [];

  get size(): number {
    return this.entries.length;
  }

  add(doc: RawDocument | undefined, path: string, message: string): void {
    const issue: DesiredStateIssue = doc ? { file: doc.origin.file, document: doc.label, path, message } : { file: WHOLE_SOURCE, path, message };
    // Problems of the whole source sort after every file's.
    this.entries.push({ issue, file: doc?.origin.file ?? '\uffff', index: doc?.origin.index ?? 0, seq: this.entries.length });
  }

  addFile(file: string, document: string | undefined, message: string, index: number): void {
    const issue: DesiredStateIssue = document === undefined ? { file, path: '', message } : { file, document, path: '', message };
    this.entries.push({ issue, file, index, seq: this.entries.length });
  }

  list(): DesiredStateIssue[] {
    return [...this.entries]
      .sort((a, b) => compareStrings(a.file, b.file) || a.index - b.index || a.seq - b.seq)
      .map((entry) => entry.issue);
  }
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * `['spec', 'routes', 1, 'backendPath']` becomes `spec.routes[1].backendPath`. Keys come from the
 * document: one that could hold a value is shown as `schema/values.ts` shownKey allows, or as `[?]`.
 */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && IDENTIFIER.test(key) && key.length <= 128) out += out === '' ? key : `.${key}`;
    else {
      const shown = shownKey(String(key));
      out += shown === undefined ? '[?]' : `[${JSON.stringify(shown)}]`;
    }
  }
  return out;
}
