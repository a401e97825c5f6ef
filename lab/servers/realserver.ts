/**
 * The services a lab real server runs, each reporting which real server
 * answered:
 *   HTTP  :80    body "<name>\n" (and header x-real-server)
 *   TCP   :7000  greets "HELLO <name>\n", then echoes every byte
 *   UDP   :7001  answers each datagram with "<name> <payload>"
 *
 * UDP sockets are bound to each address explicitly (own and VIPs): a
 * wildcard-bound UDP socket would answer from the routing-chosen source, not
 * from the VIP the client asked, and the client would drop the reply. TCP has
 * no such problem: an accepted socket answers from the address it was sent to.
 *
 * Usage: realserver.ts --name rs1 --addr 198.18.0.100 --addr 198.18.0.200 ...
 * Prints "READY <name>" once every socket listens.
 */
import { createSocket, type Socket } from 'node:dgram';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, isIPv6 } from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    name: { type: 'string' },
    addr: { type: 'string', multiple: true, default: [] },
    http: { type: 'string', default: '80' },
    tcp: { type: 'string', default: '7000' },
    udp: { type: 'string', default: '7001' },
  },
});
const name = values.name ?? 'rs';

const http = createHttpServer((req, res) => {
  req.resume();
  const body = `${name}\n`;
  res.writeHead(200, { 'content-type': 'text/plain', 'x-real-server': name, 'content-length': body.length });
  res.end(body);
});

const tcp = createTcpServer((sock) => {
  sock.setNoDelay(true);
  sock.on('error', () => sock.destroy());
  sock.write(`HELLO ${name}\n`);
  sock.pipe(sock);
});

const udpSockets: Socket[] = [];
function bindUdp(addr: string): Promise<void> {
  const s = createSocket({ type: isIPv6(addr) ? 'udp6' : 'udp4' });
  udpSockets.push(s);
  s.on('message', (msg, rinfo) => {
    s.send(Buffer.concat([Buffer.from(`${name} `), msg]), rinfo.port, rinfo.address);
  });
  s.on('error', (e) => console.error(`udp ${addr}: ${e.message}`));
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind(Number(values.udp), addr, () => resolve());
  });
}

function listen(server: ReturnType<typeof createTcpServer>, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: '::', ipv6Only: false }, () => resolve());
  });
}

await listen(http as unknown as ReturnType<typeof createTcpServer>, Number(values.http));
await listen(tcp, Number(values.tcp));
for (const a of values.addr) await bindUdp(a);
console.log(`READY ${name}`);

const shutdown = () => {
  http.close();
  tcp.close();
  for (const s of udpSockets) s.close();
  process.exit(0);
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
