/**
 * `converge --version`: the package version and, when known, the git revision it was built from.
 *
 * The revision comes from `CONVERGE_REVISION` (the image bakes it in from the Dockerfile's
 * `ARG CONVERGE_REVISION`), else, in a git checkout, from the files under `.git` (HEAD and the
 * ref it names, loose or packed). No `git` process is started, so a missing or misconfigured git,
 * or a repository owned by someone else, can only make the revision unknown, never fail.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_NAME = 'converge';

export interface VersionInfo {
  version: string;
  /** A commit id or a release name; undefined when unknown. */
  revision?: string;
  /** Where the revision came from. */
  revisionFrom?: 'env' | 'git';
}

const OBJECT_ID = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;
/** What `CONVERGE_REVISION` may hold: a commit id, a tag, a describe string. */
const REVISION_TEXT = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$/;

/** The folder of converge's package.json, from src/cli (tests) or dist/src/cli (built). */
export function packageRoot(start: string = dirname(fileURLToPath(import.meta.url))): string | undefined {
  let dir = start;
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown };
      if (manifest.name === PACKAGE_NAME) return dir;
    } catch {
      // no package.json here, or not JSON: keep looking
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The commit HEAD points to in the checkout at `root`, read from the files git keeps; undefined when unknown. */
export function gitRevision(root: string): string | undefined {
  try {
    let gitDir = join(root, '.git');
    if (statSync(gitDir).isFile()) {
      // A worktree or submodule: `.git` is a file naming the real git directory.
      const pointer = /^gitdir: (.+)$/m.exec(readText(gitDir) ?? '')?.[1]?.trim();
      if (!pointer) return undefined;
      gitDir = resolve(root, pointer);
    }
    const head = readText(join(gitDir, 'HEAD'))?.trim();
    if (!head) return undefined;
    if (OBJECT_ID.test(head)) return head; // detached HEAD
    const ref = /^ref: (refs\/\S+)$/.exec(head)?.[1];
    if (!ref || ref.split('/').some((part) => part === '..' || part === '.' || part === '')) return undefined;
    const commonPointer = readText(join(gitDir, 'commondir'))?.trim();
    const commonDir = commonPointer ? resolve(gitDir, commonPointer) : gitDir;
    for (const dir of new Set([gitDir, commonDir])) {
      const loose = readText(join(dir, ref))?.trim();
      if (loose && OBJECT_ID.test(loose)) return loose;
    }
    for (const line of (readText(join(commonDir, 'packed-refs')) ?? '').split('\n')) {
      const [id, name] = line.trim().split(' ');
      if (name === ref && id !== undefined && OBJECT_ID.test(id)) return id;
    }
    return undefined;
  } catch {
    return undefined;
  }
}

export function versionInfo(env: NodeJS.ProcessEnv = process.env, root: string | undefined = packageRoot()): VersionInfo {
  let version = 'unknown';
  if (root !== undefined) {
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: unknown };
    if (typeof manifest.version === 'string') version = manifest.version;
  }
  const fromEnv = env.CONVERGE_REVISION?.trim();
  if (fromEnv && REVISION_TEXT.test(fromEnv)) return { version, revision: fromEnv, revisionFrom: 'env' };
  const fromGit = root === undefined ? undefined : gitRevision(root);
  return fromGit === undefined ? { version } : { version, revision: fromGit, revisionFrom: 'git' };
}

/** `converge 0.1.0 (revision 31f88e1a2b3c, node v22.12.0)`; a commit id is shortened to 12 characters. */
export function versionText(info: VersionInfo = versionInfo(), nodeVersion: string = process.version): string {
  const revision = info.revision === undefined ? 'revision unknown' : `revision ${OBJECT_ID.test(info.revision) ? info.revision.slice(0, 12) : info.revision}`;
  return `${PACKAGE_NAME} ${info.version} (${revision}, node ${nodeVersion})`;
}
