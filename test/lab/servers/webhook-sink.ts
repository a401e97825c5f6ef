/**
 * A webhook receiver for lab tests: dsrd's alert targets POST to it (from a
 * director namespace, so it runs inside a lab host), and it prints each event
 * as one JSON line {"event":{...}} for the test to read, answering 204.
 *
 *   webhook-sink.ts --addr 198.18.0.30 [--port 8099]
 *
 * Prints "READY" once listening.
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { addr: { type: 'string' }, port: { type: 'string', default: '8099' } },
});
if (!values.addr) throw new Error('--addr is required');

const server = createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (d: string) => {
    // Bounded: an alert event is small; anything larger is not one of dsrd's.
    if (body.length < 65_536) body += d;
  });
  req.on('end', () => {
    try {
      console.log(JSON.stringify({ event: JSON.parse(body) }));
    } catch {
      console.log(JSON.stringify({ unparsed: body.slice(0, 200) }));
    }
    res.writeHead(204).end();
  });
});
server.listen(Number(values.port), values.addr, () => console.log('READY'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
