import test from 'ava';
import { buildBpf } from '../../../forwarder/bpf-build.ts';
import { productBpfObject } from '../../../lab/dataplane/bench-bpf.ts';
import { BenchBpfObject, mapUpdate, testRun, XDP_PASS, XDP_TX } from '../../../lab/dataplane/bpf.ts';
import { buildFrame4, macBytes } from '../../../lab/dataplane/frames.ts';
import { requireRoot } from '../../../lab/require-root.ts';

const skip = requireRoot();
const rootTest = skip ? test.skip : test;
if (skip) {
  test('floor_macswap fixtures need root', (t) => {
    t.log(`skipped: ${skip}`);
    t.pass();
  });
}

const DIRECTOR = '02:d5:00:00:01:00';
const CLIENT = '02:d5:00:00:02:00';
const REAL = '02:d5:00:00:03:00';

function withFloor(fn: (progFd: number, setMac: (mac: string) => void) => void): void {
  buildBpf({ quiet: true });
  const obj = new BenchBpfObject(productBpfObject('floor_macswap'));
  try {
    fn(obj.progFd('floor_macswap'), (mac) => {
      const v = Buffer.alloc(8);
      macBytes(mac).copy(v);
      mapUpdate(obj.mapFd('floor_rs_mac'), Buffer.alloc(4), v);
    });
  } finally {
    obj.close();
  }
}

const frame = () =>
  buildFrame4({
    srcMac: CLIENT,
    dstMac: DIRECTOR,
    srcIp: '198.18.0.10',
    dstIp: '198.18.0.200',
    proto: 'tcp',
    sport: 1234,
    dport: 80,
  });

rootTest('floor: source MAC becomes ours, destination the real server, XDP_TX; the rest untouched', (t) => {
  withFloor((fd, setMac) => {
    setMac(REAL);
    const input = frame();
    const out = Buffer.alloc(input.length + 64);
    const r = testRun(fd, { data: input, repeat: 1, dataOut: out });
    t.is(r.retval, XDP_TX);
    t.is(r.dataSizeOut, input.length);
    t.deepEqual(out.subarray(0, 6), macBytes(REAL));
    t.deepEqual(out.subarray(6, 12), macBytes(DIRECTOR));
    t.deepEqual(out.subarray(12, input.length), input.subarray(12));
  });
});

rootTest('floor: passes frames to the kernel while no real server MAC is set (all zero)', (t) => {
  withFloor((fd, setMac) => {
    t.is(testRun(fd, { data: frame(), repeat: 1 }).retval, XDP_PASS);
    setMac(REAL);
    t.is(testRun(fd, { data: frame(), repeat: 1 }).retval, XDP_TX);
    setMac('00:00:00:00:00:00');
    t.is(testRun(fd, { data: frame(), repeat: 1 }).retval, XDP_PASS);
  });
});
