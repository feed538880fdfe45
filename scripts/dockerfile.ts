/**
 * A reader for the subset of Dockerfile syntax converge's Dockerfile uses: enough for
 * scripts/image-check.ts to reproduce the runtime stage without a Docker engine, and for tests to
 * compare the image with deploy/converge.yaml. Anything outside the subset is an error, never a guess.
 */

export interface CopyInstruction {
  kind: 'COPY';
  /** Stage name or index of `--from`; undefined: the build context. */
  from?: string;
  sources: string[];
  destination: string;
  line: number;
}

export interface RunInstruction {
  kind: 'RUN';
  command: string;
  line: number;
}

export type StageInstruction = CopyInstruction | RunInstruction | { kind: 'WORKDIR'; path: string; line: number };

export interface HealthcheckInstruction {
  options: Record<string, string>;
  /** Exec form only: `CMD ["node", ...]`. */
  command: string[];
}

export interface Stage {
  index: number;
  name?: string;
  image: string;
  instructions: StageInstruction[];
  /** ENV in order, values with `${ARG}` already substituted. */
  env: Record<string, string>;
  /** ARG declared in the stage, with its default (undefined: none). */
  args: Record<string, string | undefined>;
  workdir: string;
  user?: string;
  expose: string[];
  healthcheck?: HealthcheckInstruction;
  entrypoint?: string[];
  cmd?: string[];
}

export interface Dockerfile {
  /** ARG before the first FROM. */
  globalArgs: Record<string, string | undefined>;
  stages: Stage[];
}

export class DockerfileError extends Error {}

/** Logical lines: comments dropped, `\` continuations joined; each with its first physical line number. */
function logicalLines(text: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  let current: { text: string; line: number } | undefined;
  text.split(/\r?\n/).forEach((raw, index) => {
    const trimmed = raw.trim();
    if (current === undefined && (trimmed === '' || trimmed.startsWith('#'))) return;
    if (current !== undefined && trimmed.startsWith('#')) return; // a comment inside a continuation
    const continued = trimmed.endsWith('\\');
    const piece = continued ? trimmed.slice(0, -1).trim() : trimmed;
    current = current === undefined ? { text: piece, line: index + 1 } : { text: `${current.text} ${piece}`.trim(), line: current.line };
    if (!continued) {
      out.push(current);
      current = undefined;
    }
  });
  if (current !== undefined) out.push(current);
  return out;
}

/** `${NAME}` and `$NAME` from `vars`; an unknown name is an error (Docker would make it empty, silently). */
export function substitute(text: string, vars: Record<string, string | undefined>, line: number): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_match, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare ?? '';
    const value = vars[name];
    if (value === undefined) throw new DockerfileError(`line ${line}: $${name} is not declared (ARG or ENV) before its use`);
    return value;
  });
}

function execForm(text: string, line: number, what: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new DockerfileError(`line ${line}: ${what} must use the exec form (a JSON array): ${text}`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((part): part is string => typeof part === 'string')) {
    throw new DockerfileError(`line ${line}: ${what} must be a non-empty JSON array of strings`);
  }
  return parsed;
}

