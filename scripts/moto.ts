/**
 * Starts converge's AWS emulator (moto plus converge's extensions, see test/emulator/README.md)
 * as a child process on 127.0.0.1. Used by the demo and by the tests.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface MotoServer {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  port: number;
  /** `POST /moto-api/reset`: empties every service and the emulator's own state. */
  reset(): Promise<void>;
  /** Stops the emulator (SIGTERM, then SIGKILL after 5 s). Safe to call twice. */
  stop(): Promise<void>;
  /** AWS_ENDPOINT_URL, AWS_REGION=us-east-1, AWS_ACCESS_KEY_ID=test, AWS_SECRET_ACCESS_KEY=test. */
  awsEnv: Record<string, string>;
  /** How many reads a CodeDeploy deployment takes to finish; 0 finishes it inside CreateDeployment. */
  setDeploySteps(steps: number): Promise<void>;
  /** The next deployment created in this deployment group ends Failed with this error. */
  failNextDeployment(group: string, options?: { application?: string; code?: string; message?: string }): Promise<void>;
  /** Drives every active CodeDeploy deployment to its end now; returns their ids. */
  settleDeployments(): Promise<string[]>;
}

export interface StartMotoOptions {
  /** Port to listen on; default: a free port of 127.0.0.1. */
  port?: number;
  /** Extra environment for the emulator, e.g. `{ CONVERGE_EMULATOR_DEPLOY_STEPS: '0' }`. */
  env?: Record<string, string>;
  /** Receives every line the emulator prints (request log, errors). */
  log?: (line: string) => void;
  /** How long to wait for the emulator to answer; default 30 s. */
  timeoutMs?: number;
}

export const INSTALL_HINT = 'pip install "moto[server]"';
const READY_PATTERN = /CONVERGE_EMULATOR_READY port=(\d+)/;
const REGION = 'us-east-1';

/** The repository root: the nearest folder above this file with a package.json (works from scripts/ and dist/scripts/). */
export function findRepoRoot(start: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'test', 'emulator', 'server.py'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(`converge emulator: cannot find the repository root (package.json and test/emulator/server.py) above ${start}`);
    }
    dir = parent;
  }
}

function pythonExecutable(): string {
  return process.env.CONVERGE_EMULATOR_PYTHON ?? 'python3';
}

const pythonsChecked = new Set<string>();

/** Fails with install instructions when python3 or moto's server dependencies are missing. */
export function checkPythonMoto(python: string = pythonExecutable()): void {
  if (pythonsChecked.has(python)) return;
  const probe = spawnSync(python, ['-c', 'import moto, flask, flask_cors, werkzeug, yaml; print(moto.__version__)'], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (probe.error) {
    const reason = (probe.error as NodeJS.ErrnoException).code === 'ENOENT' ? `${python} was not found on PATH` : probe.error.message;
    throw new Error(
      `converge emulator: ${reason}. The emulator needs Python 3 with moto's server: install Python 3, then run ${INSTALL_HINT}` +
        ' (set CONVERGE_EMULATOR_PYTHON to use another interpreter).',
    );
  }
  if (probe.status !== 0) {
    const detail = (probe.stderr || probe.stdout).trim().split('\n').pop() ?? '';
    throw new Error(`converge emulator: ${python} cannot import moto's server (${detail}). Install it with: ${INSTALL_HINT}`);
  }
  pythonsChecked.add(python);
}

/** A free TCP port of 127.0.0.1 (bind port 0, read it, release it). */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('could not pick a free port'))));
    });
  });
}

// Every emulator still running is killed when this process exits, however it exits.
const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

async function post(url: string, body?: unknown): Promise<unknown> {
  const response = await fetch(url, {
    method: 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`converge emulator: POST ${url} answered ${response.status}: ${text}`);
  return text ? (JSON.parse(text) as unknown) : undefined;
}

interface Launch {
  child: ChildProcess;
  port: number;
}

function launch(python: string, script: string, port: number, options: StartMotoOptions): Promise<Launch> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const child = spawn(python, [script, '--host', '127.0.0.1', '--port', String(port), '--parent-pid', String(process.pid)], {
    env: { ...process.env, PYTHONUNBUFFERED: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));

  const recent: string[] = [];
  const onLine = (line: string): void => {
    recent.push(line);
    if (recent.length > 30) recent.shift();
    options.log?.(line);
  };
  const lineReader = (stream: NodeJS.ReadableStream | null): void => {
    if (!stream) return;
    let buffer = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffer += chunk;
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        onLine(buffer.slice(0, newline).replace(/\r$/, ''));
        buffer = buffer.slice(newline + 1);
        newline = buffer.indexOf('\n');
      }
    });
  };
  lineReader(child.stdout);
  lineReader(child.stderr);

  return new Promise<Launch>((resolve, reject) => {
    let settled = false;
    const finish = (error: Error | undefined, actualPort?: number): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.stdout?.off('data', watchReady);
      child.off('exit', onExit);
      child.off('error', onError);
      if (error) {
        child.kill('SIGKILL');
        reject(error);
      } else {
        resolve({ child, port: actualPort ?? port });
      }
    };
    const watchReady = (chunk: string | Buffer): void => {
      const match = READY_PATTERN.exec(String(chunk));
      if (match) finish(undefined, Number(match[1]));
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      finish(new Error(`converge emulator exited before it was ready (code ${code}, signal ${signal}):\n${recent.join('\n')}`));
    };
    const onError = (error: Error): void => finish(new Error(`converge emulator could not start: ${error.message}`));
    const timer = setTimeout(
      () => finish(new Error(`converge emulator did not answer within ${timeoutMs} ms:\n${recent.join('\n')}`)),
      timeoutMs,
    );
    child.stdout?.on('data', watchReady);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Starts an emulator and resolves once it answers. Throws (never skips) when Python or moto is missing. */
export async function startMoto(options: StartMotoOptions = {}): Promise<MotoServer> {
  const python = pythonExecutable();
  checkPythonMoto(python);
  const script = join(findRepoRoot(), 'test', 'emulator', 'server.py');
  installExitHook();

  let launched: Launch | undefined;
  let lastError: Error | undefined;
  // A port picked by findFreePort can be taken by someone else before the emulator binds it.
  for (let attempt = 0; attempt < 3 && !launched; attempt += 1) {
    const port = options.port ?? (await findFreePort());
    try {
      launched = await launch(python, script, port, options);
    } catch (error) {
      lastError = error as Error;
      if (options.port !== undefined || !/Address already in use|EADDRINUSE/i.test(lastError.message)) throw lastError;
    }
  }
  if (!launched) throw lastError ?? new Error('converge emulator could not start');

  const { child, port } = launched;
  const endpoint = `http://127.0.0.1:${port}`;
  const control = `${endpoint}/converge-emulator`;
  return {
    endpoint,
    port,
    awsEnv: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    },
    async reset() {
      await post(`${endpoint}/moto-api/reset`);
    },
    async stop() {
      await stopChild(child);
    },
    async setDeploySteps(steps: number) {
      await post(`${control}/config`, { deploySteps: steps });
    },
    async failNextDeployment(group, failure = {}) {
      await post(`${control}/codedeploy/fail-next`, { group, ...failure });
    },
    async settleDeployments() {
      const answer = (await post(`${control}/codedeploy/settle`)) as { settled?: string[] } | undefined;
      return answer?.settled ?? [];
    },
  };
}
