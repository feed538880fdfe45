/**
 * A fault-injecting HTTP proxy between converge and the AWS emulator, for the fault suite
 * (test/e2e/faults/). converge is pointed at it with AWS_ENDPOINT_URL; the proxy forwards every
 * request to moto and, by rule, answers some of them itself the way AWS does when it is unwell:
 *
 *   const proxy = await startFaultProxy({ target: moto.endpoint, seed: 7 });
 *   proxy.setRules([{ faults: ['throttle', 'unavailable'], probability: 0.3 }]);
 *   await runCli(['apply', ...], { ...moto.env, AWS_ENDPOINT_URL: proxy.endpoint });
 *   proxy.counts;          // faults injected, per kind
 *   proxy.writes;          // every write that reached moto: service, operation, path, body
 *
 * Each request is identified (service from the SigV4 credential scope; operation from
 * `X-Amz-Target` for the JSON protocols of ECS, CodeDeploy, CloudWatch Logs and ACM, from
 * `Action=` in the form body for the query protocols of EC2 and ELBv2, from method and path for
 * the REST protocols of S3 and Route 53) and classified as a read or a write with converge's own
 * rule (src/aws/call-counter.ts).
 *
 * Faults, and where they sit relative to moto:
 * - `throttle`: AWS's throttling error in the service's wire format; `unavailable`: a bare 503.
 *   Always *before* forwarding: AWS throttles a request instead of doing it, never after.
 * - `reset`: the connection is reset. `before`: as soon as the request arrived (moto never sees
 *   it); `after`: moto answers, the client gets the status line, the headers and part of the
 *   body, then a TCP reset.
 * - `hold`: the call is never answered, so the client's request timeout
 *   (CONVERGE_REQUEST_TIMEOUT) fires. `before`: moto never sees it; `after`: moto did it and the
 *   answer is dropped.
 * A write hit *after* forwarding is one AWS did while the client never learnt it: what tests
 * idempotency. A rule's `when` is `before`, `after` or `either` (seeded coin per fault).
 *
 * `down()` / `up()`: the proxy closes its listener and destroys every open connection, so new
 * connections are refused and calls in flight are cut, then listens again on the same port.
 * That is how the suite simulates "the emulator was killed and restarted": moto keeps its state
 * in memory only, so a real restart of moto would empty the account, which no real AWS outage
 * does. The proxy going away is what converge sees of an AWS endpoint that is down and back.
 *
 * Decisions are reproducible: each one is drawn from a PRNG seeded with the proxy's seed, the
 * request's identity (service, operation, path, body) and how many times that identity was seen,
 * so the order in which concurrent calls arrive does not change which of them are hit.
 *
 * The emulator's own endpoints (`/moto-api/`, `/converge-emulator/`) are forwarded untouched.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export type AwsService = 'ECS' | 'ELBv2' | 'EC2' | 'Logs' | 'ACM' | 'Route53' | 'CodeDeploy' | 'S3' | 'emulator' | 'unknown';
export type WireProtocol = 'json' | 'ec2-query' | 'query' | 'rest-xml' | 's3' | 'other';
export type FaultKind = 'throttle' | 'unavailable' | 'reset' | 'hold';
export type FaultTiming = 'before' | 'after';

/** One request as the proxy understood it. */
export interface RequestInfo {
  /** Arrival order, from 1. */
  seq: number;
  service: AwsService;
  operation: string;
  kind: 'read' | 'write';
  protocol: WireProtocol;
  method: string;
  /** Path and query, percent-decoded. */
  path: string;
  /** The body as text; a form body (query protocols) percent-decoded, one `key=value` per line. */
  body: string;
}

export interface FaultRule {
  /** Shown in the fault log. */
  name?: string;
  /** The fault to inject; with several, one is picked per hit with the seeded PRNG. */
  faults: readonly FaultKind[];
  /** Chance that a matching request is hit, 0 to 1. */
  probability: number;
  /** Only requests this returns true for (default: every AWS request). */
  match?: (request: RequestInfo) => boolean;
  /** For `reset` and `hold`: relative to forwarding (default `either`). Throttling is always `before`. */
  when?: FaultTiming | 'either';
  /** At most this many hits from this rule. */
  limit?: number;
  /** At most one hit per key, e.g. `(r) => r.operation`: each kind of request is hit once. */
  oncePer?: (request: RequestInfo) => string;
}

export interface InjectedFault {
  seq: number;
  rule?: string;
  fault: FaultKind;
  when: FaultTiming;
  service: AwsService;
  operation: string;
  kind: 'read' | 'write';
}

