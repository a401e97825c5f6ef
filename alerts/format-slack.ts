/**
 * Slack incoming-webhook payload: `text` (the notification fallback) plus Block
 * Kit `blocks`. Slack limits: header text 150 chars, section text 3000, at most
 * 10 fields of 2000 each; mrkdwn needs &, < and > escaped.
 */
import { describeEvent } from './event-text.ts';
import type { AlertEvent, Severity } from './events.ts';

interface PlainText {
  type: 'plain_text';
  text: string;
  emoji?: boolean;
}
interface Mrkdwn {
  type: 'mrkdwn';
  text: string;
}
export type SlackBlock =
  | { type: 'header'; text: PlainText }
  | { type: 'section'; text: Mrkdwn; fields?: Mrkdwn[] }
  | { type: 'context'; elements: Mrkdwn[] };

export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
}

const ICON: Record<Severity, string> = {
  critical: ':red_circle:',
  warning: ':large_orange_circle:',
  info: ':large_blue_circle:',
};

export function escapeMrkdwn(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

function facts(e: AlertEvent): Array<[string, string]> {
  const out: Array<[string, string]> = [
    ['Node', e.node],
    ['Severity', e.severity],
  ];
  const r = e as Record<string, unknown>;
  const add = (label: string, key: string) => {
    if (typeof r[key] === 'string') out.push([label, r[key] as string]);
  };
  add('Group', 'group');
  add('Service', 'service');
  add('Real server', 'realServer');
  add('Peer', 'peer');
  return out;
}

export function slackMessage(e: AlertEvent): SlackMessage {
  const { title, detail } = describeEvent(e);
  const when = new Date(e.time).toISOString();
  return {
    text: clip(`${ICON[e.severity]} ${title}`, 3000),
    blocks: [
      {
        type: 'header',
        text: { type: 'plain_text', text: clip(`${ICON[e.severity]} ${title}`, 150), emoji: true },
      },
      {
        type: 'section',
        text: { type: 'mrkdwn', text: clip(escapeMrkdwn(detail), 3000) },
        fields: facts(e)
          .slice(0, 10)
          .map(([k, v]) => ({ type: 'mrkdwn', text: clip(`*${k}*\n${escapeMrkdwn(v)}`, 2000) })),
      },
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: escapeMrkdwn(`${e.type} · ${e.id} · ${when}`) }],
      },
    ],
  };
}

export function slackRequest(e: AlertEvent): { body: string; headers: Record<string, string> } {
  return { body: JSON.stringify(slackMessage(e)), headers: { 'content-type': 'application/json' } };
}
