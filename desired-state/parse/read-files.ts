import { Composer, isMap, isPair, isScalar, isSeq, Lexer, LineCounter, Parser, type CST, type Document, type ErrorCode } from 'yaml';
import { MAX_DOCUMENTS, MAX_NESTING, MAX_YAML_TOKENS } from '../limits.js';
import { isPlainObject } from '../schema/values.js';
import type { IssueList } from './issue-list.js';
import { compareStrings } from './order.js';
import type { RawDocument } from './raw-document.js';

export interface SourceFile {
  file: string;
  /** The file's text; empty when `unread`. */
  content: string;
  /** Its size in bytes, when the source knew it before reading (from its listing or fs.stat). */
  size?: number;
  /** The source did not read the file, because it is over a size limit (parse/size-rules.ts says which). */
  unread?: true;
}

/** Files are read in name order, whatever order the source listed them in. */
export function sortFiles(files: readonly SourceFile[]): SourceFile[] {
  return [...files].sort((a, b) => compareStrings(a.file, b.file));
}

/** What all files read so far hold, against MAX_DOCUMENTS and MAX_YAML_TOKENS. */
export class ReadBudget {
  private documents = 0;
  private tokens = 0;
  /** Set once a limit was passed (and reported): nothing more is read. */
  exhausted = false;

  constructor(private readonly issues: IssueList) {}

  /** Counts one more document; false (reported once) when it is one too many. */
  takeDocument(): boolean {
    this.documents += 1;
    return this.within(this.documents <= MAX_DOCUMENTS, () => `more than ${MAX_DOCUMENTS} documents (empty ones between two "---" count too); 50 Services, the Environment, the Gateway and the Frontend are 53`);
  }

  /** Counts one more YAML token; false (reported once) when it is one too many. */
  takeToken(): boolean {
    this.tokens += 1;
    return this.within(
      this.tokens <= MAX_YAML_TOKENS,
      () => `more than ${MAX_YAML_TOKENS.toLocaleString('en-US')} YAML tokens (keys, values, indicators, spaces and line breaks) in all files; documents written as usual have one per 3 to 4 bytes (50 Services: about 11,000)`,
    );
  }

  /** `problem` is built only when it is reported: this runs once per token. */
  private within(ok: boolean, problem: () => string): boolean {
    if (this.exhausted) return false;
    if (ok) return true;
    this.exhausted = true;
    this.issues.add(undefined, '', `${problem()}, so reading stopped there`);
    return false;
  }
}

/**
 * The documents of one file. Messages never quote the file's text: a syntax error names the line,
 * the column and what was expected, since the text around it may be a secret.
 */
export function readDocuments(file: SourceFile, issues: IssueList, budget: ReadBudget = new ReadBudget(issues)): RawDocument[] {
  if (file.unread || budget.exhausted) return [];
  const content = file.content.replace(/^\uFEFF/, '');
  const name = file.file.toLowerCase();
  if (name.endsWith('.yaml') || name.endsWith('.yml')) return readYaml(file.file, content, issues, budget);
  if (name.endsWith('.json')) return readJson(file.file, content, issues, budget);
  issues.addFile(file.file, undefined, 'unsupported file type; desired state is read from .yaml, .yml and .json files', 0);
  return [];
}

function documentNumber(index: number): string {
  return `document #${index + 1}`;
}

// Shown in every problem of the document, before its name is validated: only what looks like a kind and a name.
const LABEL_KIND = /^[A-Za-z][A-Za-z0-9-]{0,39}$/;
const LABEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

function labelOf(value: unknown, index: number): string {
  if (isPlainObject(value) && typeof value.kind === 'string' && LABEL_KIND.test(value.kind) && isPlainObject(value.metadata)) {
    const name = value.metadata.name;
    if (typeof name === 'string' && LABEL_NAME.test(name)) return `${value.kind}/${name}`;
  }
  return documentNumber(index);
}

function rawDocument(file: string, index: number, value: unknown): RawDocument {
  return { value, origin: { file, index }, label: labelOf(value, index) };
}

