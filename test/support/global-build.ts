import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SOURCE_DIRS = ['src', 'reconcilers', 'desired-state', 'scripts', 'bench'];
const BUILT = join(ROOT, 'dist', 'src', 'cli', 'main.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Vitest global setup: end-to-end tests run converge from dist/, as users do. Build it once
 * for the whole run, and only when a source file is newer than the build (`npm ci` builds it).
 */
export default async function buildOnce(): Promise<void> {
  const stale = !existsSync(BUILT) || SOURCE_DIRS.some((dir) => existsSync(join(ROOT, dir)) && newestSource(join(ROOT, dir)) > statSync(BUILT).mtimeMs);
  if (!stale) return;
  const result = await promisify(execFile)('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, timeout: 300_000 }).catch((error: { stdout?: string }) => error);
  if (!existsSync(BUILT)) throw new Error(`the build produced no CLI:\n${result.stdout ?? ''}`);
}
