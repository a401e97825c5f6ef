/** ADDRESS:PORT: the config's metrics.listen and dsrctl's CLIENT:PORT / VIP:PORT/PROTO. */
import test from 'ava';
import { formatEndpoint, parseEndpoint } from '../../../core/net/endpoint.ts';

test('ADDRESS:PORT parses, the address in canonical form', (t) => {
  t.deepEqual(parseEndpoint('127.0.0.1:9779'), { address: '127.0.0.1', port: 9779 });
  t.deepEqual(parseEndpoint('[::1]:9779'), { address: '::1', port: 9779 });
  t.deepEqual(parseEndpoint('[2001:2:0::1]:80'), { address: '2001:2::1', port: 80 });
  t.deepEqual(parseEndpoint('198.18.0.200:0'), { address: '198.18.0.200', port: 0 }); // port 0: "every port"
  t.deepEqual(parseEndpoint('198.18.0.200:65535'), { address: '198.18.0.200', port: 65535 });
});

test('malformed ADDRESS:PORT says what is wrong', (t) => {
  const cases: Array<[string, RegExp]> = [
    ['::1:9779', /is not ADDRESS:PORT \(IPv6 in brackets/],
    ['127.0.0.1', /is not ADDRESS:PORT/],
    ['198.18.0.10', /is not ADDRESS:PORT/],
    ['[127.0.0.1]:80', /only IPv6 addresses go in brackets: "\[127\.0\.0\.1\]:80"/],
    ['127.0.0.1:65536', /port 65536 is above 65535/],
    ['localhost:80', /"localhost" is not an IP address/],
    ['[fe80::1%eth0]:80', /"fe80::1%eth0" is not an IP address/],
    ['127.0.0.1:123456', /is not ADDRESS:PORT/],
  ];
  for (const [text, want] of cases) {
    const r = parseEndpoint(text);
    t.is(typeof r, 'string', text);
    t.regex(String(r), want, text);
  }
});

test('format puts IPv6 in brackets and parses back', (t) => {
  for (const ep of [
    { address: '198.18.0.1', port: 9779 },
    { address: '2001:2::1', port: 80 },
  ]) {
    t.deepEqual(parseEndpoint(formatEndpoint(ep)), ep);
  }
  t.is(formatEndpoint({ address: '::1', port: 9779 }), '[::1]:9779');
});