/** What each YAML error means, in words that quote nothing from the file (the parser's own messages do). */
const YAML_PROBLEMS: Record<ErrorCode, string> = {
  ALIAS_PROPS: 'an alias (*name) cannot have an anchor or a tag',
  BAD_ALIAS: 'an anchor or alias (&name, *name) that is empty or ends with ":"',
  BAD_COLLECTION_TYPE: 'a tag that does not fit its value',
  BAD_DIRECTIVE: 'an invalid or unsupported directive (%YAML, %TAG)',
  BAD_DQ_ESCAPE: 'an invalid escape sequence in a double-quoted string',
  BAD_INDENT: 'wrong indentation: the items of one mapping or list must start at the same column',
  BAD_PROP_ORDER: 'an anchor or tag before its "-", "?" or ":" indicator instead of after it',
  BAD_SCALAR_START: 'a plain value cannot start with this character; quote the value',
  BLOCK_AS_IMPLICIT_KEY: 'a list or nested mapping where a key was expected',
  BLOCK_IN_FLOW: 'block-style content inside a flow collection ({...} or [...])',
  DUPLICATE_KEY: 'a duplicate key; each key may appear only once in a mapping',
  IMPOSSIBLE: 'content the YAML parser cannot read',
  KEY_OVER_1024_CHARS: 'a key longer than 1024 characters, or a missing ":" after a key',
  MISSING_CHAR: 'a missing character: expected a closing quote, ":" after a key, "," between items or a space after ":"',
  MULTILINE_IMPLICIT_KEY: 'a key spread over several lines; a key must be on one line (or a missing ":" or closing quote)',
  MULTIPLE_ANCHORS: 'a value with more than one anchor (&name)',
  MULTIPLE_DOCS: 'several documents where one was expected',
  MULTIPLE_TAGS: 'a value with more than one tag',
  NON_STRING_KEY: 'a key that is not a string',
  RESOURCE_EXHAUSTION: 'too many aliases (*name)',
  TAB_AS_INDENT: 'a tab used for indentation; indent with spaces',
  TAG_RESOLVE_FAILED: 'an unknown tag (!name); converge documents use no tags',
  UNEXPECTED_TOKEN: 'unexpected content: expected a "key: value" pair, a "- item" or a value',
};

/**
 * Messages of the yaml package that are constant text (or name only the kind of flow collection):
 * these are shown as they are, since they can hold nothing from the file. Any other message
 * (they quote tokens, tags, escapes, alias names) is replaced by its code's text above.
 */
const CONSTANT_YAML_MESSAGES = new Set([
  'A block sequence may not be used as an implicit map key',
  'A node can have at most one anchor',
  'A node can have at most one tag',
  'Alias cannot be an empty string',
  'All mapping items must start at the same column',
  'All sequence items must start at the same column',
  'An alias node must not specify any properties',
  'Anchor cannot be an empty string',
  'Block collection cannot start on same line with directives-end marker',
  'Block collections are not allowed within flow collections',
  'Block scalar header not found',
  'Block scalar values in collections must be indented',
  'Block scalars with more-indented leading empty lines must use an explicit indentation indicator',
  'Comments must be separated from other tokens by white space characters',
  'Each pair must have its own sequence indicator',
  'Flow end indicator should be more indented than parent',
  'Implicit keys need to be on a single line',
  'Implicit keys of flow sequence pairs need to be on a single line',
  'Implicit map keys need to be followed by map values',
  'Map keys must be unique',
  'Missing closing "quote',
  "Missing closing 'quote",
  'Missing directives-end indicator line',
  'Missing directives-end/doc-start indicator line',
  'Missing newline after block sequence props',
  'Nested mappings are not allowed in compact mappings',
  'Sequence item without - indicator',
  'Tabs are not allowed as indentation',
  'Tags and anchors must be separated from the next token by white space',
  'The : indicator must be at most 1024 chars after the start of an implicit block mapping key',
  'The : indicator must be at most 1024 chars after the start of an implicit flow sequence key',
  'Unexpected doc-end without preceding document',
]);
const FLOW_COLLECTION_MESSAGE =
  /^(?:Unexpected , in flow (?:map|sequence)|Unexpected empty item in flow (?:map|sequence)|Missing , between flow (?:map|sequence) items|Missing , or : between flow (?:map|sequence) items|Missing space after : in flow (?:map|sequence)|Flow (?:map|sequence) (?:in block collection must be sufficiently indented and )?(?:must )?end with a [\]}])$/;

function yamlProblem(code: string, message: string): string {
  if (CONSTANT_YAML_MESSAGES.has(message) || FLOW_COLLECTION_MESSAGE.test(message)) return message;
  return (YAML_PROBLEMS as Record<string, string | undefined>)[code] ?? 'content the YAML parser cannot read';
}

function yamlError(lines: LineCounter, offset: number, problem: string): string {
  if (offset < 0) return `YAML syntax error: ${problem}`;
  const { line, col } = lines.linePos(offset);
  return `YAML syntax error at line ${line}, column ${col}: ${problem}`;
}

interface ParsedYaml {
  documents: Document.Parsed[];
  /** Where the nesting went past MAX_NESTING; nothing was composed then. */
  tooDeepAt?: number;
}

function isDocumentToken(token: CST.Token): boolean {
  return token.type === 'document';
}

/**
 * parseAllDocuments, in its steps: the parser keeps a stack of the collections open at the
 * current token, so nesting is bounded before the composer (which recurses) ever sees it. Keys
 * are checked for duplicates afterwards, in one pass: the composer's own check (`uniqueKeys`)
 * compares each key with every earlier key of its mapping, quadratic in the mapping's size.
 */
