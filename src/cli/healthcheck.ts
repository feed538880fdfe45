/**
 * The container health check: `node /app/dist/src/cli/healthcheck.js` exits 0 when the daemon in
 * the same container answers `GET /healthz` with 200, 1 otherwise. It needs no curl or wget in the
 * image and loads nothing but this file and the listen-address parser (the CLI would load the AWS
 * SDK, over a second of CPU on a small task, every interval).
 *
 * It asks the address `converge run` listens on: `CONVERGE_LISTEN` (default `0.0.0.0:8080`), with
 * a wildcard host asked on loopback. `CONVERGE_HEALTHCHECK_TIMEOUT_MS` bounds the request (default
 * 3000, below the image's and the task definition's 5 s health check timeout).
 */
import { realpathSync } from 'node:fs';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseListenAddress } from '../daemon/listen.js';

export interface HealthcheckResult {
  healthy: boolean;
  url: string;
  detail: string;
}

/** The URL of `/healthz` for a `CONVERGE_LISTEN` value. */
export function healthzUrl(listen: string | undefined): string {
  const address = parseListenAddress(listen === undefined || listen.trim() === '' ? '0.0.0.0:8080' : listen);
  if (address.port === 0) throw new Error('CONVERGE_LISTEN names port 0 (any free port): the health check cannot know which port the daemon took');
  const host = address.host === undefined || address.host === '0.0.0.0' ? '127.0.0.1' : address.host === '::' ? '::1' : address.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}/healthz`;
}

export function healthcheck(env: NodeJS.ProcessEnv = process.env): Promise<HealthcheckResult> {
  let url: string;
  try {
    url = healthzUrl(env.CONVERGE_LISTEN);
  } catch (error) {
    return Promise.resolve({ healthy: false, url: '', detail: (error as Error).message });
  }
  const parsedTimeout = Number(env.CONVERGE_HEALTHCHECK_TIMEOUT_MS ?? '3000');
  const timeoutMs = Number.isFinite(parsedTimeout) && parsedTimeout > 0 ? Math.min(parsedTimeout, 60_000) : 3000;
  return new Promise((resolve) => {
    const req = request(url, { method: 'GET', timeout: timeoutMs, agent: false }, (response) => {
      response.resume();
      const status = response.statusCode ?? 0;
      resolve({ healthy: status === 200, url, detail: `answered ${status}` });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error) => resolve({ healthy: false, url, detail: error.message }));
    req.end();
  });
}

function isMainModule(): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

/** Run as a script (the HEALTHCHECK): one line on stderr when unhealthy, the exit code says the rest. */
if (isMainModule()) {
  const result = await healthcheck();
  if (!result.healthy) process.stderr.write(`converge healthcheck: ${result.url || 'CONVERGE_LISTEN'}: ${result.detail}\n`);
  process.exitCode = result.healthy ? 0 : 1;
}
