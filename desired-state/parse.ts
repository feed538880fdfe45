/**
 * Turns source files into the normalised DesiredState, or throws InvalidDesiredStateError
 * listing every problem found. No AWS call happens here.
 */
import { InvalidDesiredStateError } from './errors.js';
import { assemble } from './parse/assemble.js';
import { checkDocument } from './parse/check-document.js';
import { checkDocumentSet } from './parse/cross-document-rules.js';
import { IssueList } from './parse/issue-list.js';
import { environmentDefaults } from './parse/merge-defaults.js';
import { checkMergedRules } from './parse/merged-rules.js';
import { checkDerivedNames } from './parse/name-rules.js';
import { ReadBudget, readDocuments, sortFiles, type SourceFile } from './parse/read-files.js';
import { checkSizes } from './parse/size-rules.js';
import { checkTagCounts } from './parse/tag-rules.js';
import type { DesiredState } from './types.js';

export { formatPath, WHOLE_SOURCE } from './parse/issue-list.js';
export type { SourceFile } from './parse/read-files.js';
export { readableBySize } from './parse/size-rules.js';

export function parseDesiredState(files: SourceFile[], revision: string): DesiredState {
  const issues = new IssueList();
  // Over a size limit, nothing is parsed: the revision is refused for its size alone.
  checkSizes(files, issues);
  if (issues.size > 0) throw new InvalidDesiredStateError(issues.list());
  const budget = new ReadBudget(issues);
  const documents = sortFiles(files).flatMap((file) => readDocuments(file, issues, budget));
  // Past MAX_DOCUMENTS or MAX_YAML_TOKENS nothing more was read, and what was is not worth validating.
  if (budget.exhausted) throw new InvalidDesiredStateError(issues.list());
  const checked = documents.flatMap((doc) => checkDocument(doc, issues));
  checkDocumentSet(documents.length, checked, issues);
  checkDerivedNames(checked, issues);
  checkTagCounts(checked, issues);
  const defaults = environmentDefaults(checked);
  if (defaults) checkMergedRules(checked, defaults, issues);
  const state = defaults && assemble(checked, defaults, revision);
  if (issues.size > 0 || !state) throw new InvalidDesiredStateError(issues.list());
  return state;
}