function parseYaml(content: string, lines: LineCounter, budget: ReadBudget): ParsedYaml {
  const parser = new Parser(lines.addNewLine);
  lines.addNewLine(0);
  const tokens: CST.Token[] = [];
  const keep = (token: CST.Token): boolean => {
    if (isDocumentToken(token) && !budget.takeDocument()) return false;
    tokens.push(token);
    return true;
  };
  for (const lexeme of new Lexer().lex(content)) {
    if (!budget.takeToken()) return { documents: [] };
    for (const token of parser.next(lexeme)) if (!keep(token)) return { documents: [] };
    // The stack holds the document and each collection open at this token (and the scalar being read).
    if (parser.stack.length > MAX_NESTING + 2) return { documents: [], tooDeepAt: Math.max(0, parser.offset - lexeme.length) };
  }
  for (const token of parser.end()) if (!keep(token)) return { documents: [] };
  const composer = new Composer({ uniqueKeys: false });
  return { documents: Array.from(composer.compose(tokens)) };
}

/** Offsets of keys that repeat an earlier key of the same mapping, as `uniqueKeys: true` would find them, in linear time. */
export function duplicateKeyOffsets(doc: Document.Parsed): number[] {
  const found: number[] = [];
  const pending: unknown[] = [doc.contents];
  while (pending.length > 0) {
    const node = pending.pop();
    if (isMap(node)) {
      // Scalars are equal when their values are (===), like the yaml package's default uniqueKeys.
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        const key: unknown = pair.key;
        if (isScalar(key)) {
          if (seen.has(key.value)) found.push(key.range?.[0] ?? node.range?.[0] ?? 0);
          else seen.add(key.value);
        }
        pending.push(key, pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) pending.push(item);
    } else if (isPair(node)) {
      pending.push(node.key, node.value);
    }
  }
  return found.sort((a, b) => a - b);
}

function readYaml(file: string, content: string, issues: IssueList, budget: ReadBudget): RawDocument[] {
  const lines = new LineCounter();
  const { documents, tooDeepAt } = parseYaml(content, lines, budget);
  if (tooDeepAt !== undefined) {
    issues.addFile(file, undefined, yamlError(lines, tooDeepAt, `mappings and lists nested more than ${MAX_NESTING} deep; converge documents nest about 6 deep`), 0);
    return [];
  }
  const out: RawDocument[] = [];
  documents.forEach((doc, index) => {
    const problems = [
      ...[...doc.errors, ...doc.warnings.filter((warning) => warning.code === 'TAG_RESOLVE_FAILED')].map((error) => ({ offset: error.pos[0], text: yamlProblem(error.code, error.message) })),
      ...duplicateKeyOffsets(doc).map((offset) => ({ offset, text: YAML_PROBLEMS.DUPLICATE_KEY })),
    ].sort((a, b) => a.offset - b.offset);
    if (problems.length > 0) {
      for (const problem of problems) issues.addFile(file, documentNumber(index), yamlError(lines, problem.offset, problem.text), index);
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (error) {
      // toJS's messages name the alias; say what is wrong without it.
      const excessive = error instanceof Error && /excessive alias count/i.test(error.message);
      const reason = excessive ? 'too many aliases (*name); at most 100 are expanded' : 'an alias (*name) whose anchor (&name) does not come before it';
      issues.addFile(file, documentNumber(index), `YAML could not be read: ${reason}`, index);
      return;
    }
    // A document holding only comments, or nothing between two `---`, is not a document.
    if (value !== null && value !== undefined) out.push(rawDocument(file, index, value));
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

/** Whether a value nests mappings and lists more than `max` deep, walked without recursion. */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const pending: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (pending.length > 0) {
    const next = pending.pop();
    if (!next || typeof next.value !== 'object' || next.value === null) continue;
    if (next.depth >= max) return true;
    for (const child of Object.values(next.value)) pending.push({ value: child, depth: next.depth + 1 });
  }
  return false;
}

function readJson(file: string, content: string, issues: IssueList, budget: ReadBudget): RawDocument[] {
  let value: unknown;
  try {
    value = JSON.parse(content);
  } catch (error) {
    issues.addFile(file, undefined, jsonErrorText(content, error), 0);
    return [];
  }
  // A top-level array holds documents, one level more than a document of its own.
  if (nestsDeeperThan(value, MAX_NESTING + (Array.isArray(value) ? 1 : 0))) {
    issues.addFile(file, undefined, `JSON objects and arrays nested more than ${MAX_NESTING} deep; converge documents nest about 6 deep`, 0);
    return [];
  }
  const values: unknown[] = Array.isArray(value) ? value : [value];
  const out: RawDocument[] = [];
  for (const [index, item] of values.entries()) {
    if (!budget.takeDocument()) return [];
    out.push(rawDocument(file, index, item));
  }
  return out;
}
