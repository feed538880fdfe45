/**
 * A broken or hostile desired state: messages never quote what could be secret, every problem is
 * bounded, and the size, count and nesting limits refuse a revision before it costs much.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InvalidDesiredStateError, type DesiredStateIssue } from '../../../desired-state/errors.js';
import {
  MAX_DOCUMENTS,
  MAX_FILE_BYTES,
  MAX_FILES,
  MAX_ISSUE_MESSAGE_CHARS,
  MAX_ISSUES,
  MAX_NESTING,
  MAX_SERVICES,
  MAX_TOTAL_BYTES,
  MAX_YAML_TOKENS,
  formatBytes,
} from '../../../desired-state/limits.js';
import { WHOLE_SOURCE, parseDesiredState, readableBySize, type SourceFile } from '../../../desired-state/parse.js';

const EXAMPLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../desired-state/examples/shop');
const SECRET = 'sk_live_51HfakeFAKEfake0000';

function example(): SourceFile[] {
  return readdirSync(EXAMPLE)
    .filter((name) => name.endsWith('.yaml'))
    .sort()
    .map((file) => ({ file, content: readFileSync(path.join(EXAMPLE, file), 'utf8') }));
}

function issuesOf(files: SourceFile[]): DesiredStateIssue[] {
  try {
    parseDesiredState(files, 'sha256:test');
  } catch (error) {
    if (error instanceof InvalidDesiredStateError) return error.issues;
    throw error;
  }
  return [];
}

/** The issues and the error's text, checked to hold neither the secret nor an unbounded problem. */
function expectSafe(files: SourceFile[]): DesiredStateIssue[] {
  let error: unknown;
  try {
    parseDesiredState(files, 'sha256:test');
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(InvalidDesiredStateError);
  const { issues, message } = error as InvalidDesiredStateError;
  expect(message).not.toContain(SECRET);
  expect(JSON.stringify(issues)).not.toContain(SECRET);
  expect(issues.length).toBeLessThanOrEqual(MAX_ISSUES);
  for (const issue of issues) expect(issue.message.length).toBeLessThanOrEqual(MAX_ISSUE_MESSAGE_CHARS);
  return issues;
}

const withFile = (file: string, content: string): SourceFile[] => [...example(), { file, content }];

function service(name: string, port: number): string {
  return [
    'apiVersion: converge/v1',
    'kind: Service',
    `metadata: { name: ${name} }`,
    'spec:',
    `  container: { image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/${name}:1", port: 8000, cpu: 256, memory: 512 }`,
    '  desiredCount: 1',
    `  listenerPort: ${port}`,
    '',
  ].join('\n');
}

describe('YAML syntax errors quote nothing from the file', () => {
  it('names the line, the column and what is wrong, without the token the parser quotes', () => {
    // The yaml package's own message: `Unexpected scalar token in YAML stream: "DB_PASSWORD=sk_live_..."`.
    const issues = expectSafe(withFile('broken.yaml', `*{,DB_PASSWORD=${SECRET}${'Q'.repeat(100_000)}\n`));
    const broken = issues.filter((i) => i.file === 'broken.yaml');
    expect(broken.length).toBeGreaterThan(0);
    for (const issue of broken) {
      expect(issue.message).toMatch(/^YAML syntax error at line \d+, column \d+: /);
      expect(issue.message).not.toMatch(/DB_PASSWORD|QQQ/);
    }
  });

  it.each([
    ['an alias without its anchor', `a: *${SECRET}\n`, /^YAML could not be read: an alias/],
    ['an unknown tag', `a: !${SECRET} x\n`, /^YAML syntax error at line 1, column 4: an unknown tag/],
    ['a bad block scalar header', `a: |x${SECRET}\n  b\n`, /^YAML syntax error at line 1, column 5: /],
    ['a bad escape', `a: "\\q${SECRET}"\n`, /^YAML syntax error at line 1, column 5: an invalid escape sequence/],
  ])('%s', (_name, content, message) => {
    const issues = expectSafe(withFile('broken.yaml', content));
    expect(issues.find((i) => i.file === 'broken.yaml')?.message).toMatch(message);
  });

  it('shows the parser messages that are constant text', () => {
    const issues = expectSafe(withFile('broken.yaml', `a:\n  b: 1\n c: ${SECRET}\n`));
    expect(issues.find((i) => i.file === 'broken.yaml')?.message).toMatch(/^YAML syntax error at line 3, column 2: .*must start at the same column|^YAML syntax error at line 3/);
  });

  it('bounds what a large binary file produces', () => {
    let x = 230;
    let junk = '';
    for (let i = 0; i < 200_000; i += 1) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      junk += String.fromCharCode((x >>> 16) & 0xff);
    }
    const issues = expectSafe(withFile('blob.yaml', `${junk}DB_PASSWORD=${SECRET}${junk}`));
    expect(JSON.stringify(issues).length).toBeLessThan(MAX_ISSUES * (MAX_ISSUE_MESSAGE_CHARS + 200));
  });
});