/** A write that reached moto. */
export interface ForwardedWrite {
  seq: number;
  service: AwsService;
  operation: string;
  method: string;
  path: string;
  body: string;
  /** moto's status code, once it answered. */
  status?: number;
  /** Whether the answer reached converge (false: a fault after forwarding, or the proxy went down). */
  delivered: boolean;
}

/** A request whose answer was written out in full. */
export interface DeliveredResponse extends RequestInfo {
  status: number;
  /** Whether moto produced the answer (false: the proxy answered with a fault). */
  forwarded: boolean;
}

export interface FaultCounts {
  throttle: number;
  unavailable: number;
  reset: number;
  hold: number;
  /** Times the proxy went down, and connections it cut doing so. */
  down: number;
  cut: number;
}

export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: the value for AWS_ENDPOINT_URL. */
  readonly endpoint: string;
  readonly port: number;
  readonly counts: Readonly<FaultCounts>;
  readonly faults: readonly InjectedFault[];
  readonly writes: readonly ForwardedWrite[];
  /** Requests seen (emulator control calls excluded). */
  readonly requests: number;
  /** Requests held open right now. */
  readonly held: number;
  readonly isDown: boolean;
  /** Replaces the rules (the first matching rule that fires wins). */
  setRules(rules: readonly FaultRule[]): void;
  /** Zeroes the counts and logs (the PRNG's occurrence counts too). */
  resetStats(): void;
  /** Called with each request once identified, before any fault; may call down() (then the request is cut). */
  onRequest(listener: (request: RequestInfo) => void): () => void;
  /** Called once an answer was written out in full to the client. */
  onResponse(listener: (response: DeliveredResponse) => void): () => void;
  down(): Promise<void>;
  up(): Promise<void>;
  /** Closes the listener and every connection. */
  close(): Promise<void>;
}

export interface FaultProxyOptions {
  /** moto's endpoint, `http://127.0.0.1:<port>`. */
  target: string;
  /** PRNG seed (default 1). */
  seed?: number;
  rules?: readonly FaultRule[];
}

// ---- request identification ------------------------------------------------------------

const SCOPE_SERVICES: Record<string, AwsService> = {
  ecs: 'ECS',
  elasticloadbalancing: 'ELBv2',
  ec2: 'EC2',
  logs: 'Logs',
  acm: 'ACM',
  route53: 'Route53',
  codedeploy: 'CodeDeploy',
  s3: 'S3',
};

const TARGET_SERVICES: Record<string, AwsService> = {
  AmazonEC2ContainerServiceV20141113: 'ECS',
  CodeDeploy_20141006: 'CodeDeploy',
  Logs_20140328: 'Logs',
  CertificateManager: 'ACM',
};

const READ_PREFIXES = ['Describe', 'List', 'Get', 'BatchGet', 'Head'];

