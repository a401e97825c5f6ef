/**
 * Election scenarios as small scripts, run over the pure state machine and the real wire codec on
 * a deterministic in-memory network, producing a readable transcript to compare with an expected
 * one. Periodic adverts are not listed; transitions, effects, alerts, drops, handover messages and
 * resign adverts are.
 *
 *   interval 100                 advert interval of the nodes declared after it (ms)
 *   delay 1                      one-way network delay (ms)
 *   node A id=1 prio=200 [nopreempt] [preempt_delay=500] [nosync] [fp=7] [track=link:50] [track=fw:fault]
 *   at T start A B | stop A | crash A | restart A [nostate] | pause A | resume A
 *   at T forget A B              A's replay guard forgets B (operator action)
 *   at T resign A | release-hold A | set-priority A priority=50
 *   at T set-condition A name=link failing=true | set-sync-ready A ready=false
 *   at T set-fingerprint A fingerprint=9 | request-handover A target=B force=false
 *                                A's control inputs (failover/election/input.ts) as data: the kind,
 *                                then the fields; target= names a node, fingerprint=N is 16 bytes of N
 *   at T partition A | B C | cut A > B | heal
 *   at T forge A > B | forge-keyid A > B | replay A > B | truncate A > B | garbage A > B HEX
 *   at T capture A > B | inject-captured A > B | hold A > B | release-held A > B
 *   at T clock A +3600000        step A's wall clock
 *   at T monoback A 50           A's monotonic clock jumps 50 ms back (a broken clock source)
 *   at T expect A=master B=backup A.master=B A.prio=150 A.hold=true B.drops.bad-mac=1 A.peer.B.lost=false
 *   end T
 */
import { Keyring } from '../../core/auth/keyring.ts';
import { isDsrError } from '../../core/errors.ts';
import type { ControlInput } from '../../failover/election/input.ts';
import type { ElectionAlert } from '../../failover/election/types.ts';
import { encodeElectionPacket } from '../../failover/wire/encode.ts';
import { seededRng } from '../../lab/rng.ts';
import { SimCluster } from '../sim/sim-cluster.ts';
import type { NodeEvent, NodeSpec, SimNode } from '../sim/sim-node.ts';

const FORGER = new Keyring([{ id: 1, secret: Buffer.alloc(32, 0x99) }], 1);
const FORGER_KEY_9 = new Keyring([{ id: 9, secret: Buffer.alloc(32, 0x99) }], 9);

const fmtTime = (t: number) => String(Math.round(t * 10) / 10).padStart(7);

function parseNode(words: string[], intervalMs: number): NodeSpec {
  const [name, ...rest] = words;
  const kv = new Map<string, string>();
  const flags = new Set<string>();
  const tracked: NodeSpec['tracked'] & object = [];
  for (const w of rest) {
    const eq = w.indexOf('=');
    if (eq < 0) flags.add(w);
    else if (w.startsWith('track=')) {
      const [cond, effect] = w.slice(6).split(':');
      (tracked as unknown[]).push(
        effect === 'fault' ? { name: cond, fault: true } : { name: cond, weight: Number(effect) },
      );
    } else kv.set(w.slice(0, eq), w.slice(eq + 1));
  }
  return {
    name,
    nodeId: Number(kv.get('id')),
    priority: Number(kv.get('prio')),
    intervalMs: Number(kv.get('interval') ?? intervalMs),
    preempt: !flags.has('nopreempt'),
    preemptDelayMs: kv.has('preempt_delay') ? Number(kv.get('preempt_delay')) : undefined,
    syncReady: !flags.has('nosync'),
    tracked,
    fingerprint: new Uint8Array(16).fill(Number(kv.get('fp') ?? 7)),
    wallOffsetMs: Number(kv.get('wall') ?? 0),
  };
}

