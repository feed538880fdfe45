/**
 * The git provenance of a folder `converge publish` publishes: the commit checked out in the work
 * tree that holds it, its author and subject, and whether the folder has changes git has not
 * committed. git runs through execFile (no shell), in the folder. No git, or a folder outside a
 * work tree, means no provenance: not an error.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { PROVENANCE_LIMITS, type Provenance } from './manifest.js';

export type GitRunner = (args: string[], cwd: string) => Promise<string>;

const execFileAsync = promisify(execFile);

const runGit: GitRunner = async (args, cwd) =>
  (await execFileAsync('git', args, { cwd, timeout: 15_000, maxBuffer: 4 * 1024 * 1024, encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' } })).stdout;

const bound = (text: string, max: number): string => {
  const clean = Array.from(text, (c) => (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f ? ' ' : c))
    .join('')
    .replace(/ {2,}/g, ' ')
    .trim();
  return clean.length <= max ? clean : `${clean.slice(0, max - 1)}…`;
};

/**
 * The provenance of `folder`, or why there is none (`reason`: git missing, not a work tree, no commit
 * yet, or git refusing the repository, e.g. its owner differs and `safe.directory` does not list it).
 */
export async function gitProvenance(folder: string, git: GitRunner = runGit): Promise<{ provenance?: Provenance; reason?: string }> {
  try {
    const inside = (await git(['rev-parse', '--is-inside-work-tree'], folder)).trim();
    if (inside !== 'true') return { reason: `${folder} is not inside a git work tree` };
  } catch (error) {
    return { reason: describeGitFailure(error, folder) };
  }
  let head: string;
  try {
    head = await git(['log', '-1', '--no-show-signature', '--format=%H%x00%an <%ae>%x00%s'], folder);
  } catch (error) {
    return { reason: `git log in ${folder}: ${describeGitFailure(error, folder)}` };
  }
  const [commit = '', author = '', subject = ''] = head.replace(/\n$/, '').split('\u0000');
  if (!/^[0-9a-f]{40,64}$/.test(commit)) return { reason: `git log in ${folder} named no commit` };
  // Only the published folder counts: a changed file elsewhere in the repository does not make it dirty.
  const dirty = await git(['status', '--porcelain', '--untracked-files=normal', '--', '.'], folder).then(
    (status) => status.trim() !== '',
    () => undefined,
  );
  return {
    provenance: {
      commit,
      subject: bound(subject, PROVENANCE_LIMITS.subject),
      author: bound(author, PROVENANCE_LIMITS.author),
      ...(dirty !== undefined ? { dirty } : {}),
      from: 'git',
    },
  };
}

function describeGitFailure(error: unknown, folder: string): string {
  const failure = error as { code?: unknown; stderr?: unknown; message?: unknown };
  if (failure.code === 'ENOENT') return 'git is not installed (no git on PATH)';
  const stderr = typeof failure.stderr === 'string' ? failure.stderr : '';
  if (/not a git repository/i.test(stderr)) return `${folder} is not inside a git work tree`;
  const first = (stderr.split('\n').find((line) => line.trim() !== '') ?? (typeof failure.message === 'string' ? failure.message : 'git failed')).trim();
  return bound(first, 300);
}

/** git's provenance with `--revision` and `--message` over it, field by field. */
export function mergeProvenance(git: Provenance | undefined, flags: { revision?: string; message?: string }): Provenance | null {
  const revision = flags.revision !== undefined && flags.revision !== '' ? bound(flags.revision, PROVENANCE_LIMITS.commit) : undefined;
  const message = flags.message !== undefined && flags.message !== '' ? bound(flags.message, PROVENANCE_LIMITS.subject) : undefined;
  if (!git && revision === undefined && message === undefined) return null;
  if (!git) return { ...(revision !== undefined ? { commit: revision } : {}), ...(message !== undefined ? { subject: message } : {}), from: 'flags' };
  if (revision === undefined && message === undefined) return git;
  return { ...git, ...(revision !== undefined ? { commit: revision } : {}), ...(message !== undefined ? { subject: message } : {}), from: 'git+flags' };
}
