import { parseAllDocuments } from 'yaml';
import { isPlainObject } from '../schema/values.js';
import type { IssueList } from './issue-list.js';
import { compareStrings } from './order.js';
import type { RawDocument } from './raw-document.js';

export interface SourceFile {
  file: string;
  content: string;
}

/** Files are read in name order, whatever order the source listed them in. */
export function sortFiles(files: readonly SourceFile[]): SourceFile[] {
  return [...files].sort((a, b) => compareStrings(a.file, b.file));
}

export function readDocuments(file: SourceFile, issues: IssueList): RawDocument[] {
  const content = file.content.replace(/^\uFEFF/, '');
  const name = file.file.toLowerCase();
  if (name.endsWith('.yaml') || name.endsWith('.yml')) return readYaml(file.file, content, issues);
  if (name.endsWith('.json')) return readJson(file.file, content, issues);
  issues.addFile(file.file, undefined, 'unsupported file type; desired state is read from .yaml, .yml and .json files', 0);
  return [];
}

function documentNumber(index: number): string {
  return `document #${index + 1}`;
}

function labelOf(value: unknown, index: number): string {
  if (isPlainObject(value) && typeof value.kind === 'string' && value.kind !== '' && isPlainObject(value.metadata)) {
    const name = value.metadata.name;
    if (typeof name === 'string' && name !== '') return `${value.kind}/${name}`;
  }
  return documentNumber(index);
}

function rawDocument(file: string, index: number, value: unknown): RawDocument {
  return { value, origin: { file, index }, label: labelOf(value, index) };
}

/** The first line of a yaml error without its position and code excerpt, which could show a secret. */
function yamlErrorText(error: { message: string; code: string; linePos?: readonly { line: number; col: number }[] }): string {
  const reason = (error.message.split('\n')[0] ?? error.code).replace(/ at line \d+, column \d+:?$/, '');
  const position = error.linePos?.[0];
  return position ? `YAML syntax error at line ${position.line}, column ${position.col}: ${reason}` : `YAML syntax error: ${reason}`;
}

function readYaml(file: string, content: string, issues: IssueList): RawDocument[] {
  const out: RawDocument[] = [];
  parseAllDocuments(content, { prettyErrors: true, uniqueKeys: true }).forEach((doc, index) => {
    const problems = [...doc.errors, ...doc.warnings.filter((warning) => warning.code === 'TAG_RESOLVE_FAILED')];
    if (problems.length > 0) {
      for (const problem of problems) issues.addFile(file, documentNumber(index), yamlErrorText(problem), index);
      return;
    }
    try {
      const value: unknown = doc.toJS({ maxAliasCount: 100 });
      // A document holding only comments, or nothing between two `---`, is not a document.
      if (value !== null && value !== undefined) out.push(rawDocument(file, index, value));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      issues.addFile(file, documentNumber(index), `YAML could not be read: ${reason}`, index);
    }
  });
  return out;
}

function jsonErrorText(content: string, error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  const lineColumn = /line (\d+) column (\d+)/.exec(message);
  if (lineColumn) return `JSON syntax error at line ${lineColumn[1]}, column ${lineColumn[2]}`;
  const position = /position (\d+)/.exec(message);
  if (position) {
    const before = content.slice(0, Number(position[1])).split('\n');
    return `JSON syntax error at line ${before.length}, column ${(before[before.length - 1]?.length ?? 0) + 1}`;
  }
  if (message.includes('end of JSON input')) return 'JSON syntax error: the file ends too early';
  return 'JSON syntax error: the file is not valid JSON';
}

function readJson(file: string, content: string, issues: IssueList): RawDocument[] {
  let value: unknown;
  try {
    value = JSON.parse(content);
  } catch (error) {
    issues.addFile(file, undefined, jsonErrorText(content, error), 0);
    return [];
  }
  const values: unknown[] = Array.isArray(value) ? value : [value];
  return values.map((item, index) => rawDocument(file, index, item));
}
