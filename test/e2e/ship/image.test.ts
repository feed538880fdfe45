/**
 * The image without a Docker engine: scripts/image-check.ts as `npm run image:check` runs it, with
 * the build stage's output taken from the checkout (the global setup built dist/; the full check,
 * which also reruns `npm ci` and `tsc` for the build stage, is `npm run image:check`). The runtime
 * stage is assembled from the Dockerfile's own COPY lines, production dependencies come from
 * `npm ci --omit=dev`, and the image's ENTRYPOINT, CMD and HEALTHCHECK run as a non-root user.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { ImageCheckReport } from '../../../scripts/image-check.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'converge-image-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the runtime image, assembled from the Dockerfile and run as it runs', () => {
  it('prints its version, validates the example, serves /healthz, passes its HEALTHCHECK and stops cleanly on SIGTERM', async () => {
    const reportFile = join(work, 'report.json');
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [join(ROOT, 'dist', 'scripts', 'image-check.js'), '--reuse-build', '--report', reportFile], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
      let text = '';
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => (text += chunk));
      child.on('error', reject);
      child.on('close', (exit) => resolve({ code: exit, stderr: text }));
    });
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as ImageCheckReport;
    const lines = stderr.split('\n').filter((line) => /^(ok|FAIL|image-check)/.test(line));
    expect(code, stderr).toBe(0);
    expect(report.ok, report.error).toBe(true);
    expect(report.steps.map((s) => [s.name, s.ok])).toEqual([
      ['assemble the runtime stage', true],
      ['production dependencies only', true],
      ['--version', true],
      ['validate the example', true],
      ['start the emulator and seed the example', true],
      ['the daemon listens and answers /healthz', true],
      ['HEALTHCHECK passes while it runs', true],
      ['the startup cycle ends without errors; /readyz 200', true],
      ['SIGTERM: exit 0, then the HEALTHCHECK fails', true],
    ]);
    expect(report.runAs.uid).not.toBe(0);
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(report.steps.find((s) => s.name === '--version')?.detail).toContain(`converge ${manifest.version} (revision `);
    // The AWS SDK clients are most of it; a devDependency (typescript alone is 20 MB) would show.
    expect(report.imageBytes).toBeLessThan(120e6);
    console.info(`[image] ${lines.join('\n[image] ')}`);
  }, 150_000);
});
