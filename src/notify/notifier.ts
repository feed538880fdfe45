/**
 * Sends notifications off the cycle's path: the daemon hands each cycle's summary to
 * `cycleEnded`, which derives the events (src/notify/events.ts) at once and queues the messages;
 * they are sent in the background, one message at a time, each attempt under a timeout, retried
 * with a bounded backoff. A failure is logged (`notify-error`, rate-limited, never the webhook's
 * path or secret) and never fails a cycle. SNS and Secrets Manager clients are made only when an
 * Environment configures them.
 */
import { randomUUID } from 'node:crypto';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Logger } from 'pino';
import type { Notifications } from '../../desired-state/types.js';
import type { CycleSummary } from '../controller.js';
import { describeAwsError } from '../aws/errors.js';
import { boundedErrorMessage } from '../log/logger.js';
import { deriveEvents, EMPTY_STATE, type DedupState, type NotificationEvent } from './events.js';
import { composeMessages, SIGNATURE_HEADER, signBody, slackBody, snsMessage, SUMMARY_THRESHOLD, type OutgoingMessage } from './message.js';

export interface NotifierOptions {
  log: Logger;
  /** Per attempt (default 5 s): a slow webhook holds only its own delivery. */
  timeoutMs?: number;
  /** Attempts per message and target (default 3). */
  attempts?: number;
  /** First pause between attempts, doubled after each (default 1 s, at most 30 s). */
  backoffMs?: number;
  /** Messages waiting at most (default 100); the oldest are dropped past it. */
  maxQueue?: number;
  summaryThreshold?: number;
  /** Tests. */
  fetch?: typeof fetch;
}

export interface CycleContext {
  /** The enforced revision's `spec.notifications`. */
  notifications?: Notifications;
  /** The Environment's name, for the messages. */
  environment?: string;
  /** False on a standby: events are tracked (no repeat after a takeover) and not sent. */
  send: boolean;
}

interface Delivery {
  message: OutgoingMessage;
  targets: Notifications;
  id: string;
}

type Target = 'sns' | 'webhook';

class DeliveryError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

const ERROR_LOG_INTERVAL_MS = 60_000;

/** Only the scheme and host of a webhook URL are ever shown: its path often holds a token. */
export function webhookOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(unparseable URL)';
  }
}

export class Notifier {
  private state: DedupState = EMPTY_STATE;
  private readonly queue: Delivery[] = [];
  private running?: Promise<void>;
  private readonly closed = new AbortController();
  private readonly snsClients = new Map<string, SNSClient>();
  private readonly secretClients = new Map<string, SecretsManagerClient>();
  /** The webhook secret, read once per ARN; a failed read is forgotten and tried again later. */
  private readonly secrets = new Map<string, Promise<Uint8Array>>();
  private readonly errorLog = new Map<Target, { at: number; suppressed: number }>();
  private dropped = 0;
  /** Messages delivered, by target (tests). */
  readonly delivered = { sns: 0, webhook: 0 };

  constructor(private readonly options: NotifierOptions) {}

  /** Derives this cycle's events and queues their messages; returns at once. */
  cycleEnded(summary: CycleSummary, context: CycleContext): NotificationEvent[] {
    const { events, state } = deriveEvents(this.state, summary);
    this.state = state;
    const targets = context.notifications;
    if (events.length === 0 || !context.send || !targets || this.closed.signal.aborted) return events;
    const messages = composeMessages(context.environment ?? 'environment', events, this.options.summaryThreshold ?? SUMMARY_THRESHOLD);
    for (const message of messages) this.queue.push({ message, targets, id: randomUUID() });
    const max = this.options.maxQueue ?? 100;
    if (this.queue.length > max) {
      const drop = this.queue.length - max;
      this.queue.splice(0, drop);
      this.dropped += drop;
      this.options.log.warn({ event: 'notify-error', error: `${drop} notification(s) dropped: ${max} were already waiting`, dropped: this.dropped }, `notifications are not sent fast enough: ${drop} dropped`);
    }
    this.running ??= this.drain();
    return events;
  }

  /** Resolves once nothing is waiting or being sent (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Stops sending (in-flight attempts are aborted) and releases the clients. */
  close(): void {
    this.closed.abort(new Error('converge is shutting down'));
    this.queue.length = 0;
    for (const client of [...this.snsClients.values(), ...this.secretClients.values()]) client.destroy();
    this.snsClients.clear();
    this.secretClients.clear();
  }