export function runScenario(script: string): string {
  const lines: string[] = [];
  const specs: NodeSpec[] = [];
  const commands: { at: number; words: string[] }[] = [];
  let interval = 100;
  let delay = 1;
  let end = 0;
  for (const raw of script.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    const words = line.split(/\s+/);
    if (words[0] === 'interval') interval = Number(words[1]);
    else if (words[0] === 'delay') delay = Number(words[1]);
    else if (words[0] === 'node') specs.push(parseNode(words.slice(1), interval));
    else if (words[0] === 'end') end = Number(words[1]);
    else if (words[0] === 'at') {
      commands.push({ at: Number(words[1]), words: words.slice(2) });
      end = Math.max(end, Number(words[1]));
    } else throw new Error(`scenario: cannot parse "${line}"`);
  }

  const cluster: SimCluster = new SimCluster({
    nodes: specs,
    rng: seededRng(1),
    network: { delayMs: [delay, delay], loss: 0, duplicate: 0 },
    onEvent: (now, node, event) => {
      const text = describe(event, cluster);
      if (text !== null) lines.push(`${fmtTime(now)} ${node.name} ${text}`);
    },
  });
  const captured = new Map<string, Buffer>();
  for (const { at, words } of commands) {
    cluster.at(at, () => {
      lines.push(`${fmtTime(at)} > ${words.join(' ')}`);
      const result = execute(cluster, words, captured);
      if (result !== null) lines.push(`${fmtTime(at)}   ${result}`);
    });
  }
  cluster.runUntil(end);
  return lines.join('\n');
}

function describe(event: NodeEvent, cluster: SimCluster): string | null {
  const name = (id: number) => cluster.nameOf(id);
  switch (event.type) {
    case 'transition':
      return `${event.transition.from} -> ${event.transition.to} (${event.transition.reason})`;
    case 'drop':
      return `drop ${event.reason} (from ${event.from})`;
    case 'send': {
      const m = event.message;
      if (m.kind === 'advert') return m.priority === 0 && m.state === 'master' ? 'send advert prio=0' : null;
      if (m.kind === 'handover-request') return `send handover-request -> ${name(m.to)}`;
      return `send handover-reject -> ${name(m.to)} (${m.reason})`;
    }
    case 'effect': {
      const e = event.effect;
      if (e.type !== 'alert') return `effect ${e.type}`;
      return describeAlert(e.alert, name);
    }
  }
}

function describeAlert(alert: ElectionAlert, name: (id: number) => string): string | null {
  if (alert.kind === 'peer-discovered') return null;
  const parts = [`alert ${alert.kind}`];
  for (const [key, value] of Object.entries(alert)) {
    if (key === 'kind') continue;
    const shown =
      key === 'peer' || key === 'winner' || key === 'target' || key === 'from'
        ? name(value as number)
        : key === 'ours' || key === 'theirs'
          ? String(value).slice(0, 4)
          : typeof value === 'number'
            ? Math.round(value * 10) / 10
            : value;
    parts.push(`${key}=${shown}`);
  }
  return parts.join(' ');
}

function link(words: string[]): [string, string] {
  if (words[2] !== '>') throw new Error(`expected "X > Y" in ${words.join(' ')}`);
  return [words[1], words[3]];
}

function execute(cluster: SimCluster, words: string[], captured: Map<string, Buffer>): string | null {
  const now = cluster.now;
  const [cmd] = words;
  const node = (i: number) => cluster.node(words[i]);
  const net = cluster.network;
  try {
    switch (cmd) {
      case 'start':
        for (const n of words.slice(1)) cluster.node(n).boot(now);
        return null;
      case 'restart':
        node(1).crash();
        node(1).boot(now, words[2] !== 'nostate');
        return null;
      case 'forget':
        node(1).decoder.guard.forget(node(2).spec.nodeId);
        return null;
      case 'crash':
        node(1).crash();
        return null;
      case 'stop':
        node(1).input(now, { kind: 'shutdown' });
        node(1).crash();
        return null;
      case 'pause':
        node(1).pause();
        return null;
      case 'resume':
        node(1).resume(now);
        return null;
      case 'resign':
      case 'release-hold':
      case 'set-priority':
      case 'set-condition':
      case 'set-sync-ready':
      case 'set-fingerprint':
      case 'request-handover':
        node(1).input(now, controlInput(cluster, cmd, words.slice(2)));
        return null;
      case 'partition': {
        const bar = words.indexOf('|');
        net.partition([words.slice(1, bar), words.slice(bar + 1)]);
        return null;
      }
      case 'cut':
        net.cut(...link(words));
        return null;
      case 'heal':
        net.heal();
        return null;
      case 'forge':
      case 'forge-keyid': {
        const [from, to] = link(words);
        const sender = cluster.node(from);
        const message = { kind: 'advert' as const, ...statusOf(sender), priority: 254 };
        const stamp = { session: sender.encoder.sessionId, seq: 1n << 40n, timestampMs: sender.wall(now) };
        net.inject(
          now,
          from,
          to,
          encodeElectionPacket(message, stamp, cmd === 'forge' ? FORGER : FORGER_KEY_9),
        );
        return null;
      }
      case 'replay':
      case 'truncate':
      case 'garbage': {
        const [from, to] = link(words);
        const last = net.lastSent.get(`${from}>${to}`);
        if (last === undefined) return 'nothing sent on that link yet';
        const bytes =
          cmd === 'replay'
            ? last
            : cmd === 'truncate'
              ? last.subarray(0, 40)
              : Buffer.from(words[4] ?? '00', 'hex');
        net.inject(now, from, to, bytes);
        return null;
      }
      case 'capture': {
        const [from, to] = link(words);
        captured.set(`${from}>${to}`, net.lastSent.get(`${from}>${to}`)!);
        return null;
      }
      case 'inject-captured': {
        const [from, to] = link(words);
        net.inject(now, from, to, captured.get(`${from}>${to}`)!);
        return null;
      }
      case 'hold':
        net.hold(...link(words));
        return null;
      case 'release-held': {
        const [from, to] = link(words);
        return `released ${net.releaseHeld(now, from, to)} packet(s)`;
      }
      case 'clock':
        node(1).wallOffsetMs += Number(words[2]);
        return null;
      case 'monoback':
        node(1).monoOffsetMs -= Number(words[2]);
        return null;
      case 'expect':
        return expectations(cluster, words.slice(1));
      default:
        throw new Error(`scenario: unknown command ${cmd}`);
    }
  } catch (error) {
    if (isDsrError(error)) return `refused: ${error.message}`;
    throw error;
  }
}

