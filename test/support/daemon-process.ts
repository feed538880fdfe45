import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface LogEvent {
  level: string;
  event?: string;
  cycle?: string;
  trigger?: string;
  time?: string;
  durationMs?: number;
  outcome?: string;
  [key: string]: unknown;
}

/** `converge run` in a child process, its stdout parsed into JSON events. */
export class DaemonProcess {
  readonly events: LogEvent[] = [];
  readonly stdoutLines: string[] = [];
  stderr = '';
  url = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  private buffer = '';

  constructor(args: string[], env: Record<string, string>) {
    this.child = spawn(process.execPath, [join(ROOT, 'bin', 'converge.js'), 'run', ...args], {
      cwd: ROOT,
      env: { ...process.env, CONVERGE_LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.setEncoding('utf8');
    this.child.stdout?.on('data', (chunk: string) => {
      this.buffer += chunk;
      let newline = this.buffer.indexOf('\n');
      while (newline >= 0) {
        const line = this.buffer.slice(0, newline);
        this.buffer = this.buffer.slice(newline + 1);
        if (line.trim() !== '') {
          this.stdoutLines.push(line);
          this.events.push(JSON.parse(line) as LogEvent);
        }
        newline = this.buffer.indexOf('\n');
      }
    });
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  async started(): Promise<this> {
    const listening = await this.waitFor((e) => e.event === 'listening', 30_000, 'the listening event');
    this.url = String(listening.url);
    return this;
  }

  /** Index to pass as `from`: only events logged after this point count. */
  mark(): number {
    return this.events.length;
  }

  of(event: string, from = 0): LogEvent[] {
    return this.events.slice(from).filter((e) => e.event === event);
  }

  async waitFor(predicate: (e: LogEvent) => boolean, timeoutMs: number, what: string, from = 0): Promise<LogEvent> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.slice(from).find(predicate);
      if (found) return found;
      if (Date.now() > end || this.child.exitCode !== null) {
        throw new Error(`timed out waiting for ${what}; last events:\n${this.stdoutLines.slice(-8).join('\n')}\nstderr:\n${this.stderr.slice(-2000)}`);
      }
      await sleep(50);
    }
  }

  /** The next `cycle` event (after `from`) of any trigger, or of the given one. */
  nextCycle(from: number, timeoutMs: number, trigger?: string): Promise<LogEvent> {
    return this.waitFor((e) => e.event === 'cycle' && (trigger === undefined || e.trigger === trigger), timeoutMs, `a ${trigger ?? ''} cycle`, from);
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    await this.exited;
    clearTimeout(timer);
  }

  get(path: string): Promise<Response> {
    return fetch(`${this.url}${path}`);
  }

  post(path: string, token?: string): Promise<Response> {
    return fetch(`${this.url}${path}`, { method: 'POST', headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  }

  async status(): Promise<Status> {
    return (await (await this.get('/status')).json()) as Status;
  }

  async metrics(): Promise<Sample[]> {
    const response = await this.get('/metrics');
    expect(response.status).toBe(200);
    return parsePrometheusText(await response.text());
  }
}

export interface Status {
  ready: boolean;
  enforcedRevision: string | null;
  rejected: { revision: string; issues: { file: string; path: string; message: string }[] } | null;
  lastCycle: { cycle: string; outcome: string } | null;
  resources: { id: string; resource: string; kind: string; name: string; state: string; message?: string; drift: unknown[] }[];
  cycles: { cycle: string; trigger: string }[];
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Every line must be a comment (HELP/TYPE) or a sample: name, optional labels, a number. */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      if (!/^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$/.test(line)) throw new Error(`bad comment line: ${line}`);
      continue;
    }
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    const body = match[2] ?? '';
    const pairs = [...body.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g)];
    if (pairs.map((p) => p[0]).join('') !== body) throw new Error(`bad labels in: ${line}`);
    for (const pair of pairs) labels[pair[1] ?? ''] = pair[2] ?? '';
    const raw = match[3] ?? '';
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    if (Number.isNaN(value) && raw !== 'NaN') throw new Error(`bad value in: ${line}`);
    samples.push({ name: match[1] ?? '', labels, value });
  }
  return samples;
}
