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
  /** How long refused triggers are counted before one `trigger-rejected` line reports them; default one minute. */
  readonly rejectionLogWindowMs?: number;
}

export type RejectionReason = 'missing-token' | 'wrong-token' | 'no-token-configured';

/**
 * Refused `POST /reconcile` requests, logged as counts: the first one of a quiet period at once,
 * then at most one `trigger-rejected` line per window with how many were refused since, so that
 * a client hammering the endpoint cannot flood the log.
 */
export class RejectedTriggerLog {
  private counts = new Map<RejectionReason, number>();
  private remotes = new Set<string>();
  private windowTimer?: NodeJS.Timeout;
  private windowStartedAt = 0;

  constructor(
    private readonly log: Logger,
    private readonly windowMs = 60_000,
  ) {}

  record(reason: RejectionReason, remote: string | undefined): void {
    if (this.windowTimer === undefined) {
      this.emit(new Map([[reason, 1]]), remote === undefined ? [] : [remote], Date.now());
      this.openWindow();
      return;
    }
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
    if (remote !== undefined && this.remotes.size < MAX_REMOTES) this.remotes.add(remote);
  }

  /** Reports what is counted and not yet logged (the server closes). */
  close(): void {
    clearTimeout(this.windowTimer);
    this.windowTimer = undefined;
    this.flush();
  }

  private openWindow(): void {
    this.windowStartedAt = Date.now();
    this.windowTimer = setTimeout(() => {
      this.windowTimer = undefined;
      // Another window only while refusals go on; a quiet window ends the run.
      if (this.flush()) this.openWindow();
    }, this.windowMs);
    this.windowTimer.unref();
  }

  private flush(): boolean {
    if (this.counts.size === 0) return false;
    this.emit(this.counts, [...this.remotes], this.windowStartedAt);
    this.counts = new Map();
    this.remotes = new Set();
    return true;
  }

  private emit(counts: ReadonlyMap<RejectionReason, number>, remotes: string[], since: number): void {
    const reasons = Object.fromEntries([...counts].sort(([a], [b]) => a.localeCompare(b)));
    const count = [...counts.values()].reduce((n, c) => n + c, 0);
    const disabled = counts.has('no-token-configured');
    this.log.warn(
      { event: 'trigger-rejected', count, reasons, remotes, since: new Date(since).toISOString() },
      `POST /reconcile refused ${count} time(s)${disabled ? ' (no trigger token is configured)' : ': missing or wrong bearer token'}; refusals are logged at most once per ${Math.round(this.windowMs / 1000)} s`,
    );
  }
}

/** Distinct client addresses a `trigger-rejected` line names at most. */
const MAX_REMOTES = 10;

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

async function reconcile(api: DaemonEndpoints, rejections: RejectedTriggerLog, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  if (req.method !== 'POST') return methodNotAllowed(res, 'POST');
  const authorization = authorizeTrigger(api.triggerToken, req.headers.authorization);
  if (authorization === 'disabled') {
    rejections.record('no-token-configured', req.socket.remoteAddress);
    return sendJson(res, 403, { error: 'the reconcile endpoint is disabled: no trigger token is configured (CONVERGE_TRIGGER_TOKEN or CONVERGE_TRIGGER_TOKEN_FILE)' });
  }
  if (authorization !== 'ok') {
    rejections.record(authorization === 'missing' ? 'missing-token' : 'wrong-token', req.socket.remoteAddress);
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

const ENDPOINTS = ['/reconcile', '/healthz', '/readyz', '/status', '/metrics'] as const;
type Endpoint = (typeof ENDPOINTS)[number];

/**
 * The request target as a URL, or undefined when it is malformed. An origin-form target
 * (`/path?query`) is taken as a path even when it starts with `//`; an absolute-form one
 * (`http://host/path`) as what it says.
 */
export function parseTarget(target: string | undefined): URL | undefined {
  if (target === undefined) return undefined;
  try {
    if (target.startsWith('/')) return new URL(`http://converge.invalid${target}`);
    if (/^https?:\/\//i.test(target)) return new URL(target);
  } catch {
    return undefined;
  }
  return undefined;
}

/** Which endpoint a request reached, for logs: never the target itself, which the client wrote. */
function endpointOf(url: URL | undefined): Endpoint | 'other' {
  return ENDPOINTS.find((endpoint) => endpoint === url?.pathname) ?? 'other';
}

async function handle(api: DaemonEndpoints, rejections: RejectedTriggerLog, req: IncomingMessage, res: ServerResponse, url: URL | undefined): Promise<void> {
  // The body of any request is ignored; read it so the connection can be reused.
  req.resume();
  if (!url) return sendJson(res, 400, { error: 'malformed request target' });
  switch (url.pathname) {
    case '/reconcile':
      return reconcile(api, rejections, req, res, url);
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
      return sendJson(res, 404, { error: 'no such endpoint', endpoints: ['POST /reconcile', 'GET /healthz', 'GET /readyz', 'GET /status', 'GET /metrics'] });
  }
}

export function createDaemonServer(api: DaemonEndpoints): Server {
  const rejections = new RejectedTriggerLog(api.log, api.rejectionLogWindowMs);
  const server = createServer((req, res) => {
    const url = parseTarget(req.url);
    handle(api, rejections, req, res, url).catch((error: unknown) => {
      api.log.error({ event: 'error', endpoint: endpointOf(url), err: { message: error instanceof Error ? error.message : String(error) } }, 'HTTP handler failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.end();
    });
  });
  server.on('close', () => rejections.close());
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