  private async drain(): Promise<void> {
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) {
        const delivery = next;
        const sends: Promise<void>[] = [];
        if (delivery.targets.snsTopicArn) sends.push(this.deliver('sns', delivery));
        if (delivery.targets.webhook) sends.push(this.deliver('webhook', delivery));
        await Promise.all(sends);
      }
    } finally {
      this.running = undefined;
    }
  }

  /** One message to one target, with retries; never throws. */
  private async deliver(target: Target, delivery: Delivery): Promise<void> {
    const attempts = Math.max(1, this.options.attempts ?? 3);
    const destination = target === 'sns' ? (delivery.targets.snsTopicArn ?? '') : webhookOrigin(delivery.targets.webhook?.url ?? '');
    let last: DeliveryError | undefined;
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      if (this.closed.signal.aborted) return;
      try {
        if (target === 'sns') await this.publish(delivery);
        else await this.post(delivery);
        this.delivered[target] += 1;
        this.options.log.info(
          { event: 'notify', target, destination, kind: delivery.message.kind, events: delivery.message.events.length, attempt },
          `notification sent (${target} ${destination}): ${delivery.message.title}`,
        );
        return;
      } catch (error) {
        last = error instanceof DeliveryError ? error : new DeliveryError(this.describe(error, delivery), true);
        if (!last.retryable || attempt === attempts) break;
        const pause = Math.min(30_000, (this.options.backoffMs ?? 1_000) * 2 ** (attempt - 1));
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, pause);
          this.closed.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
        });
      }
    }
    if (last && !this.closed.signal.aborted) this.logError(target, destination, delivery, last.message, attempts);
  }

  private attemptSignal(): AbortSignal {
    return AbortSignal.any([AbortSignal.timeout(this.options.timeoutMs ?? 5_000), this.closed.signal]);
  }

  private async publish(delivery: Delivery): Promise<void> {
    const topic = delivery.targets.snsTopicArn;
    if (!topic) return;
    const { createSnsClient, publishMessage } = await import('../aws/sns.js');
    let client = this.snsClients.get(topic);
    if (!client) {
      client = createSnsClient(topic, this.options.timeoutMs ?? 5_000);
      this.snsClients.set(topic, client);
    }
    await publishMessage(client, topic, snsMessage(delivery.message), this.attemptSignal());
  }

  private async post(delivery: Delivery): Promise<void> {
    const webhook = delivery.targets.webhook;
    if (!webhook) return;
    const body = JSON.stringify(slackBody(delivery.message));
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'converge',
      'x-converge-event': delivery.message.kind,
      'x-converge-delivery': delivery.id,
    };
    if (webhook.secretArn) {
      let secret: Uint8Array;
      try {
        secret = await this.secret(webhook.secretArn);
      } catch (error) {
        // Never sent unsigned when a secret is configured.
        throw new DeliveryError(`cannot read the webhook secret ${webhook.secretArn}: ${describeAwsError(error)}`, true);
      }
      headers[SIGNATURE_HEADER.toLowerCase()] = signBody(body, secret);
    }
    const response = await (this.options.fetch ?? fetch)(webhook.url, { method: 'POST', headers, body, redirect: 'error', signal: this.attemptSignal() });
    // The answer is not read beyond its status (nor ever logged).
    await response.body?.cancel().catch(() => undefined);
    if (!response.ok) throw new DeliveryError(`the webhook answered HTTP ${response.status}`, response.status >= 500 || response.status === 429 || response.status === 408);
  }

  private secret(arn: string): Promise<Uint8Array> {
    let value = this.secrets.get(arn);
    if (!value) {
      value = (async () => {
        const { createSecretsClient, getSecretValue } = await import('../aws/secrets.js');
        let client = this.secretClients.get(arn);
        if (!client) {
          client = createSecretsClient(arn, this.options.timeoutMs ?? 5_000);
          this.secretClients.set(arn, client);
        }
        return getSecretValue(client, arn, this.attemptSignal());
      })();
      this.secrets.set(arn, value);
      value.catch(() => this.secrets.delete(arn));
    }
    return value;
  }

  /** One line, without the webhook URL's path or query. */
  private describe(error: unknown, delivery: Delivery): string {
    let text: string;
    if (error instanceof Error && error.name === 'TypeError' && error.cause instanceof Error) {
      const cause = error.cause as Error & { code?: string };
      text = `${error.message}: ${cause.code ?? cause.message}`;
    } else if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
      text = `no answer within ${this.options.timeoutMs ?? 5_000} ms`;
    } else {
      text = describeAwsError(error);
    }
    const url = delivery.targets.webhook?.url;
    if (url) {
      text = text.split(url).join(webhookOrigin(url));
      try {
        const { pathname, search } = new URL(url);
        if (pathname.length > 1) text = text.split(pathname).join('/…');
        if (search) text = text.split(search).join('');
      } catch {
        // an unparseable URL was refused by validation already
      }
    }
    return text;
  }

  private logError(target: Target, destination: string, delivery: Delivery, error: string, attempts: number): void {
    const now = Date.now();
    const seen = this.errorLog.get(target);
    if (seen && now - seen.at < ERROR_LOG_INTERVAL_MS) {
      seen.suppressed += 1;
      return;
    }
    this.errorLog.set(target, { at: now, suppressed: 0 });
    this.options.log.warn(
      { event: 'notify-error', target, destination, kind: delivery.message.kind, attempts, error: boundedErrorMessage(error), ...(seen && seen.suppressed > 0 ? { suppressed: seen.suppressed } : {}) },
      `notification not sent (${target} ${destination}) after ${attempts} attempt(s): ${boundedErrorMessage(error)}`,
    );
  }
}