/** converge's rule (src/aws/call-counter.ts): these prefixes read, everything else writes. */
export function kindOfOperation(operation: string): 'read' | 'write' {
  return READ_PREFIXES.some((prefix) => operation.startsWith(prefix)) ? 'read' : 'write';
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function serviceOf(headers: IncomingHttpHeaders, target: string | undefined, form: URLSearchParams | undefined): AwsService {
  const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(header(headers, 'authorization') ?? '')?.[1];
  if (scope && SCOPE_SERVICES[scope]) return SCOPE_SERVICES[scope];
  const prefix = target?.split('.')[0];
  if (prefix && TARGET_SERVICES[prefix]) return TARGET_SERVICES[prefix];
  const version = form?.get('Version');
  if (version === '2016-11-15') return 'EC2';
  if (version === '2015-12-01') return 'ELBv2';
  return 'unknown';
}

function s3Operation(method: string, url: URL, headers: IncomingHttpHeaders): string {
  const segments = url.pathname.split('/').filter((s) => s !== '');
  const hasKey = segments.length > 1;
  const q = url.searchParams;
  switch (method) {
    case 'HEAD':
      return hasKey ? 'HeadObject' : 'HeadBucket';
    case 'GET':
      if (hasKey) return 'GetObject';
      if (q.get('list-type') === '2') return 'ListObjectsV2';
      if (q.has('location')) return 'GetBucketLocation';
      return segments.length === 0 ? 'ListBuckets' : 'ListObjects';
    case 'PUT':
      if (!hasKey) return 'CreateBucket';
      return header(headers, 'x-amz-copy-source') ? 'CopyObject' : 'PutObject';
    case 'DELETE':
      return hasKey ? 'DeleteObject' : 'DeleteBucket';
    case 'POST':
      return q.has('delete') ? 'DeleteObjects' : 'PostObject';
    default:
      return `${method}Object`;
  }
}

function route53Operation(method: string, url: URL): string {
  const path = url.pathname.replace(/^\/\d{4}-\d{2}-\d{2}\//, '').replace(/\/$/, '');
  if (/^hostedzone\/[^/]+\/rrset$/.test(path)) return method === 'POST' ? 'ChangeResourceRecordSets' : 'ListResourceRecordSets';
  if (/^hostedzone\/[^/]+$/.test(path)) return method === 'DELETE' ? 'DeleteHostedZone' : method === 'POST' ? 'UpdateHostedZoneComment' : 'GetHostedZone';
  if (path === 'hostedzone') return method === 'POST' ? 'CreateHostedZone' : 'ListHostedZones';
  if (path === 'hostedzonesbyname') return 'ListHostedZonesByName';
  if (/^change\//.test(path)) return 'GetChange';
  if (/^tags\//.test(path)) return method === 'POST' ? 'ChangeTagsForResource' : 'ListTagsForResource';
  return `${method} ${path}`;
}

function decodeForm(form: URLSearchParams): string {
  return [...form.entries()].map(([key, value]) => `${key}=${value}`).join('\n');
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** What the proxy makes of a request: service, operation, read or write, and its text. */
export function identifyRequest(method: string, rawUrl: string, headers: IncomingHttpHeaders, body: Buffer, seq = 0): RequestInfo {
  const url = new URL(rawUrl, 'http://proxy.invalid');
  const path = safeDecode(url.pathname + url.search);
  const base = { seq, method, path };
  if (url.pathname.startsWith('/moto-api') || url.pathname.startsWith('/converge-emulator')) {
    return { ...base, service: 'emulator', operation: url.pathname, kind: 'read', protocol: 'other', body: body.toString('utf8') };
  }
  const target = header(headers, 'x-amz-target');
  const contentType = header(headers, 'content-type') ?? '';
  const form = method === 'POST' && contentType.startsWith('application/x-www-form-urlencoded') ? new URLSearchParams(body.toString('utf8')) : undefined;
  const service = serviceOf(headers, target, form);
  let operation: string;
  let protocol: WireProtocol;
  let text = body.toString('utf8');
  if (target) {
    operation = target.slice(target.lastIndexOf('.') + 1);
    protocol = 'json';
  } else if (form?.has('Action')) {
    operation = form.get('Action') ?? 'unknown';
    protocol = service === 'EC2' ? 'ec2-query' : 'query';
    text = decodeForm(form);
  } else if (service === 'S3') {
    operation = s3Operation(method, url, headers);
    protocol = 's3';
  } else if (service === 'Route53') {
    operation = route53Operation(method, url);
    protocol = 'rest-xml';
  } else {
    operation = `${method} ${url.pathname}`;
    protocol = 'other';
  }
  return { ...base, service, operation, kind: kindOfOperation(operation), protocol, body: text };
}

// ---- error answers -----------------------------------------------------------------------

interface CannedAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The throttling error the service itself sends, in its wire format. */
export function throttlingAnswer(request: Pick<RequestInfo, 'protocol' | 'method'>, requestId: string = randomUUID()): CannedAnswer {
  const xml = (status: number, body: string): CannedAnswer => ({ status, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, body });
  switch (request.protocol) {
    case 'json':
      return {
        status: 400,
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId },
        body: JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' }),
      };
    case 'ec2-query':
      return xml(503, `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`);
    case 'query':
      return xml(
        400,
        `<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      );
    case 's3':
      return {
        status: 503,
        headers: { 'content-type': 'application/xml', 'x-amz-request-id': requestId },
        body: request.method === 'HEAD' ? '' : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>${requestId}</RequestId></Error>`,
      };
    case 'rest-xml':
      return xml(
        400,
        `<?xml version="1.0"?>\n<ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      );
    case 'other':
      return unavailableAnswer();
  }
}

/** A 503 with no AWS error body, as a load balancer in front of a service sends it. */
export function unavailableAnswer(): CannedAnswer {
  return { status: 503, headers: { 'content-type': 'text/plain' }, body: '' };
}

// ---- PRNG ------------------------------------------------------------------------------

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- the proxy -----------------------------------------------------------------------------

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect', 'content-length']);

function forwardHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  return out;
}

interface UpstreamAnswer {
  status: number;
  statusMessage: string;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

function readBody(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

function forward(target: URL, req: IncomingMessage, body: Buffer): Promise<UpstreamAnswer> {
  return new Promise((resolve, reject) => {
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...forwardHeaders(req.headers), 'content-length': String(body.length) } },
      (res) => {
        readBody(res).then(
          (answer) => {
            const headers: Record<string, string | string[]> = {};
            for (const [name, value] of Object.entries(res.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
            // HEAD answers carry the object's length without its bytes: keep moto's.
            if (req.method === 'HEAD' && res.headers['content-length'] !== undefined) headers['content-length'] = res.headers['content-length'];
            else headers['content-length'] = String(answer.length);
            resolve({ status: res.statusCode ?? 502, statusMessage: res.statusMessage ?? '', headers, body: answer });
          },
          reject,
        );
      },
    );
    upstream.on('error', reject);
    upstream.end(body);
  });
}

function rawHead(answer: UpstreamAnswer): string {
  const lines = [`HTTP/1.1 ${answer.status} ${answer.statusMessage || 'OK'}`];
  for (const [name, value] of Object.entries(answer.headers)) for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

function emptyCounts(): FaultCounts {
  return { throttle: 0, unavailable: 0, reset: 0, hold: 0, down: 0, cut: 0 };
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  const seed = options.seed ?? 1;
  let rules: readonly FaultRule[] = options.rules ?? [];
  let hitsPerRule = new Map<FaultRule, number>();
  let keysHit = new Map<FaultRule, Set<string>>();
  let seen = new Map<string, number>();
  let counts = emptyCounts();
  let faults: InjectedFault[] = [];
  let writes: ForwardedWrite[] = [];
  let seq = 0;
  let requests = 0;
  let down = false;
  const sockets = new Set<Socket>();
  const heldSockets = new Set<Socket>();
  const requestListeners = new Set<(request: RequestInfo) => void>();
  const responseListeners = new Set<(response: DeliveredResponse) => void>();

  /** A PRNG for this request: seeded by the proxy seed, its identity and how often that identity came before. */
  const randomFor = (info: RequestInfo): (() => number) => {
    const identity = `${info.service}\n${info.operation}\n${info.method}\n${info.path}\n${info.body}`;
    const occurrence = seen.get(identity) ?? 0;
    seen.set(identity, occurrence + 1);
    const digest = createHash('sha256').update(`${seed}\n${occurrence}\n${identity}`).digest();
    return mulberry32(digest.readUInt32LE(0));
  };

  const decide = (info: RequestInfo): { rule: FaultRule; fault: FaultKind; when: FaultTiming } | undefined => {
    if (info.service === 'emulator') return undefined;
    const random = randomFor(info);
    for (const rule of rules) {
      if (rule.match && !rule.match(info)) continue;
      const hits = hitsPerRule.get(rule) ?? 0;
      if (rule.limit !== undefined && hits >= rule.limit) continue;
      const key = rule.oncePer?.(info);
      const hitKeys = keysHit.get(rule) ?? new Set<string>();
      if (key !== undefined && hitKeys.has(key)) continue;
      if (random() >= rule.probability) continue;
      const fault = rule.faults[Math.floor(random() * rule.faults.length)] ?? rule.faults[0];
      if (!fault) continue;
      const timing = rule.when ?? 'either';
      const when: FaultTiming = fault === 'throttle' || fault === 'unavailable' ? 'before' : timing === 'either' ? (random() < 0.5 ? 'before' : 'after') : timing;
      hitsPerRule.set(rule, hits + 1);
      if (key !== undefined) keysHit.set(rule, hitKeys.add(key));
      return { rule, fault, when };
    }
    return undefined;
  };

  const delivered = (info: RequestInfo, status: number, forwarded: boolean): void => {
    for (const listener of responseListeners) listener({ ...info, status, forwarded });
  };

  const sendAnswer = (res: ServerResponse, info: RequestInfo, answer: CannedAnswer | UpstreamAnswer, forwarded: boolean, write?: ForwardedWrite): void => {
    const body = typeof answer.body === 'string' ? Buffer.from(answer.body, 'utf8') : answer.body;
    const headers: Record<string, string | string[]> = { ...answer.headers };
    if (headers['content-length'] === undefined) headers['content-length'] = String(body.length);
    res.writeHead(answer.status, headers);
    res.end(info.method === 'HEAD' ? undefined : body, () => {
      if (write) write.delivered = true;
      delivered(info, answer.status, forwarded);
    });
  };

  /** Status line, headers and about half the body, then a TCP reset. */
  const resetMidResponse = (socket: Socket, answer: UpstreamAnswer): void => {
    const head = rawHead(answer);
    const partial = answer.body.subarray(0, Math.floor(answer.body.length / 2));
    // With no body to cut, cut the headers instead.
    const bytes = partial.length > 0 ? Buffer.concat([Buffer.from(head, 'utf8'), partial]) : Buffer.from(head.slice(0, Math.max(head.indexOf('\r\n') + 2, 1)), 'utf8');
    socket.write(bytes, () => setTimeout(() => socket.resetAndDestroy(), 10));
  };

  const hold = (socket: Socket): void => {
    heldSockets.add(socket);
    socket.once('close', () => heldSockets.delete(socket));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    seq += 1;
    const info = identifyRequest(req.method ?? 'GET', req.url ?? '/', req.headers, body, seq);
    if (info.service !== 'emulator') requests += 1;
    for (const listener of requestListeners) listener(info);
    const socket = req.socket;
    if (down || socket.destroyed) return;
    const decision = decide(info);
    const record = (fault: FaultKind, when: FaultTiming): void => {
      counts[fault] += 1;
      faults.push({ seq: info.seq, rule: decision?.rule.name, fault, when, service: info.service, operation: info.operation, kind: info.kind });
    };

    if (decision?.when === 'before') {
      record(decision.fault, 'before');
      switch (decision.fault) {
        case 'throttle':
          return sendAnswer(res, info, throttlingAnswer(info), false);
        case 'unavailable':
          return sendAnswer(res, info, unavailableAnswer(), false);
        case 'reset':
          socket.resetAndDestroy();
          return;
        case 'hold':
          hold(socket);
          return;
      }
    }

    const write: ForwardedWrite | undefined =
      info.kind === 'write' && info.service !== 'emulator' ? { seq: info.seq, service: info.service, operation: info.operation, method: info.method, path: info.path, body: info.body, delivered: false } : undefined;
    if (write) writes.push(write);
    let answer: UpstreamAnswer;
    try {
      answer = await forward(target, req, body);
    } catch (error) {
      if (!socket.destroyed && !res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`fault proxy: the emulator did not answer: ${error instanceof Error ? error.message : String(error)}`);
      }
      return;
    }
    if (write) write.status = answer.status;
    // The proxy went down (or the client gave up) while moto worked: the answer is lost.
    if (down || socket.destroyed) return;
    if (decision?.when === 'after') {
      record(decision.fault, 'after');
      if (decision.fault === 'reset') resetMidResponse(socket, answer);
      else hold(socket);
      return;
    }
    sendAnswer(res, info, answer, true, write);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent && !req.socket.destroyed) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`fault proxy: ${error instanceof Error ? error.message : String(error)}`);
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    // A reset socket reports ECONNRESET to the server as well: nothing to do about it.
    socket.on('error', () => undefined);
  });
  server.on('clientError', (_error, socket: Socket) => socket.destroy());

  const listen = (port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      server.once('error', onError);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', onError);
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });

  const closeListener = (): Promise<void> =>
    new Promise((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
    });

  const cutEverything = (): number => {
    const cut = sockets.size;
    for (const socket of sockets) socket.resetAndDestroy();
    sockets.clear();
    heldSockets.clear();
    return cut;
  };

  const port = await listen(0);
  const endpoint = `http://127.0.0.1:${port}`;

  return {
    endpoint,
    port,
    get counts() {
      return counts;
    },
    get faults() {
      return faults;
    },
    get writes() {
      return writes;
    },
    get requests() {
      return requests;
    },
    get held() {
      return heldSockets.size;
    },
    get isDown() {
      return down;
    },
    setRules(next) {
      rules = next;
      hitsPerRule = new Map();
      keysHit = new Map();
    },
    resetStats() {
      counts = emptyCounts();
      faults = [];
      writes = [];
      seen = new Map();
      hitsPerRule = new Map();
      keysHit = new Map();
      requests = 0;
    },
    onRequest(listener) {
      requestListeners.add(listener);
      return () => requestListeners.delete(listener);
    },
    onResponse(listener) {
      responseListeners.add(listener);
      return () => responseListeners.delete(listener);
    },
    async down() {
      if (down) return;
      down = true;
      counts.down += 1;
      const closing = closeListener();
      counts.cut += cutEverything();
      await closing;
    },
    async up() {
      if (!down) return;
      // Same port, so the clients' endpoint stays valid. SO_REUSEADDR (libuv's default) makes it free at once.
      await listen(port);
      down = false;
    },
    async close() {
      down = true;
      const closing = closeListener();
      cutEverything();
      await closing;
    },
  };
}
