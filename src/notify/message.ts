/**
 * Notification messages: one per event, or one summary when a cycle brings many at once; the
 * Slack-compatible webhook body, its HMAC signature, and the SNS form.
 */
import { createHmac } from 'node:crypto';
import type { NotificationEvent } from './events.js';

/** More events than this in one cycle become one summary message. */
export const SUMMARY_THRESHOLD = 10;
/** Lines a summary lists before it counts the rest. */
const SUMMARY_LINES = 20;

export interface OutgoingMessage {
  environment: string;
  /** `drift`, `conflict`, ... or `summary`. */
  kind: string;
  severity: 'warning' | 'error' | 'ok';
  title: string;
  /** Plain text lines. */
  lines: string[];
  events: NotificationEvent[];
}

const SEVERITY_RANK = { ok: 0, warning: 1, error: 2 } as const;

const TITLES: Record<string, string> = {
  drift: 'drift',
  'deployment-failed': 'deployment failed',
  'invalid-desired-state': 'invalid desired state',
  conflict: 'conflict',
  recovered: 'recovered',
};

function titleOf(environment: string, event: NotificationEvent): string {
  const what = event.resource ? `${event.resource.kind}/${event.resource.name}` : event.revision ? `revision ${event.revision}` : 'desired state';
  return `converge ${environment}: ${TITLES[event.kind] ?? event.kind}: ${what}`;
}

/** One message per event, or one summary for more than `threshold` events. */
export function composeMessages(environment: string, events: readonly NotificationEvent[], threshold = SUMMARY_THRESHOLD): OutgoingMessage[] {
  if (events.length === 0) return [];
  if (events.length <= threshold) {
    return events.map((event) => ({ environment, kind: event.kind, severity: event.severity, title: titleOf(environment, event), lines: [event.message], events: [event] }));
  }
  const counts = new Map<string, number>();
  for (const event of events) counts.set(event.kind, (counts.get(event.kind) ?? 0) + 1);
  const breakdown = [...counts].map(([kind, n]) => `${n} ${TITLES[kind] ?? kind}`).join(', ');
  const severity = events.reduce<OutgoingMessage['severity']>((worst, e) => (SEVERITY_RANK[e.severity] > SEVERITY_RANK[worst] ? e.severity : worst), 'ok');
  const lines = events.slice(0, SUMMARY_LINES).map((e) => e.message);
  if (events.length > SUMMARY_LINES) lines.push(`… and ${events.length - SUMMARY_LINES} more (see the daemon's logs and \`converge status\`)`);
  return [{ environment, kind: 'summary', severity, title: `converge ${environment}: ${events.length} events (${breakdown})`, lines, events: [...events] }];
}

/** Slack's mrkdwn control characters. */
const escapeSlack = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const cut = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

const ICON = { ok: ':white_check_mark:', warning: ':warning:', error: ':rotating_light:' } as const;

export interface SlackBody {
  text: string;
  blocks: (
    | { type: 'header'; text: { type: 'plain_text'; text: string } }
    | { type: 'section'; text: { type: 'mrkdwn'; text: string } }
    | { type: 'context'; elements: { type: 'mrkdwn'; text: string }[] }
  )[];
}

/** The webhook body: Slack-compatible (`text` is the fallback, `blocks` the layout; Slack's limits respected). */
export function slackBody(message: OutgoingMessage): SlackBody {
  const text = cut(`${ICON[message.severity]} ${message.title}\n${message.lines.join('\n')}`, 3000);
  return {
    text: escapeSlack(text),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: cut(message.title, 150) } },
      { type: 'section', text: { type: 'mrkdwn', text: cut(message.lines.map((line) => `${message.lines.length > 1 ? '• ' : ''}${escapeSlack(line)}`).join('\n'), 3000) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `${ICON[message.severity]} converge · environment *${escapeSlack(message.environment)}* · ${message.kind}` }] },
    ],
  };
}

/** The header that signs a webhook body. */
export const SIGNATURE_HEADER = 'X-Converge-Signature-256';

/** `sha256=<hex HMAC-SHA256 of the exact body bytes, keyed with the secret>`. */
export function signBody(body: string, secret: Uint8Array | string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** What an SNS topic gets: a plain-text message, an ASCII subject within SNS's 100 characters, and filterable attributes. */
export function snsMessage(message: OutgoingMessage): { subject: string; message: string; attributes: Record<string, string> } {
  // SNS: printable ASCII, no line breaks, under 100 characters.
  const ascii = message.title.replace(/[^\x20-\x7e]/g, '?');
  const subject = ascii.length <= 99 ? ascii : `${ascii.slice(0, 96)}...`;
  return {
    subject,
    message: `${message.title}\n\n${message.lines.join('\n')}\n`,
    attributes: { 'converge.environment': message.environment, 'converge.event': message.kind, 'converge.severity': message.severity },
  };
}
