/**
 * A webhook receiver for alert lab tests, run inside a lab host so dsrd's alert targets reach it
 * over the lab network. It prints every request as one JSON line
 *   {"at": <epoch ms>, "from": "<client address>", "hung": <bool>, "headers": {...}, "body": "<raw>"}
 * with the raw body (signatures are over the exact bytes) and the webhook-* headers, and answers
 * per its mode, which a line on stdin switches:
 *   ok    answer 200 (the default)
 *   hang  accept and read the request, never answer (the connection stays open until the sender
 *         gives up)
 *
 *   webhook-receiver.ts --addr 198.18.0.30 [--port 8099]
 *
 * Prints "READY" once listening and "MODE <mode>" after each switch.
 */
import { createServer, type ServerResponse } from 'node:http';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { addr: { type: 'string' }, port: { type: 'string', default: '8099' } },
});
if (!values.addr) throw new Error('--addr is required');

let mode: 'ok' | 'hang' = 'ok';
/** Hung responses, kept so they are not collected; ended when the receiver exits. */
const hung = new Set<ServerResponse>();

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (d: Buffer) => {
    // Bounded: an alert delivery is small; anything larger is not one of dsrd's.
    size += d.length;
    if (size <= 262_144) chunks.push(d);
  });
  req.on('end', () => {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (k.startsWith('webhook-') || k === 'content-type') headers[k] = String(v);
    }
    const line = {
      at: Date.now(),
      from: req.socket.remoteAddress ?? '',
      hung: mode === 'hang',
      path: req.url ?? '',
      headers,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    console.log(JSON.stringify(line));
    if (mode === 'hang') {
      hung.add(res);
      res.on('close', () => hung.delete(res));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
});

createInterface({ input: process.stdin }).on('line', (l) => {
  const m = l.trim();
  if (m === 'ok' || m === 'hang') {
    mode = m;
    console.log(`MODE ${mode}`);
  }
});

server.listen(Number(values.port), values.addr, () => console.log('READY'));
process.on('SIGTERM', () => {
  for (const r of hung) r.destroy();
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