/** `NAME=value NAME2="value 2"` (ENV, ARG; ARG may name no value), and the legacy `ENV NAME value`. */
function assignments(text: string, line: number, kind: 'ARG' | 'ENV'): [string, string | undefined][] {
  const trimmed = text.trim();
  const legacy = /^([A-Za-z_][A-Za-z0-9_]*)\s+(.+)$/.exec(trimmed);
  if (kind === 'ENV' && legacy && !/^[A-Za-z_][A-Za-z0-9_]*=/.test(trimmed)) return [[legacy[1] ?? '', legacy[2]]];
  const out: [string, string | undefined][] = [];
  const pattern = /\s*([A-Za-z_][A-Za-z0-9_]*)(?:=("(?:[^"\\]|\\.)*"|'[^']*'|[^\s"']*))?/y;
  let position = 0;
  while (position < trimmed.length) {
    pattern.lastIndex = position;
    const match = pattern.exec(trimmed);
    if (!match || match[0].length === 0) throw new DockerfileError(`line ${line}: cannot read the ${kind} assignments in: ${text}`);
    const [, name = '', raw] = match;
    let value = raw;
    if (value !== undefined && value.length >= 2 && /^(["']).*\1$/.test(value)) value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    if (value === undefined && kind === 'ENV') throw new DockerfileError(`line ${line}: ENV ${name} has no value`);
    out.push([name, value]);
    position = pattern.lastIndex;
  }
  return out;
}

/** `buildArgs` are `docker build --build-arg` values: they win over the ARG defaults. */
export function parseDockerfile(text: string, buildArgs: Readonly<Record<string, string>> = {}): Dockerfile {
  const globalArgs: Record<string, string | undefined> = {};
  const stages: Stage[] = [];
  for (const { text: lineText, line } of logicalLines(text)) {
    const match = /^([A-Za-z]+)\s*(.*)$/.exec(lineText);
    if (!match) throw new DockerfileError(`line ${line}: not an instruction: ${lineText}`);
    const keyword = (match[1] ?? '').toUpperCase();
    const rest = match[2] ?? '';
    const stage = stages[stages.length - 1];
    if (keyword === 'FROM') {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      if (!from) throw new DockerfileError(`line ${line}: FROM takes an image and an optional AS name: ${rest}`);
      stages.push({
        index: stages.length,
        ...(from[2] === undefined ? {} : { name: from[2] }),
        image: substitute(from[1] ?? '', globalArgs, line),
        instructions: [],
        env: {},
        args: {},
        workdir: '/',
        expose: [],
      });
      continue;
    }
    if (keyword === 'ARG' && stage === undefined) {
      for (const [name, value] of assignments(rest, line, 'ARG')) globalArgs[name] = buildArgs[name] ?? value;
      continue;
    }
    if (stage === undefined) throw new DockerfileError(`line ${line}: ${keyword} before the first FROM`);
    // Inside a stage, ARG and ENV values are what later lines may use.
    const vars = { ...stage.args, ...stage.env };
    switch (keyword) {
      case 'ARG':
        for (const [name, value] of assignments(rest, line, 'ARG')) stage.args[name] = buildArgs[name] ?? value ?? globalArgs[name];
        break;
      case 'ENV':
        for (const [name, value] of assignments(rest, line, 'ENV')) stage.env[name] = substitute(value ?? '', { ...stage.args, ...stage.env }, line);
        break;
      case 'WORKDIR': {
        const path = substitute(rest.trim(), vars, line);
        stage.workdir = path.startsWith('/') ? path : `${stage.workdir.replace(/\/$/, '')}/${path}`;
        stage.instructions.push({ kind: 'WORKDIR', path: stage.workdir, line });
        break;
      }
      case 'COPY': {
        const words = substitute(rest, vars, line).trim().split(/\s+/);
        let from: string | undefined;
        while (words[0]?.startsWith('--')) {
          const flag = words.shift() ?? '';
          const fromFlag = /^--from=(\S+)$/.exec(flag);
          if (!fromFlag) throw new DockerfileError(`line ${line}: image-check does not know COPY ${flag}`);
          from = fromFlag[1];
        }
        if (words.length < 2 || words[0]?.startsWith('[')) throw new DockerfileError(`line ${line}: COPY takes sources and a destination (not the JSON form)`);
        const destination = words.pop() ?? '';
        stage.instructions.push({ kind: 'COPY', ...(from === undefined ? {} : { from }), sources: words, destination, line });
        break;
      }
      case 'RUN':
        stage.instructions.push({ kind: 'RUN', command: rest.trim(), line });
        break;
      case 'USER':
        stage.user = substitute(rest.trim(), vars, line);
        break;
      case 'EXPOSE':
        stage.expose.push(...rest.trim().split(/\s+/));
        break;
      case 'ENTRYPOINT':
        stage.entrypoint = execForm(rest, line, 'ENTRYPOINT');
        break;
      case 'CMD':
        stage.cmd = execForm(rest, line, 'CMD');
        break;
      case 'HEALTHCHECK': {
        const health = /^((?:--[a-z-]+=\S+\s+)*)CMD\s+(.+)$/.exec(rest.trim());
        if (!health) throw new DockerfileError(`line ${line}: HEALTHCHECK must be [--option=value ...] CMD ["exec", "form"]`);
        const options: Record<string, string> = {};
        for (const option of (health[1] ?? '').trim().split(/\s+/).filter(Boolean)) {
          const [key = '', value = ''] = option.slice(2).split('=');
          options[key] = value;
        }
        stage.healthcheck = { options, command: execForm(health[2] ?? '', line, 'HEALTHCHECK CMD') };
        break;
      }
      case 'LABEL':
        break;
      default:
        throw new DockerfileError(`line ${line}: image-check does not know how to follow ${keyword}`);
    }
  }
  if (stages.length === 0) throw new DockerfileError('no FROM: not a Dockerfile');
  return { globalArgs, stages };
}

/** The stage `COPY --from=<ref>` names: by AS name, or by index. */
export function stageByRef(dockerfile: Dockerfile, ref: string): Stage {
  const stage = dockerfile.stages.find((s) => s.name === ref) ?? (/^\d+$/.test(ref) ? dockerfile.stages[Number(ref)] : undefined);
  if (!stage) throw new DockerfileError(`COPY --from=${ref}: no such stage`);
  return stage;
}

/** The runtime stage: the last one. */
export function runtimeStage(dockerfile: Dockerfile): Stage {
  const last = dockerfile.stages[dockerfile.stages.length - 1];
  if (!last) throw new DockerfileError('no stage');
  return last;
}

/** Docker's duration syntax in HEALTHCHECK options (`30s`, `1m30s`) in seconds. */
export function durationSeconds(text: string): number {
  const match = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(text);
  if (!match || text === '') throw new DockerfileError(`not a duration: ${text}`);
  const [, h = '0', m = '0', s = '0', ms = '0'] = match;
  return Number(h) * 3600 + Number(m) * 60 + Number(s) + Number(ms) / 1000;
}

/**
 * `.dockerignore` patterns (Go's filepath.Match per path segment, `**` any number of segments),
 * as a test on a context-relative path with `/` separators. Negations (`!`) are refused.
 */
export function dockerignoreMatcher(text: string): (path: string) => boolean {
  const patterns = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      if (line.startsWith('!')) throw new DockerfileError(`.dockerignore: image-check does not follow exceptions (${line})`);
      const clean = line.replace(/^\/+/, '').replace(/\/+$/, '');
      const source = clean
        .split('/')
        .map((segment) => (segment === '**' ? '(?:.*)' : segment.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')))
        .join('/')
        .replace(/\(\?:\.\*\)\//g, '(?:.*/)?');
      // A pattern that names a folder excludes everything under it.
      return new RegExp(`^${source}(?:/.*)?$`);
    });
  return (path) => patterns.some((pattern) => pattern.test(path));
}
