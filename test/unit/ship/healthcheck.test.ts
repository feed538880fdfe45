import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { healthcheck, healthzUrl } from '../../../src/cli/healthcheck.js';

describe('healthzUrl: where the container health check asks', () => {
  it.each([
    [undefined, 'http://127.0.0.1:8080/healthz'],
    ['', 'http://127.0.0.1:8080/healthz'],
    ['0.0.0.0:9000', 'http://127.0.0.1:9000/healthz'],
    [':9001', 'http://127.0.0.1:9001/healthz'],
    ['9002', 'http://127.0.0.1:9002/healthz'],
    ['10.1.2.3:9003', 'http://10.1.2.3:9003/healthz'],
    ['[::]:9004', 'http://[::1]:9004/healthz'],
    ['[::1]:9005', 'http://[::1]:9005/healthz'],
  ])('CONVERGE_LISTEN=%s -> %s', (listen, url) => {
    expect(healthzUrl(listen)).toBe(url);
  });

  it('refuses port 0, whose real port it cannot know', () => {
    expect(() => healthzUrl('127.0.0.1:0')).toThrow(/port 0/);
  });
});

describe('healthcheck', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((done) => (server ? server.close(() => done()) : done()));
    server = undefined;
  });
  const serve = (status: number, delayMs = 0): Promise<number> =>
    new Promise((resolve) => {
      server = createServer((req, res) => {
        setTimeout(() => {
          res.statusCode = req.url === '/healthz' ? status : 404;
          res.end('ok');
        }, delayMs);
      });
      server.listen(0, '127.0.0.1', () => resolve((server?.address() as AddressInfo).port));
    });

  it('is healthy when /healthz answers 200', async () => {
    const port = await serve(200);
    await expect(healthcheck({ CONVERGE_LISTEN: `127.0.0.1:${port}` })).resolves.toMatchObject({ healthy: true, detail: 'answered 200' });
  });

  it('is unhealthy on another status, a refused connection, a timeout or a bad address', async () => {
    const port = await serve(503);
    await expect(healthcheck({ CONVERGE_LISTEN: `127.0.0.1:${port}` })).resolves.toMatchObject({ healthy: false, detail: 'answered 503' });
    await new Promise<void>((done) => server?.close(() => done()));
    server = undefined;
    await expect(healthcheck({ CONVERGE_LISTEN: `127.0.0.1:${port}` })).resolves.toMatchObject({ healthy: false });
    const slow = await serve(200, 2_000);
    const result = await healthcheck({ CONVERGE_LISTEN: `127.0.0.1:${slow}`, CONVERGE_HEALTHCHECK_TIMEOUT_MS: '200' });
    expect(result).toMatchObject({ healthy: false, detail: 'no answer within 200 ms' });
    await expect(healthcheck({ CONVERGE_LISTEN: 'not an address' })).resolves.toMatchObject({ healthy: false, url: '' });
  });
});