/** `kind` and `key=value` fields: true/false are booleans, digits numbers, target a node's id. */
function controlInput(cluster: SimCluster, kind: string, fields: string[]): ControlInput {
  const input: Record<string, unknown> = { kind };
  for (const field of fields) {
    const [key, text] = field.split('=');
    if (text === undefined) throw new Error(`scenario: expected key=value, not "${field}"`);
    input[key] =
      key === 'target'
        ? cluster.node(text).spec.nodeId
        : key === 'fingerprint'
          ? new Uint8Array(16).fill(Number(text))
          : text === 'true' || text === 'false'
            ? text === 'true'
            : /^\d+$/.test(text)
              ? Number(text)
              : text;
  }
  return input as unknown as ControlInput;
}

function statusOf(node: SimNode) {
  const s = node.group.status(0);
  return {
    groupId: s.groupId,
    from: s.nodeId,
    priority: s.effectivePriority,
    state: 'master' as const,
    intervalMs: s.advertIntervalMs,
    fingerprint: new Uint8Array(Buffer.from(s.fingerprint, 'hex')),
    syncReady: s.syncReady,
  };
}

function expectations(cluster: SimCluster, checks: string[]): string {
  const failures: string[] = [];
  for (const check of checks) {
    const [path, expected] = check.split('=');
    const actual = lookup(cluster, path);
    if (actual !== expected) failures.push(`${path} is ${actual}`);
  }
  return failures.length === 0 ? 'ok' : `FAILED: ${failures.join(', ')}`;
}

function lookup(cluster: SimCluster, path: string): string {
  const [name, field, ...rest] = path.split('.');
  const node = cluster.node(name);
  if (node.life === 'down') return 'down';
  const s = node.group.status(node.mono(cluster.now));
  switch (field) {
    case undefined:
      return s.state;
    case 'master':
      return s.masterId === null ? 'none' : cluster.nameOf(s.masterId);
    case 'prio':
      return String(s.effectivePriority);
    case 'hold':
      return String(s.preemptHold);
    case 'drops':
      return String(s.drops[rest[0] as keyof typeof s.drops] ?? 0);
    case 'peer': {
      const peer = s.peers.find((p) => p.nodeId === cluster.node(rest[0]).spec.nodeId);
      if (peer === undefined) return 'unknown';
      if (rest[1] === 'lost') return String(peer.lost);
      if (rest[1] === 'fp') return peer.fingerprintMatch ? 'match' : 'mismatch';
      return 'unknown-field';
    }
    default:
      return `unknown field ${field}`;
  }
}

/** Transcript lines with whitespace runs collapsed, so expected text can be laid out freely. */
export function normalizeTranscript(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim().replace(/\s+/g, ' '))
    .filter((line) => line !== '');
}
