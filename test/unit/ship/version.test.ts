import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { gitRevision, packageRoot, versionInfo, versionText } from '../../../src/cli/version.js';

const work = mkdtempSync(join(tmpdir(), 'converge-version-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const A = 'a'.repeat(40);
const B = '0123456789abcdef0123456789abcdef01234567';
let counter = 0;

/** A folder with a package.json named converge and, optionally, files under it. */
function checkout(files: Record<string, string>): string {
  counter += 1;
  const root = join(work, `checkout-${counter}`);
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'converge', version: '9.8.7' }));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

describe('the git revision, read from the files under .git', () => {
  it('follows HEAD to a loose branch ref', () => {
    expect(gitRevision(checkout({ '.git/HEAD': 'ref: refs/heads/main\n', '.git/refs/heads/main': `${A}\n` }))).toBe(A);
  });

  it('finds a ref only in packed-refs', () => {
    const root = checkout({ '.git/HEAD': 'ref: refs/heads/main\n', '.git/packed-refs': `# pack-refs with: peeled fully-peeled sorted\n${B} refs/heads/main\n${A} refs/tags/v1\n` });
    expect(gitRevision(root)).toBe(B);
  });

  it('reads a detached HEAD', () => {
    expect(gitRevision(checkout({ '.git/HEAD': `${B}\n` }))).toBe(B);
  });

  it('follows a worktree: .git is a file naming the git directory, refs live in its common directory', () => {
    const root = checkout({
      'main-repo/.git/worktrees/wt/HEAD': 'ref: refs/heads/feature\n',
      'main-repo/.git/worktrees/wt/commondir': '../..\n',
      'main-repo/.git/refs/heads/feature': `${A}\n`,
    });
    writeFileSync(join(root, '.git'), `gitdir: ${join(root, 'main-repo', '.git', 'worktrees', 'wt')}\n`);
    expect(gitRevision(root)).toBe(A);
  });

  it('is undefined, never an error, without .git, with an unborn branch, or with a ref that climbs out', () => {
    expect(gitRevision(checkout({}))).toBeUndefined();
    expect(gitRevision(checkout({ '.git/HEAD': 'ref: refs/heads/main\n' }))).toBeUndefined();
    expect(gitRevision(checkout({ '.git/HEAD': 'ref: refs/../../etc/passwd\n' }))).toBeUndefined();
    expect(gitRevision(checkout({ '.git/HEAD': 'garbage' }))).toBeUndefined();
    expect(gitRevision(join(work, 'does-not-exist'))).toBeUndefined();
  });
});

describe('versionInfo and versionText', () => {
  it('prefers CONVERGE_REVISION (baked into the image) over the checkout', () => {
    const root = checkout({ '.git/HEAD': `${A}\n` });
    expect(versionInfo({ CONVERGE_REVISION: B }, root)).toEqual({ version: '9.8.7', revision: B, revisionFrom: 'env' });
    expect(versionInfo({}, root)).toEqual({ version: '9.8.7', revision: A, revisionFrom: 'git' });
    // Empty (the Dockerfile's default) or not a revision: ignored.
    expect(versionInfo({ CONVERGE_REVISION: '' }, root).revisionFrom).toBe('git');
    expect(versionInfo({ CONVERGE_REVISION: '$(rm -rf /)' }, root).revisionFrom).toBe('git');
  });

  it('says when the revision is unknown', () => {
    expect(versionInfo({}, checkout({}))).toEqual({ version: '9.8.7' });
    expect(versionText({ version: '9.8.7' }, 'v22.12.0')).toBe('converge 9.8.7 (revision unknown, node v22.12.0)');
  });

  it('shortens a commit id to 12 characters and keeps a release name', () => {
    expect(versionText({ version: '1.0.0', revision: B }, 'v22.1.0')).toBe('converge 1.0.0 (revision 0123456789ab, node v22.1.0)');
    expect(versionText({ version: '1.0.0', revision: 'v1.0.0-rc.1' }, 'v22.1.0')).toBe('converge 1.0.0 (revision v1.0.0-rc.1, node v22.1.0)');
  });

  it('finds converge\'s own package.json from the source tree', () => {
    const root = packageRoot();
    expect(root).toBeDefined();
    expect(versionInfo({}, root).version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('`converge --version` prints it on stdout and exits 0', async () => {
    let stdout = '';
    const code = await main(['--version'], { stdout: (text) => (stdout += text), stderr: () => undefined });
    expect(code).toBe(0);
    expect(stdout).toMatch(/^converge \d+\.\d+\.\d+\S* \(revision [^,]+, node v\d+\.\d+\.\d+\)\n$/);
  });
});
