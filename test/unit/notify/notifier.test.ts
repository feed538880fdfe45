/** The webhook body (Slack-compatible), its signature, and the notifier's sending: retries, timeouts, logs without the URL path. */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { composeMessages, signBody, slackBody, snsMessage } from '../../../src/notify/message.js';
import { Notifier, webhookOrigin } from '../../../src/notify/notifier.js';
import { captureLogs } from '../../support/log-capture.js';
import { drifted, resource, summary } from './fixtures.js';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
  path: string;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A webhook on 127.0.0.1 answering `status(n)` to the n-th request (1-based), after `delayMs`. */
async function webhook(status: (n: number) => number = () => 200, delayMs = 0): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      received.push({ headers: req.headers, body, path: req.url ?? '' });
      setTimeout(() => res.writeHead(status(received.length)).end('ok'), delayMs);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hooks/T000/B000/secret-token-path`, received };
}

describe('notification messages', () => {
  const [message] = composeMessages('shop', [
    { kind: 'conflict', key: 'conflict:x', severity: 'error', resource: { kind: 'Service', name: 'users', resource: 'AWS::ECS::Service shop-users' }, message: 'Conflict on <AWS::ECS::Service> shop-users & co' },
  ]);

  it('the webhook body is Slack-compatible: text and blocks, mrkdwn escaped', () => {
    if (!message) throw new Error('no message');
    expect(slackBody(message)).toEqual({
      text: ':rotating_light: converge shop: conflict: Service/users\nConflict on &lt;AWS::ECS::Service&gt; shop-users &amp; co',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'converge shop: conflict: Service/users' } },
        { type: 'section', text: { type: 'mrkdwn', text: 'Conflict on &lt;AWS::ECS::Service&gt; shop-users &amp; co' } },
        { type: 'context', elements: [{ type: 'mrkdwn', text: ':rotating_light: converge · environment *shop* · conflict' }] },
      ],
    });
  });

  it('signs the exact body: sha256=<hex HMAC-SHA256 keyed with the secret>', () => {
    const body = '{"text":"x"}';
    expect(signBody(body, 'shh')).toBe(`sha256=${createHmac('sha256', 'shh').update(body).digest('hex')}`);
    expect(signBody(body, new TextEncoder().encode('shh'))).toBe(signBody(body, 'shh'));
  });

  it('the SNS form: an ASCII subject under 100 characters and filterable attributes', () => {
    if (!message) throw new Error('no message');
    const sns = snsMessage({ ...message, title: `${message.title} — ${'x'.repeat(200)}` });
    expect(sns.subject.length).toBeLessThan(100);
    expect(sns.subject).toMatch(/^[\x20-\x7e]+$/);
    expect(sns.attributes).toEqual({ 'converge.environment': 'shop', 'converge.event': 'conflict', 'converge.severity': 'error' });
  });

  it('shows only the scheme and host of a webhook', () => {
    expect(webhookOrigin('https://hooks.slack.com/services/T0/B0/XYZ?token=1')).toBe('https://hooks.slack.com');
  });
});

describe('the notifier', () => {
  it('sends one message per event to the webhook, once across cycles, and sends nothing when not the writer', async () => {
    const hook = await webhook();
    const logs = captureLogs();
    const notifier = new Notifier({ log: logs.log });
    const context = { notifications: { webhook: { url: hook.url } }, environment: 'shop', send: true };
    notifier.cycleEnded(summary([drifted('users')]), context);
    notifier.cycleEnded(summary([drifted('users')]), context);
    await notifier.idle();
    expect(hook.received).toHaveLength(1);
    expect(hook.received[0]?.headers['x-converge-signature-256']).toBeUndefined();
    expect((JSON.parse(hook.received[0]?.body ?? '{}') as { text: string }).text).toContain('Drift on AWS::ECS::Service shop-users');
    // A standby tracks the recovery but sends nothing.
    notifier.cycleEnded(summary([resource('users')]), { ...context, send: false });
    await notifier.idle();
    expect(hook.received).toHaveLength(1);
    expect(logs.ofEvent('notify')).toHaveLength(1);
    expect(JSON.stringify(logs.events)).not.toContain('secret-token-path');
    notifier.close();
  });

  it('retries a failing webhook with backoff, then logs notify-error with the scheme and host only; the cycle is never held', async () => {
    const hook = await webhook(() => 503);
    const logs = captureLogs();
    const notifier = new Notifier({ log: logs.log, attempts: 3, backoffMs: 10 });
    const started = Date.now();
    notifier.cycleEnded(summary([drifted('users')]), { notifications: { webhook: { url: hook.url } }, environment: 'shop', send: true });
    expect(Date.now() - started).toBeLessThan(50);
    await notifier.idle();
    expect(hook.received).toHaveLength(3);
    const [error] = logs.ofEvent('notify-error');
    expect(error).toMatchObject({ level: 'warn', target: 'webhook', destination: new URL(hook.url).origin, attempts: 3, error: 'the webhook answered HTTP 503' });
    expect(JSON.stringify(logs.events)).not.toContain('/hooks/');
    notifier.close();
  });

  it('gives up on a slow webhook after its timeout', async () => {
    const hook = await webhook(() => 200, 2_000);
    const logs = captureLogs();
    const notifier = new Notifier({ log: logs.log, attempts: 1, timeoutMs: 200 });
    const started = Date.now();
    notifier.cycleEnded(summary([drifted('users')]), { notifications: { webhook: { url: hook.url } }, environment: 'shop', send: true });
    await notifier.idle();
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(logs.ofEvent('notify-error')[0]).toMatchObject({ error: 'no answer within 200 ms' });
    notifier.close();
  });

  it('a refused connection is logged without the path', async () => {
    const logs = captureLogs();
    const notifier = new Notifier({ log: logs.log, attempts: 2, backoffMs: 5 });
    notifier.cycleEnded(summary([drifted('users')]), { notifications: { webhook: { url: 'http://127.0.0.1:9/hooks/very-secret' } }, environment: 'shop', send: true });
    await notifier.idle();
    const [error] = logs.ofEvent('notify-error');
    expect(error).toMatchObject({ destination: 'http://127.0.0.1:9', attempts: 2 });
    expect(String(error?.error)).toMatch(/ECONNREFUSED|fetch failed/);
    expect(JSON.stringify(logs.events)).not.toContain('very-secret');
    notifier.close();
  });
});
