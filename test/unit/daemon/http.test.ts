import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { closeServer, createDaemonServer, parseTarget, RejectedTriggerLog, type DaemonEndpoints } from '../../../src/daemon/http.js';
import type { StatusDocument } from '../../../src/daemon/status.js';
import { captureLogs } from '../../support/log-capture.js';

const TOKEN = 'http-unit-token-0c55a1';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => closeServer(server, 100)));
});

async function serve(over: Partial<DaemonEndpoints> = {}) {
  const logs = captureLogs();
  const api: DaemonEndpoints = {
    triggerToken: TOKEN,
    log: logs.log,
    triggerManual: () => ({ cycle: 'c0ffee00', disposition: 'running', done: new Promise(() => undefined) }),
    readiness: () => ({ ready: true }),
    status: () => ({ status: 'running' }) as StatusDocument,
    metrics: () => Promise.resolve({ contentType: 'text/plain', body: '' }),
    ...over,
  };
  const server = createDaemonServer(api);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, port, logs, url: `http://127.0.0.1:${port}` };
}

/** Sends a request line as written (fetch would normalise the target) and returns the status code. */
function rawRequest(port: number, requestLine: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(`${requestLine}\r\nHost: converge\r\nConnection: close\r\n\r\n`));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)));
    socket.on('error', reject);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('request targets', () => {
  it.each(['http://[bad/status', 'http://x:70000/healthz', 'http://user:pw@[::1', '*', 'status', 'ftp://x/healthz'])('answers 400 to the malformed target %s and logs nothing of it', async (target) => {
    const { port, logs } = await serve();
    expect(await rawRequest(port, `GET ${target} HTTP/1.1`)).toBe(400);
    expect(logs.events).toEqual([]);
  });

  it.each(['//a:b@evil', '//[', '//:99999/x'])('takes %s, an origin-form target starting with //, as a path: 404, nothing logged', async (target) => {
    const { port, logs } = await serve();
    expect(await rawRequest(port, `GET ${target} HTTP/1.1`)).toBe(404);
    expect(logs.events).toEqual([]);
  });

  it('takes an absolute-form target as what it says', async () => {
    const { port, logs } = await serve();
    expect(await rawRequest(port, 'GET //healthz HTTP/1.1')).toBe(404);
    expect(await rawRequest(port, 'GET http://converge/healthz HTTP/1.1')).toBe(200);
    expect(await rawRequest(port, 'GET /healthz?x=%zz HTTP/1.1')).toBe(200);
    expect(logs.events).toEqual([]);
  });

  it('parses targets without throwing', () => {
    expect(parseTarget('/status?wait=1')?.pathname).toBe('/status');
    expect(parseTarget('//status')?.pathname).toBe('//status');
    expect(parseTarget('*')).toBeUndefined();
    expect(parseTarget('//a:b')?.pathname).toBe('//a:b');
    expect(parseTarget('http://[')).toBeUndefined();
    expect(parseTarget(undefined)).toBeUndefined();
  });

  it('logs a failing handler by endpoint, never by the raw target', async () => {
    const { url, logs } = await serve({ metrics: () => Promise.reject(new Error('registry broke')) });
    const answer = await fetch(`${url}/metrics?<script>=1`);
    expect(answer.status).toBe(500);
    expect(logs.ofEvent('error')).toEqual([expect.objectContaining({ endpoint: '/metrics', msg: 'HTTP handler failed' })]);
    expect(JSON.stringify(logs.events)).not.toContain('script');
  });
});

describe('refused triggers', () => {
  const post = (url: string, token?: string): Promise<Response> =>
    fetch(`${url}/reconcile`, { method: 'POST', headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });

  it('are logged as a count: the first at once, then one line per window while they go on', async () => {
    const { url, logs } = await serve({ rejectionLogWindowMs: 300 });
    expect((await post(url)).status).toBe(401);
    expect(logs.ofEvent('trigger-rejected')).toEqual([expect.objectContaining({ level: 'warn', count: 1, reasons: { 'missing-token': 1 }, remotes: ['127.0.0.1'] })]);
    const started = Date.now();
    for (let i = 0; i < 20; i += 1) expect((await post(url, `guess-${i}`)).status).toBe(401);
    expect((await post(url)).status).toBe(401);
    const postingMs = Date.now() - started;
    const counted = (): number => logs.ofEvent('trigger-rejected').slice(1).reduce((n, l) => n + Number(l.count), 0);
    for (let waited = 0; counted() < 21 && waited < 3_000; waited += 50) await sleep(50);
    // One line per window while refusals go on (a loaded machine may spread the 21 over more than one window).
    const lines = logs.ofEvent('trigger-rejected').slice(1);
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines.length).toBeLessThanOrEqual(Math.ceil(postingMs / 300) + 1);
    expect(lines.reduce((n, l) => n + Number(l.count), 0)).toBe(21);
    if (lines.length === 1) expect(lines[0]).toMatchObject({ count: 21, reasons: { 'missing-token': 1, 'wrong-token': 20 }, remotes: ['127.0.0.1'] });
    // A quiet window ends the run: nothing more is logged, and the next refusal is logged at once again.
    await sleep(700);
    const settled = logs.ofEvent('trigger-rejected').length;
    expect(settled).toBe(lines.length + 1);
    expect((await post(url, 'again')).status).toBe(401);
    expect(logs.ofEvent('trigger-rejected')).toHaveLength(settled + 1);
    expect(JSON.stringify(logs.events)).not.toContain('guess-');
  });

  it('are counted when no token is configured (403) and flushed when the server closes', async () => {
    const { url, logs, server } = await serve({ triggerToken: undefined });
    for (let i = 0; i < 5; i += 1) expect((await post(url, 'anything')).status).toBe(403);
    expect(logs.ofEvent('trigger-rejected')).toHaveLength(1);
    await closeServer(server, 100);
    expect(logs.ofEvent('trigger-rejected').map((e) => e.count)).toEqual([1, 4]);
    expect(logs.ofEvent('trigger-rejected')[1]).toMatchObject({ reasons: { 'no-token-configured': 4 } });
  });

  it('a valid token is not a refusal', async () => {
    const { url, logs } = await serve();
    expect((await post(url, TOKEN)).status).toBe(202);
    expect(logs.ofEvent('trigger-rejected')).toEqual([]);
  });
});

describe('RejectedTriggerLog', () => {
  it('names at most ten client addresses per line', () => {
    const logs = captureLogs();
    const rejections = new RejectedTriggerLog(logs.log, 60_000);
    for (let i = 0; i < 30; i += 1) rejections.record('wrong-token', `10.0.0.${i}`);
    rejections.close();
    const [first, second] = logs.ofEvent('trigger-rejected');
    expect(first).toMatchObject({ count: 1, remotes: ['10.0.0.0'] });
    expect(second).toMatchObject({ count: 29 });
    expect(second?.remotes).toHaveLength(10);
  });
});
