import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { CycleSummary } from '../controller.js';
import { SchedulerStoppedError, type ScheduledCycle } from './scheduler.js';
import type { StatusDocument } from './status.js';
import { authorizeTrigger } from './token.js';

/** What the HTTP endpoints need from the daemon. */
export interface DaemonEndpoints {
  /** The token `POST /reconcile` requires; undefined: the endpoint answers 403. */
  readonly triggerToken: string | undefined;
  readonly log: Logger;
  /** Undefined while shutting down. */
  triggerManual(): ScheduledCycle | undefined;
  readiness(): { ready: boolean; reason?: string };
  status(): StatusDocument;
  metrics(): Promise<{ contentType: string; body: string }>;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function methodNotAllowed(res: ServerResponse, allowed: string): void {
  sendJson(res, 405, { error: `method not allowed; use ${allowed}` }, { allow: allowed });
}

const isRead = (method: string | undefined): boolean => method === 'GET' || method === 'HEAD';

/** `?wait=true` (or `1`): answer when the cycle ends. */
export function wantsWait(url: URL): boolean {
  const value = url.searchParams.get('wait');
  return value !== null && ['true', '1', 'yes'].includes(value.toLowerCase());
}

async function reconcile(api: DaemonEndpoints, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  if (req.method !== 'POST') return methodNotAllowed(res, 'POST');
  const authorization = authorizeTrigger(api.triggerToken, req.headers.authorization);
  if (authorization === 'disabled') {
    api.log.warn({ event: 'trigger-rejected', reason: 'no-token-configured', remote: req.socket.remoteAddress }, 'POST /reconcile refused: no trigger token is configured');
    return sendJson(res, 403, { error: 'the reconcile endpoint is disabled: no trigger token is configured (CONVERGE_TRIGGER_TOKEN or CONVERGE_TRIGGER_TOKEN_FILE)' });
  }
  if (authorization !== 'ok') {
    api.log.warn({ event: 'trigger-rejected', reason: authorization === 'missing' ? 'missing-token' : 'wrong-token', remote: req.socket.remoteAddress }, 'POST /reconcile refused: missing or wrong bearer token');
    return sendJson(res, 401, { error: 'a valid bearer token is required' }, { 'www-authenticate': 'Bearer realm="converge"' });
  }
  const scheduled = api.triggerManual();
  if (!scheduled) return sendJson(res, 503, { error: 'converge is shutting down' });
  api.log.info({ event: 'trigger', trigger: 'manual', cycle: scheduled.cycle, disposition: scheduled.disposition }, `manual trigger: cycle ${scheduled.cycle} (${scheduled.disposition})`);
  if (!wantsWait(url)) return sendJson(res, 202, { cycle: scheduled.cycle });
  let summary: CycleSummary;
  try {
    summary = await scheduled.done;
  } catch (error) {
    if (error instanceof SchedulerStoppedError) return sendJson(res, 503, { error: error.message, cycle: scheduled.cycle });
    throw error;
  }
  sendJson(res, 200, summary);
}

async function handle(api: DaemonEndpoints, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // The body of any request is ignored; read it so the connection can be reused.
  req.resume();
  const url = new URL(req.url ?? '/', 'http://converge.invalid');
  switch (url.pathname) {
    case '/reconcile':
      return reconcile(api, req, res, url);
    case '/healthz':
      if (!isRead(req.method)) return methodNotAllowed(res, 'GET');
      return sendJson(res, 200, { status: 'ok' });
    case '/readyz': {
      if (!isRead(req.method)) return methodNotAllowed(res, 'GET');
      const readiness = api.readiness();
      return sendJson(res, readiness.ready ? 200 : 503, readiness);
    }
    case '/status':
      if (!isRead(req.method)) return methodNotAllowed(res, 'GET');
      return sendJson(res, 200, api.status());
    case '/metrics': {
      if (!isRead(req.method)) return methodNotAllowed(res, 'GET');
      const { contentType, body } = await api.metrics();
      res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    default:
      return sendJson(res, 404, { error: `no such endpoint: ${url.pathname}`, endpoints: ['POST /reconcile', 'GET /healthz', 'GET /readyz', 'GET /status', 'GET /metrics'] });
  }
}

export function createDaemonServer(api: DaemonEndpoints): Server {
  const server = createServer((req, res) => {
    handle(api, req, res).catch((error: unknown) => {
      api.log.error({ event: 'error', err: { message: error instanceof Error ? error.message : String(error) }, path: req.url?.split('?')[0] }, 'HTTP handler failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.end();
    });
  });
  return server;
}

/** Stops accepting, lets answers in progress finish for `graceMs`, then cuts what is left. */
export function closeServer(server: Server, graceMs: number): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}