describe('keys and values that could hold a secret', () => {
  it('shows NAME=value written as a key as NAME=...', () => {
    const files = example().map((f) => (f.file === 'services.yaml' ? { ...f, content: f.content.replace('env: { LOG_LEVEL: info }', `env: { LOG_LEVEL: info, DB_PASSWORD=${SECRET} }`) } : f));
    const issues = expectSafe(files);
    expect(issues).toContainEqual({
      file: 'services.yaml',
      document: 'Service/users',
      path: 'spec.container.env["DB_PASSWORD=..."]',
      message: 'environment variable name "DB_PASSWORD=..." must start with a letter or "_" and contain only letters, digits and "_"; write NAME: value, not NAME=value',
    });
  });

  it('does not show an unknown field whose name could be a value, nor its value', () => {
    const files = example().map((f) =>
      f.file === 'gateway.yaml' ? { ...f, content: `${f.content.trimEnd()}\n  "password: ${SECRET}\\u0000": 1\n  DB_PASSWORD=${SECRET}: ${SECRET}\n  token: ${SECRET}\n` } : f,
    );
    const issues = expectSafe(files).filter((i) => i.file === 'gateway.yaml');
    expect(issues.map((i) => [i.path, i.message.replace(/ \(allowed: .*$/, '')])).toEqual([
      ['spec[?]', 'unknown field (a key of 38 characters, not shown)'],
      ['spec["DB_PASSWORD=..."]', 'unknown field "DB_PASSWORD=..."'],
      ['spec.token', 'unknown field "token"'],
    ]);
  });

  it('masks credentials in a value it quotes', () => {
    const files = example().map((f) => (f.file === 'environment.yaml' ? { ...f, content: f.content.replace('region: us-east-1', `region: "https://admin:${SECRET}@mars-1?key=${SECRET}"`) } : f));
    expect(expectSafe(files).find((i) => i.path === 'spec.region')?.message).toBe('must be an AWS region like us-east-1, got "https://***@mars-1?key=..."');
  });

  it('labels a document by kind and name only when they look like a kind and a name', () => {
    const files = withFile('odd.yaml', `apiVersion: converge/v1\nkind: Service\nmetadata: { name: "DB_PASSWORD=${SECRET}" }\nspec: {}\n`);
    expect(new Set(expectSafe(files).filter((i) => i.file === 'odd.yaml').map((i) => i.document))).toEqual(new Set(['document #1']));
  });
});

describe('every problem is bounded', () => {
  it(`reports at most ${MAX_ISSUES} problems, the last one counting the rest`, () => {
    const unknown = Array.from({ length: 300 }, (_, i) => `  unknown${i}: 1`).join('\n');
    const files = example().map((f) => (f.file === 'frontend.yaml' ? { ...f, content: `${f.content.trimEnd()}\n${unknown}\n` } : f));
    const issues = expectSafe(files);
    expect(issues).toHaveLength(MAX_ISSUES);
    expect(issues[MAX_ISSUES - 1]).toEqual({ file: WHOLE_SOURCE, path: '', message: expect.stringMatching(/^251 more problems are not shown/) as string });
  });

  it('bounds problems made anywhere (network resolution, expansion), cutting long ones in the middle', () => {
    const long = `${'start '.repeat(100)}${'middle '.repeat(10_000)}${'end '.repeat(100)}`;
    const error = new InvalidDesiredStateError(Array.from({ length: 500 }, () => ({ file: 'x'.repeat(5000), document: 'd'.repeat(5000), path: 'p'.repeat(5000), message: long })));
    expect(error.issues).toHaveLength(MAX_ISSUES);
    for (const issue of error.issues) {
      expect(issue.message.length).toBeLessThanOrEqual(MAX_ISSUE_MESSAGE_CHARS);
      expect(issue.file.length + (issue.document?.length ?? 0) + issue.path.length).toBeLessThanOrEqual(1500);
    }
    expect(error.issues[0]?.message).toMatch(/^start .* \[\.\.\.\] .*end $/);
    expect(error.message.length).toBeLessThan(MAX_ISSUES * 2000);
  });
});

describe('size limits', () => {
  it('refuses a file over MAX_FILE_BYTES, naming it and the limit, and parses nothing', () => {
    const big = `# ${'x'.repeat(MAX_FILE_BYTES)}\n`;
    expect(issuesOf(withFile('big.yaml', big))).toEqual([
      { file: 'big.yaml', path: '', message: `the file is ${formatBytes(MAX_FILE_BYTES + 3)}; a desired-state file may be at most ${formatBytes(MAX_FILE_BYTES)}, so it was not read` },
    ]);
  });

  it('refuses a file the source did not read, from the size it listed', () => {
    expect(issuesOf(withFile('s3://bucket/shop/huge.yaml', '').map((f) => (f.file.endsWith('huge.yaml') ? { ...f, size: 52_428_800, unread: true as const } : f)))).toEqual([
      { file: 's3://bucket/shop/huge.yaml', path: '', message: expect.stringContaining('the file is 52,428,800 bytes (50 MiB); a desired-state file may be at most') as string },
      { file: WHOLE_SOURCE, path: '', message: expect.stringContaining(`at most ${formatBytes(MAX_TOTAL_BYTES)} in all is read`) as string },
    ]);
  });

  it('refuses a desired state over MAX_TOTAL_BYTES although each file is within MAX_FILE_BYTES', () => {
    const pads = Math.ceil(MAX_TOTAL_BYTES / MAX_FILE_BYTES);
    const files = [...example(), ...Array.from({ length: pads }, (_, i) => ({ file: `pad${i}.yaml`, content: '', size: MAX_FILE_BYTES, unread: true as const }))];
    expect(issuesOf(files)).toEqual([
      { file: WHOLE_SOURCE, path: '', message: expect.stringMatching(new RegExp(`^the desired state is .* in ${files.length} files; at most .* in all is read, so none was$`)) as string },
    ]);
  });

  it(`refuses more than ${MAX_FILES} files`, () => {
    const files = Array.from({ length: MAX_FILES + 1 }, (_, i) => ({ file: `f${i}.yaml`, content: '' }));
    expect(issuesOf(files)).toEqual([{ file: WHOLE_SOURCE, path: '', message: expect.stringContaining(`at most ${MAX_FILES} are read`) as string }]);
  });

  it('tells the source what to read from the sizes alone, consistently with what parsing refuses', () => {
    expect(readableBySize([10, MAX_TOTAL_BYTES - MAX_FILE_BYTES - 20, MAX_FILE_BYTES + 1])).toEqual([true, true, false]);
    expect(readableBySize([MAX_FILE_BYTES, MAX_TOTAL_BYTES - MAX_FILE_BYTES, 1])).toEqual([false, false, false]);
    expect(readableBySize(Array.from({ length: MAX_FILES + 1 }, () => 1)).some(Boolean)).toBe(false);
  });

  it(`stops reading at the document past ${MAX_DOCUMENTS}, empty ones included`, () => {
    const issues = issuesOf(withFile('many.yaml', '---\n'.repeat(50_000)));
    expect(issues).toEqual([{ file: WHOLE_SOURCE, path: '', message: expect.stringContaining(`more than ${MAX_DOCUMENTS} documents`) as string }]);
  });

  it(`stops reading at the YAML token past ${MAX_YAML_TOKENS.toLocaleString('en-US')}`, () => {
    const flow = `a: [${'1,'.repeat(200_000)}1]\n`;
    expect(flow.length).toBeLessThan(MAX_FILE_BYTES);
    expect(issuesOf(withFile('flow.yaml', flow))).toEqual([{ file: WHOLE_SOURCE, path: '', message: expect.stringContaining('YAML tokens') as string }]);
  });

  it('counts JSON documents too', () => {
    expect(issuesOf(withFile('many.json', JSON.stringify(Array.from({ length: MAX_DOCUMENTS + 1 }, () => ({})))))).toEqual([
      { file: WHOLE_SOURCE, path: '', message: expect.stringContaining(`more than ${MAX_DOCUMENTS} documents`) as string },
    ]);
  });
});

describe('nesting', () => {
  it.each([
    ['YAML flow collections', `a: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`, 'nest.yaml', /^YAML syntax error at line 1, column \d+: mappings and lists nested more than 32 deep/],
    ['unclosed YAML flow collections', `a: ${'{a: '.repeat(50_000)}\n`, 'nest.yaml', /nested more than 32 deep/],
    ['YAML block mappings', Array.from({ length: 40 }, (_, i) => `${' '.repeat(i)}k:`).join('\n'), 'nest.yaml', /^YAML syntax error at line 3\d, column \d+: mappings and lists nested more than 32 deep/],
    ['JSON', `${'['.repeat(100_000)}${']'.repeat(100_000)}`, 'nest.json', /^JSON objects and arrays nested more than 32 deep/],
  ])('refuses %s deeper than MAX_NESTING before anything recurses over them', (_name, content, file, message) => {
    const issues = issuesOf(withFile(file, content));
    expect(issues.filter((i) => i.file === file)).toEqual([{ file, path: '', message: expect.stringMatching(message) as string }]);
  });

  it('reads what converge documents nest, well within MAX_NESTING', () => {
    const nested = `apiVersion: converge/v1\nkind: Service\nmetadata: { name: deep }\nspec:\n  x: ${'['.repeat(MAX_NESTING - 4)}${']'.repeat(MAX_NESTING - 4)}\n`;
    const issues = issuesOf(withFile('deep.yaml', nested)).filter((i) => i.file === 'deep.yaml');
    expect(issues.map((i) => i.path)).toContain('spec.x');
    expect(issues.some((i) => i.message.includes('nested'))).toBe(false);
  });
});

describe('duplicate keys', () => {
  it('are found in every mapping, named by line and column', () => {
    const content = 'apiVersion: converge/v1\nkind: Service\nmetadata:\n  name: a\n  name: b\nspec:\n  x: { k: 1, k: 2 }\n  list:\n    - { a: 1, "a": 2, 1: 3, "1": 4 }\n';
    expect(issuesOf(withFile('dup.yaml', content)).filter((i) => i.file === 'dup.yaml')).toEqual([
      { file: 'dup.yaml', document: 'document #1', path: '', message: 'YAML syntax error at line 5, column 3: a duplicate key; each key may appear only once in a mapping' },
      { file: 'dup.yaml', document: 'document #1', path: '', message: 'YAML syntax error at line 7, column 14: a duplicate key; each key may appear only once in a mapping' },
      { file: 'dup.yaml', document: 'document #1', path: '', message: 'YAML syntax error at line 9, column 15: a duplicate key; each key may appear only once in a mapping' },
    ]);
  });
});

describe('Services per environment', () => {
  const withServices = (count: number): SourceFile[] => [
    ...example().filter((f) => f.file !== 'services.yaml'),
    { file: 'services.yaml', content: Array.from({ length: count }, (_, i) => service(`svc${i}`, 10001 + i)).join('---\n') },
  ];

  it(`accepts ${MAX_SERVICES}`, () => {
    expect(issuesOf(withServices(MAX_SERVICES))).toEqual([]);
  });

  it(`refuses ${MAX_SERVICES + 1}, naming the quota that sets the bound`, () => {
    expect(issuesOf(withServices(MAX_SERVICES + 1))).toEqual([
      {
        file: WHOLE_SOURCE,
        path: '',
        message: `${MAX_SERVICES + 1} Services; an environment holds at most ${MAX_SERVICES}: each Service takes a listener on an internal Network Load Balancer of 50 listeners ("Listeners per NLB", a quota AWS does not raise), and ${MAX_SERVICES} Services already need 10 NLBs; split the environment`,
      },
    ]);
  });
});
