/**
 * Many clients, each its own source address, asking a VIP's HTTP service
 * several times, each request on a new TCP connection (so only persistence,
 * not a connection entry, keeps a client on one real server). The lab's real
 * servers answer with their name in the x-real-server header.
 *
 *   pinned-clients.ts --addr VIP [--port 80] [--count 3] --from SRC [--from SRC ...]
 *
 * Prints one JSON line: {"byClient":{"198.18.0.30":["r1","r1","r1"],...},"errors":[...]}.
 */
import { request } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    addr: { type: 'string' },
    port: { type: 'string', default: '80' },
    count: { type: 'string', default: '3' },
    from: { type: 'string', multiple: true, default: [] },
  },
});
if (!values.addr) throw new Error('--addr is required');
const addr = values.addr;
const port = Number(values.port);
const count = Number(values.count);

function ask(from: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: addr, port, path: '/', localAddress: from, agent: false, timeout: 3000 },
      (res) => {
        res.resume();
        res.on('end', () => resolve(String(res.headers['x-real-server'] ?? '?')));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

const byClient: Record<string, string[]> = {};
const errors: string[] = [];
await Promise.all(
  values.from.map(async (from) => {
    byClient[from] = [];
    for (let i = 0; i < count; i++) {
      try {
        byClient[from].push(await ask(from));
      } catch (e) {
        errors.push(`${from}: ${(e as Error).message}`);
      }
    }
  }),
);
console.log(JSON.stringify({ byClient, errors }));
