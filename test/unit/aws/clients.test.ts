import { ListClustersCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { withCallScope, withCallSignal, withWriteFence, WriteFencedError } from '../../../src/aws/call-counter.js';
import { createAwsClients, destroyAwsClients, maxAttemptsFromEnv, requestTimeoutFromEnv, type AwsClientOptions, type AwsClients } from '../../../src/aws/clients.js';

describe('AWS clients', () => {
  it('the S3 client follows region redirects (a bucket in another region answers 301 otherwise)', () => {
    const aws = createAwsClients({ region: 'us-east-1' });
    try {
      expect(aws.s3.config.followRegionRedirects).toBe(true);
    } finally {
      destroyAwsClients(aws);
    }
  });

  it('reads AWS_MAX_ATTEMPTS as a whole number from 1 to 10, and names the variable otherwise', () => {
    expect(maxAttemptsFromEnv({})).toBe(5);
    expect(maxAttemptsFromEnv({ AWS_MAX_ATTEMPTS: '' })).toBe(5);
    expect(maxAttemptsFromEnv({ AWS_MAX_ATTEMPTS: '3' })).toBe(3);
    expect(maxAttemptsFromEnv({ AWS_MAX_ATTEMPTS: '10' })).toBe(10);
    for (const bad of ['0', '11', '-1', '2.5', 'many', '1e3']) {
      expect(() => maxAttemptsFromEnv({ AWS_MAX_ATTEMPTS: bad }), bad).toThrow(new RegExp(`AWS_MAX_ATTEMPTS: "${bad.replace('.', '\\.')}" is not a whole number of attempts from 1 to 10`));
    }
  });

  it('reads CONVERGE_REQUEST_TIMEOUT as a duration from 1s to 5m, default 30s', () => {
    expect(requestTimeoutFromEnv({})).toBe(30_000);
    expect(requestTimeoutFromEnv({ CONVERGE_REQUEST_TIMEOUT: '2s' })).toBe(2_000);
    expect(requestTimeoutFromEnv({ CONVERGE_REQUEST_TIMEOUT: '5m' })).toBe(300_000);
    expect(() => requestTimeoutFromEnv({ CONVERGE_REQUEST_TIMEOUT: '500ms' })).toThrow(/CONVERGE_REQUEST_TIMEOUT: "500ms" is shorter than the minimum of 1s/);
    expect(() => requestTimeoutFromEnv({ CONVERGE_REQUEST_TIMEOUT: '1h' })).toThrow(/CONVERGE_REQUEST_TIMEOUT: "1h" is longer than the maximum of 5m/);
    expect(() => requestTimeoutFromEnv({ CONVERGE_REQUEST_TIMEOUT: 'soon' })).toThrow(/CONVERGE_REQUEST_TIMEOUT: cannot read "soon"/);
  });
});

/**
 * A server that takes requests and never answers them: an AWS endpoint that hangs. It records
 * each request and when its connection closed (the client gave up on it).
 */
class HangingServer {
  readonly requests: { at: number; closedAt?: number; target?: string }[] = [];
  private readonly server: Server;
  private readonly held = new Set<IncomingMessage>();

  constructor() {
    this.server = createServer((req) => {
      const entry: { at: number; closedAt?: number; target?: string } = { at: Date.now(), target: String(req.headers['x-amz-target'] ?? '') };
      this.requests.push(entry);
      this.held.add(req);
      req.resume();
      req.socket.once('close', () => {
        entry.closedAt = Date.now();
        this.held.delete(req);
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const until = async (check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> => {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

/** Settles with the error (or undefined) and how long after `from` it settled. */
const settled = async (call: Promise<unknown>): Promise<{ error?: Error; at: number }> => {
  try {
    await call;
    return { at: Date.now() };
  } catch (error) {
    return { error: error as Error, at: Date.now() };
  }
};

describe('AWS clients against an endpoint that never answers', { timeout: 10_000 }, () => {
  const hanging = new HangingServer();
  const saved = new Map<string, string | undefined>();
  const created: AwsClients[] = [];
  const clients = (options: AwsClientOptions = {}): AwsClients => {
    const aws = createAwsClients({ region: 'us-east-1', maxAttempts: 1, ...options });
    created.push(aws);
    return aws;
  };

  beforeAll(async () => {
    const endpoint = await hanging.listen();
    const env = { AWS_ENDPOINT_URL: endpoint, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' };
    for (const [key, value] of Object.entries(env)) {
      saved.set(key, process.env[key]);
      process.env[key] = value;
    }
  });

  afterEach(() => {
    for (const aws of created.splice(0)) destroyAwsClients(aws);
  });

  afterAll(async () => {
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await hanging.close();
  });

  it('fails a request past its request timeout (throwOnRequestTimeout), instead of only warning and waiting on', async () => {
    const aws = clients({ requestTimeoutMs: 300 });
    const started = Date.now();
    const { error, at } = await settled(aws.ecs.send(new ListClustersCommand({})));
    expect(error?.name).toBe('TimeoutError');
    expect(error?.message).toMatch(/exceeded the configured 300 ms requestTimeout/);
    expect(at - started).toBeLessThan(3_000);
    const handler = aws.ecs.config.requestHandler as { httpHandlerConfigs(): { throwOnRequestTimeout?: boolean; requestTimeout?: number } };
    expect(handler.httpHandlerConfigs()).toMatchObject({ throwOnRequestTimeout: true, requestTimeout: 300 });
  });

  it('sets throwOnRequestTimeout with the default 30 s request timeout', async () => {
    const aws = clients();
    const handler = aws.ecs.config.requestHandler as { httpHandlerConfigs(): { throwOnRequestTimeout?: boolean; requestTimeout?: number } };
    // The handler resolves its configuration on first use.
    const controller = new AbortController();
    const call = settled(withCallSignal(controller.signal, () => aws.ecs.send(new ListClustersCommand({}))));
    const before = hanging.requests.length;
    await until(() => hanging.requests.length > before, 'the request');
    controller.abort(new Error('test over'));
    await call;
    expect(handler.httpHandlerConfigs()).toMatchObject({ throwOnRequestTimeout: true, requestTimeout: 30_000 });
  });

  it('aborts a hung call when the signal of its call scope fires: the call rejects at once and its connection is closed, with no retry', async () => {
    const aws = clients({ maxAttempts: 3 });
    const controller = new AbortController();
    const before = hanging.requests.length;
    const call = settled(withCallSignal(controller.signal, () => withCallScope(() => aws.ecs.send(new ListClustersCommand({})))));
    await until(() => hanging.requests.length === before + 1, 'the request to reach the endpoint');
    const request = hanging.requests[before];
    const abortedAt = Date.now();
    controller.abort(new Error('the cycle ran longer than its timeout of 5000 ms'));
    const { error, at } = await call;
    expect(error?.name).toBe('AbortError');
    expect(error?.message).toBe('ECS ListClusters aborted: the cycle ran longer than its timeout of 5000 ms');
    expect(at - abortedAt).toBeLessThan(200);
    // The request handler got the signal too: the HTTP request was destroyed, not left to its timeout.
    await until(() => request?.closedAt !== undefined, 'the connection to close', 2_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(hanging.requests.length).toBe(before + 1);
  });

  it('rejects at once a call waiting for a free slot, and an aborted call frees its slot', async () => {
    const aws = clients({ maxConcurrentCalls: 1 });
    const first = new AbortController();
    const second = new AbortController();
    const before = hanging.requests.length;
    const holding = settled(withCallSignal(first.signal, () => aws.ecs.send(new ListClustersCommand({}))));
    await until(() => hanging.requests.length === before + 1, 'the first request');
    const waiting = settled(withCallSignal(second.signal, () => aws.ecs.send(new ListClustersCommand({}))));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(hanging.requests.length).toBe(before + 1);
    second.abort(new Error('cycle timeout'));
    const waited = await waiting;
    expect(waited.error?.message).toBe('ECS ListClusters aborted: cycle timeout');
    // The waiting call never went out.
    expect(hanging.requests.length).toBe(before + 1);

    first.abort(new Error('cycle timeout'));
    expect((await holding).error?.name).toBe('AbortError');
    // The slot is free again: a call outside any signal scope goes out (and is left to hang until the clients are destroyed).
    void settled(aws.ecs.send(new ListClustersCommand({})));
    await until(() => hanging.requests.length === before + 2, 'a new call to get the free slot');
  });

  it('a call made after its scope was aborted fails before it is sent; calls outside any signal scope are not affected', async () => {
    const aws = clients({ requestTimeoutMs: 400 });
    const controller = new AbortController();
    controller.abort(new Error('shutting down'));
    const before = hanging.requests.length;
    const { error } = await settled(withCallSignal(controller.signal, () => aws.ecs.send(new ListClustersCommand({}))));
    expect(error?.message).toBe('ECS ListClusters aborted: shutting down');
    expect(hanging.requests.length).toBe(before);
    // Outside the scope, only the request timeout ends a hung call.
    const outside = await settled(aws.ecs.send(new ListClustersCommand({})));
    expect(outside.error?.name).toBe('TimeoutError');
  });
});

describe('AWS writes under a write fence (the writer lease)', { timeout: 10_000 }, () => {
  const hanging = new HangingServer();
  const saved = new Map<string, string | undefined>();
  let aws: AwsClients;

  beforeAll(async () => {
    const endpoint = await hanging.listen();
    const env = { AWS_ENDPOINT_URL: endpoint, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' };
    for (const [key, value] of Object.entries(env)) {
      saved.set(key, process.env[key]);
      process.env[key] = value;
    }
    aws = createAwsClients({ region: 'us-east-1', maxAttempts: 1, requestTimeoutMs: 1_000 });
  });

  afterAll(async () => {
    destroyAwsClients(aws);
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await hanging.close();
  });

  it('sends no write while the fence gives a reason, and does not count it; reads go out; a write allowed again is sent', async () => {
    let reason: string | undefined = 'converge daemon:b holds the writer lease s3://b/p/.converge/lease.json';
    const before = hanging.requests.length;
    const { result, calls } = await withCallScope(() =>
      withWriteFence(
        () => reason,
        async () => {
          const write = await settled(aws.ecs.send(new UpdateServiceCommand({ cluster: 'c', service: 's', desiredCount: 2 })));
          const read = settled(aws.ecs.send(new ListClustersCommand({})));
          await until(() => hanging.requests.length === before + 1, 'the read to go out');
          reason = undefined;
          const allowed = settled(aws.ecs.send(new UpdateServiceCommand({ cluster: 'c', service: 's', desiredCount: 2 })));
          await until(() => hanging.requests.length === before + 2, 'the allowed write to go out');
          await Promise.all([read, allowed]);
          return write;
        },
      ),
    );
    expect(result.error).toBeInstanceOf(WriteFencedError);
    expect(result.error?.message).toBe('ECS UpdateService not sent: converge daemon:b holds the writer lease s3://b/p/.converge/lease.json');
    expect(hanging.requests.map((r) => r.target).slice(before)).toEqual(['AmazonEC2ContainerServiceV20141113.ListClusters', 'AmazonEC2ContainerServiceV20141113.UpdateService']);
    expect(calls.byOperation()).toEqual({ 'ECS:ListClusters': 1, 'ECS:UpdateService': 1 });
  });
});
